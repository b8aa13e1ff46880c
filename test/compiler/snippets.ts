/**
 * Program bodies with known results, run both in the VM (lowering tests) and in the kernel
 * through BPF_PROG_TEST_RUN (kernel tests): the same object must be accepted by the verifier
 * and compute the same value in both.
 */

/** A raw tracepoint program body, its top-level declarations, its u64 arguments and its result. */
export interface Snippet {
  name: string;
  body: string;
  decls?: string;
  args?: Array<bigint | number>;
  /** The program's return value as an int. */
  want: number;
}

/** Declarations shared with the lowering tests: structs, local functions; bodies: a log2 loop, ifs, a switch. */
export const POINT = 'interface Point { x: u32; y: u32 }\ninterface Box { a: Point; b: Point; tag: u8; wide: u64 }';
export const FUNCS = `interface Acc { sum: u64; n: u32 }
function sq(x: u32): u32 { return x * x; }
function add(acc: Acc, v: u64): void {
  acc.sum += v;
  acc.n++;
  if (acc.n > 100) acc.n = 100;
}
function clamp(v: u32, lo: u32, hi: u32): u32 {
  if (v < lo) return lo;
  if (v > hi) return hi;
  return v;
}`;
export const LOG2 = 'let d = ctx.args[0]; let slot: u32 = 0; for (let i = 0; i < 63; i++) { if (d <= 1n) break; d >>= 1n; slot++; } return slot;';
export const IFS = `const a = u32(ctx.args[0]); const b = u32(ctx.args[1]);
    if (a > 5 && b > 5) return 1;
    if (a > 5 || b > 5) { if (!(a > 5)) return 2; return 3; }
    return a === b ? 4 : 5;`;
export const SWITCH = `const a = u32(ctx.args[0]); let x: u32 = 0;
    switch (a) {
      case 1: x = 10; break;
      case 2: x = 20;
      case 3: x += 1; break;
      default: x = 99;
    }
    return x;`;
const MAPS = 'const counts = new HashMap<u32, u64>({ maxEntries: 16 });\ninterface Stat { hits: u64; last: u32 }\nconst stats = new HashMap<u32, Stat>({ maxEntries: 16 });\nconst q = new Queue<u32>({ maxEntries: 4 });';

export const SNIPPETS: Snippet[] = [
  { name: 'add', body: 'const a = u32(ctx.args[0]); const b = u32(ctx.args[1]); return a + b;', args: [3, 4], want: 7 },
  { name: 'u32 wraps', body: 'const a = u32(ctx.args[0]); return u32(a * 2);', args: [0x80000001], want: 2 },
  { name: 'u8 wraps', body: 'const a: u8 = u8(ctx.args[0]); const b: u8 = a + 1; return b;', args: [255], want: 0 },
  { name: 'i8 wraps', body: 'const a: i8 = i8(ctx.args[0]); const b: i8 = a + 1; return b;', args: [127], want: -128 },
  { name: 'u64 arithmetic', body: 'let x: u64 = ctx.args[0]; x = x * 3n + 1n; return u32(x >> 1n);', args: [5], want: 8 },
  { name: 'signed division', body: 'const a = i32(ctx.args[0]); return a / 2;', args: [-7n], want: -3 },
  { name: 'signed remainder', body: 'const a = i32(ctx.args[0]); return a % 4;', args: [-7n], want: -3 },
  { name: 'arithmetic shift', body: 'const a = i32(ctx.args[0]); return a >> 1;', args: [-8n], want: -4 },
  { name: 'logical shift', body: 'const a = i32(ctx.args[0]); return a >>> 28;', args: [-8n], want: 15 },
  { name: 'i64 division', body: 'const a = i64(ctx.args[0]); return i32(a / 3n);', args: [-9n], want: -3 },
  { name: 'division by zero', body: 'const a = u32(ctx.args[0]); const b = u32(ctx.args[1]); return a / b;', args: [7, 0], want: 0 },
  { name: 'unsigned compare', body: 'const a = u32(ctx.args[0]); return a < 0x80000000 ? 1 : 0;', args: [0xffffffff], want: 0 },
  { name: 'signed compare', body: 'const a = i64(ctx.args[0]); return a < -5n ? 1 : 0;', args: [-6n], want: 1 },
  { name: 'if/else 1', body: IFS, args: [6, 6], want: 1 },
  { name: 'if/else 2', body: IFS, args: [1, 6], want: 2 },
  { name: 'if/else 3', body: IFS, args: [6, 1], want: 3 },
  { name: 'if/else 4', body: IFS, args: [2, 2], want: 4 },
  { name: 'value of ||', body: 'const a = u32(ctx.args[0]); const x = a || 9; return x;', args: [0], want: 9 },
  { name: 'compound assignment', body: 'let a: i32 = 0; a++; a++; ++a; a--; a *= 5; a -= 1; a <<= 2; return a;', want: 36 },
  { name: 'switch 2', body: SWITCH, args: [2], want: 21 },
  { name: 'switch default', body: SWITCH, args: [7], want: 99 },
  { name: 'for', body: 'let s: u32 = 0; for (let i: u32 = 0; i < 10; i++) s += i; return s;', want: 45 },
  { name: 'for down', body: 'let s: u32 = 0; for (let i = 10; i > 0; i -= 2) s += i; return s;', want: 30 },
  { name: 'break/continue', body: 'let s: u32 = 0; for (let i = 0; i < 10; i++) { if (i === 3) continue; if (i === 6) break; s += i; } return s;', want: 12 },
  { name: 'while', body: 'let i: u32 = 0; let s: u32 = 0; while (i < 5) { s += 2; i++; } return s;', want: 10 },
  { name: 'do-while', body: 'let i: u32 = 0; do { i++; } while (i < 7); return i;', want: 7 },
  { name: 'for-of', body: 'const a: FixedArray<u32, 4> = [1, 2, 3, 4]; let s: u32 = 0; for (const x of a) s += x; return s;', want: 10 },
  { name: 'boundedLoop', body: 'let n: u32 = 0; boundedLoop(100, (i) => { n += i; if (i === 4) return true; }); return n;', want: 10 },
  { name: 'labelled continue', body: 'let s: u32 = 0; outer: for (let i = 0; i < 4; i++) { for (let j = 0; j < 4; j++) { if (j === 2) continue outer; s++; } } return s;', want: 8 },
  { name: 'log2 loop', body: LOG2, args: [1000n], want: 9 },
  { name: 'log2 loop large', body: LOG2, args: [1n << 40n], want: 40 },
  { name: 'struct literal', body: 'const p: Point = { x: u32(ctx.args[0]), y: 4 }; return p.x * p.y;', decls: POINT, args: [3], want: 12 },
  { name: 'nested structs', body: 'const b: Box = { a: { x: 1, y: 2 }, b: { x: 3, y: 4 }, tag: 9, wide: 5n }; b.a.x += 10; return b.a.x + b.b.y + b.tag + u32(b.wide);', decls: POINT, want: 29 },
  { name: 'array index', body: 'const arr: FixedArray<u32, 8> = zero(); arr[3] = 7; arr[u32(ctx.args[0])] = 5; return arr[3] + arr[4];', args: [4], want: 12 },
  { name: 'array out of range', body: 'const arr: FixedArray<u32, 8> = zero(); arr[u32(ctx.args[0])] = 5; return arr[u32(ctx.args[0])];', args: [100], want: 0 },
  { name: 'sign extension', body: 'const a = i32(ctx.args[0]); const b = i64(a); return b < 0n ? 1 : 0;', args: [0xffffffff], want: 1 },
  { name: 'byte swap', body: 'const x = u32(ctx.args[0]); return be32(x);', args: [0x11223344], want: 0x44332211 },
  { name: 'functions', body: 'const a: Acc = zero(); add(a, 5n); add(a, ctx.args[0]); return u32(a.sum) + a.n + sq(3) + clamp(u32(ctx.args[1]), 10, 20);', decls: FUNCS, args: [7, 50], want: 43 },
  { name: 'maps', body: `const k = u32(ctx.args[0]);
    counts.increment(k);
    counts.increment(k, 10n);
    const s = stats.lookup(k);
    if (!s) { stats.update(k, { hits: 1n, last: k }); } else { s.hits += 1n; s.last = 99; }
    const c = counts.lookup(k) ?? 0n;
    q.push(5);
    const v = q.pop();
    return u32(c) + (v ?? 0);`, decls: MAPS, args: [1], want: 16 },
  { name: 'strings', body: "const c: Comm = zero(); strCopy(c, 'bash'); const d: Comm = zero(); strCopy(d, 'bash'); return (strEq(c, 'bash') ? 1 : 0) + (strEq(c, d) ? 2 : 0) + (strEq(c, 'bas') ? 4 : 0);", want: 3 },
  { name: 'register pressure', body: `const a = u32(ctx.args[0]); const b = a + 1; const c = a + 2; const d = a + 3; const e = a + 4;
    const f = a + 5; const g = a + 6; const h = a + 7; const i = a + 8; const j = a + 9;
    const t = bpf.ktimeNs();
    const k = bpf.smpProcessorId();
    return a + b + c + d + e + f + g + h + i + j + u32(t & 0n) + (k & 0);`, args: [100], want: 1045 },
];

/**
 * A correct spin-locked update (an XDP program: tracing programs cannot take spin locks), run in
 * the VM (lowering tests) and in the kernel: the clock is read and the other value looked up
 * before the lock; under it, field writes, an inlined function, a branch and a bounded loop;
 * a lock taken and released in each loop iteration; an early return that unlocks first.
 * Each run adds 2 + 3 (under the first lock) and 2 (in the loop) to `n`, sets `at` (and `big`
 * to `n` + 2 once that passes 10), and returns XDP_PASS (2), or XDP_DROP (1) once `n` passes 20:
 * three runs return 2, 2, 1 and leave n = 21, big = 16.
 */
export const LOCKED_UPDATE = `import { xdp, HashMap, XdpAction, helpers as bpf, license, zero, type u32, type u64, type SpinLock } from 'tsbpf/lang';

export interface Counter { lock: SpinLock; n: u64; at: u64; big: u64 }
export const counters = new HashMap<u32, Counter>({ maxEntries: 4 });

function twice(x: u64): u64 { return x * 2n; }

export const locked = xdp(() => {
  const now = bpf.ktimeNs();
  let c = counters.lookup(1);
  if (!c) {
    const zeroed: Counter = zero();
    counters.update(1, zeroed);
    c = counters.lookup(1);
    if (!c) return XdpAction.ABORTED;
  }
  bpf.spinLock(c.lock);
  c.n += twice(1n);
  c.at = now;
  if (c.n > 10n) c.big = c.n;
  for (let i = 0; i < 3; i++) c.n += 1n;
  bpf.spinUnlock(c.lock);
  for (let i = 0; i < 2; i++) {
    bpf.spinLock(c.lock);
    c.n += 1n;
    bpf.spinUnlock(c.lock);
  }
  bpf.spinLock(c.lock);
  if (c.n > 20n) {
    bpf.spinUnlock(c.lock);
    return XdpAction.DROP;
  }
  bpf.spinUnlock(c.lock);
  return XdpAction.PASS;
});

license('GPL');
`;
