/**
 * Each lowering construct, compiled and run in the userspace VM (root-less, no kernel): the
 * programs are raw tracepoint programs whose inputs are the u64 arguments of the context.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer, type MapModel } from '../../src/vm/index.js';
import { argsContext, build, le, readLe, ret, run, runObject, wrap } from './support.js';
import { FUNCS, IFS, LOCKED_UPDATE, LOG2, POINT, SNIPPETS, SWITCH } from './snippets.js';

const r = (body: string, args: Array<bigint | number> = [], decls = ''): number => ret(run(body, args, decls));

test('arithmetic wraps at the width of its type', () => {
  assert.equal(r('const a = u32(ctx.args[0]); const b = u32(ctx.args[1]); return a + b;', [3, 4]), 7);
  assert.equal(r('const a = u32(ctx.args[0]); return u32(a * 2);', [0x80000001]), 2);
  assert.equal(r('const a: u8 = u8(ctx.args[0]); const b: u8 = a + 1; return b;', [255]), 0);
  assert.equal(r('const a: i8 = i8(ctx.args[0]); const b: i8 = a + 1; return b;', [127]), -128);
  assert.equal(r('const a: u16 = u16(ctx.args[0]); return a << 4;', [0xfff]), 0xfff0);
  assert.equal(r('let x: u64 = ctx.args[0]; x = x * 3n + 1n; return u32(x >> 1n);', [5]), 8);
  assert.equal(r('const a = u64(0xffffffffffffffffn); return u32(a + 2n);'), 1);
});

test('division, remainder and shifts follow the signedness of the type', () => {
  assert.equal(r('const a = i32(ctx.args[0]); return a / 2;', [-7n]), -3);
  assert.equal(r('const a = i32(ctx.args[0]); return a % 4;', [-7n]), -3);
  assert.equal(r('const a = u32(ctx.args[0]); return a / 2;', [0xfffffff0]), 0x7ffffff8);
  assert.equal(r('const a = i32(ctx.args[0]); return a >> 1;', [-8n]), -4);
  assert.equal(r('const a = i32(ctx.args[0]); return a >>> 28;', [-8n]), 15);
  assert.equal(r('const a = u32(ctx.args[0]); return a >> 28;', [0xf0000000]), 15);
  assert.equal(r('const a = i64(ctx.args[0]); return i32(a / 3n);', [-9n]), -3);
  assert.equal(r('const a = u32(ctx.args[0]); const b = u32(ctx.args[1]); return a / b;', [7, 0]), 0, 'x / 0 is 0 in BPF');
});

test('comparisons: unsigned and signed, 32 and 64 bits', () => {
  assert.equal(r('const a = u32(ctx.args[0]); return a > 10 ? 1 : 2;', [11]), 1);
  assert.equal(r('const a = i32(ctx.args[0]); return a < 0 ? 1 : 0;', [-1n]), 1);
  assert.equal(r('const a = u32(ctx.args[0]); return a < 0x80000000 ? 1 : 0;', [0xffffffff]), 0);
  assert.equal(r('const a = ctx.args[0]; return a > 0xffffffffn ? 1 : 0;', [1n << 40n]), 1);
  assert.equal(r('const a = i64(ctx.args[0]); return a < -5n ? 1 : 0;', [-6n]), 1);
  assert.equal(r('const a = u32(ctx.args[0]); const b = a === 5; return b ? 7 : 8;', [5]), 7);
});

test('if/else, early return, && || ! and ternaries', () => {
  assert.equal(r(IFS, [6, 6]), 1);
  assert.equal(r(IFS, [1, 6]), 2);
  assert.equal(r(IFS, [6, 1]), 3);
  assert.equal(r(IFS, [2, 2]), 4);
  assert.equal(r(IFS, [1, 2]), 5);
  assert.equal(r('const a = u32(ctx.args[0]); const x = a || 9; return x;', [0]), 9);
  assert.equal(r('const a = u32(ctx.args[0]); const x = a && 9; return x;', [3]), 9);
  assert.equal(r('const a = u32(ctx.args[0]); const t: bool = a > 3; return !t ? 1 : 0;', [2]), 1);
});

test('compound assignment and ++/--', () => {
  assert.equal(r('let a: u32 = 10; a += 5; a -= 3; a *= 2; a /= 4; a %= 4; a <<= 3; a >>= 1; a |= 1; a &= 7; a ^= 2; return a;'), ((((((((10 + 5 - 3) * 2) / 4) | 0) % 4 << 3) >> 1) | 1) & 7) ^ 2);
  assert.equal(r('let a: i32 = 0; a++; a++; ++a; a--; return a;'), 2);
  assert.equal(r('let a: u32 = 5; const b = a++; return b * 10 + a;'), 56);
});

test('switch with fallthrough, default and break', () => {
  assert.equal(r(SWITCH, [1]), 10);
  assert.equal(r(SWITCH, [2]), 21);
  assert.equal(r(SWITCH, [3]), 1);
  assert.equal(r(SWITCH, [7]), 99);
});

test('bounded loops: for, while, do-while, for-of, break and continue, boundedLoop', () => {
  assert.equal(r('let s: u32 = 0; for (let i: u32 = 0; i < 10; i++) s += i; return s;'), 45);
  assert.equal(r('let s: u32 = 0; for (let i = 10; i > 0; i -= 2) s += i; return s;'), 30);
  assert.equal(r('let s: u32 = 0; for (let i = 0; i < 10; i++) { if (i === 3) continue; if (i === 6) break; s += i; } return s;'), 0 + 1 + 2 + 4 + 5);
  assert.equal(r('let i: u32 = 0; let s: u32 = 0; while (i < 5) { s += 2; i++; } return s;'), 10);
  assert.equal(r('let i: u32 = 0; do { i++; } while (i < 7); return i;'), 7);
  assert.equal(r('const a: FixedArray<u32, 4> = [1, 2, 3, 4]; let s: u32 = 0; for (const x of a) s += x; return s;'), 10);
  assert.equal(r('let n: u32 = 0; boundedLoop(100, (i) => { n += i; if (i === 4) return true; }); return n;'), 10);
  assert.equal(r('let s: u32 = 0; outer: for (let i = 0; i < 4; i++) { for (let j = 0; j < 4; j++) { if (j === 2) continue outer; s++; } } return s;'), 8);
  for (const [v, want] of [[0n, 0], [2n, 1], [1000n, 9], [1n << 40n, 40]] as const) assert.equal(r(LOG2, [v]), want);
});

test('struct and array locals on the stack, object literals, nested fields', () => {
  assert.equal(r('const p: Point = { x: u32(ctx.args[0]), y: 4 }; return p.x * p.y;', [3], POINT), 12);
  assert.equal(r('const b: Box = { a: { x: 1, y: 2 }, b: { x: 3, y: 4 }, tag: 9, wide: 5n }; b.a.x += 10; return b.a.x + b.b.y + b.tag + u32(b.wide);', [], POINT), 11 + 4 + 9 + 5);
  assert.equal(r('const arr: FixedArray<u32, 8> = zero(); arr[3] = 7; arr[u32(ctx.args[0])] = 5; return arr[3] + arr[4];', [4]), 12);
  assert.equal(r('const arr: FixedArray<u32, 8> = zero(); arr[u32(ctx.args[0])] = 5; return arr[u32(ctx.args[0])];', [100]), 0, 'out-of-range writes are dropped, reads give 0');
  assert.equal(r('let p: Point = zero(); p.y = 3; const q = p; q.y += 1; return p.y;', [], POINT), 4, 'struct variables are references, as objects in TypeScript');
});

test('conversions: truncation, sign extension, bool', () => {
  assert.equal(r('return u8(ctx.args[0]);', [0x1ff]), 0xff);
  assert.equal(r('return i16(ctx.args[0]);', [0xffff]), -1);
  assert.equal(r('const a = i32(ctx.args[0]); const b = i64(a); return b < 0n ? 1 : 0;', [0xffffffff]), 1);
  assert.equal(r('const a = i32(ctx.args[0]); return u32(u64(a) >> 32n);', [0xffffffff]), 0xffffffff | 0);
  assert.equal(r('const a = u32(ctx.args[0]); return u32(u64(a) >> 31n);', [0xffffffff]), 1);
  assert.equal(r('const t: bool = u32(ctx.args[0]) > 1; return u32(t);', [5]), 1);
  assert.equal(r('return be16(0x1234);'), 0x3412);
  assert.equal(r('const x = u32(ctx.args[0]); return be32(x);', [0x11223344]), 0x44332211);
});

test('local functions: inlined one-liners and BPF-to-BPF calls with struct arguments', () => {
  const src = wrap('const a: Acc = zero(); add(a, 5n); add(a, ctx.args[0]); return u32(a.sum) + a.n + sq(3) + clamp(u32(ctx.args[1]), 10, 20);', FUNCS);
  const out = build(src);
  const prog = out.spec.programs[0]!;
  assert.deepEqual(prog.functions.map((f) => f.name), ['prog', 'add', 'clamp'], 'add and clamp are subprograms, sq is inlined');
  assert.equal(ret(runObject(out, 'prog', argsContext([7, 50]))), 12 + 2 + 9 + 20);
  assert.equal(ret(runObject(out, 'prog', argsContext([7, 1]))), 12 + 2 + 9 + 10);
});

test('spin locks: a correct locked update compiles and runs (field writes, inlined functions, loops and branches under the lock)', () => {
  const out = build(LOCKED_UPDATE);
  const calls = out.spec.programs[0]!.instructions.filter((i) => i.code === 0x85).map((i) => i.imm);
  assert.deepEqual(calls.filter((id) => id === 93).length, calls.filter((id) => id === 94).length - 1, 'three locks; four unlocks (the early return unlocks the last one too)');
  let maps: Map<string, MapModel> | undefined;
  const verdicts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = runObject(out, 'locked', new Uint8Array(32), maps ? { maps } : {});
    maps = r.maps;
    verdicts.push(ret(r));
  }
  assert.deepEqual(verdicts, [2, 2, 1]);
  const value = maps!.get('counters')!.lookup(le(1, 4))!;
  assert.equal(readLe(value, 8, 8), 21n, 'n');
  assert.equal(readLe(value, 24, 8), 16n, 'big');
});

test('globals (.bss, .data) and constants (.rodata) user space can set', () => {
  const decls = 'let total: u64 = 0n;\nlet seen: u32 = 7;\nexport const factor = constant<u32>(3);\nconst TABLE: FixedArray<u32, 3> = [10, 20, 30];';
  const out = build(wrap('total += ctx.args[0]; seen++; return factor * TABLE[u32(ctx.args[1])];', decls));
  const sections = out.spec.maps.map((m) => m.name).sort();
  assert.deepEqual(sections, ['.bss', '.data', '.rodata']);
  const run1 = runObject(out, 'prog', argsContext([5, 2]));
  assert.equal(ret(run1), 90);
  const run2 = runObject(out, 'prog', argsContext([6, 0]), { maps: run1.maps });
  assert.equal(ret(run2), 30);
  assert.equal(readLe(run2.maps.get('.bss')!.lookup(le(0, 4)), 0, 8), 11n);
  assert.equal(readLe(run2.maps.get('.data')!.lookup(le(0, 4)), 0, 4), 9n);
  const rodata = out.spec.maps.find((m) => m.name === '.rodata')!;
  assert.ok(rodata.variables.some((v) => v.name === 'factor'), 'the constant is a named .rodata variable');
});

test('hash map: lookup with a NULL check, update, delete, increment, ?? defaults', () => {
  const decls = 'const counts = new HashMap<u32, u64>({ maxEntries: 16 });\ninterface Stat { hits: u64; last: u32 }\nconst stats = new HashMap<u32, Stat>({ maxEntries: 16 });';
  const body = `const k = u32(ctx.args[0]);
    counts.increment(k);
    counts.increment(k, 10n);
    const s = stats.lookup(k);
    if (!s) {
      stats.update(k, { hits: 1n, last: k });
    } else {
      s.hits += 1n;
      s.last = 99;
    }
    const c = counts.lookup(k) ?? 0n;
    if (k === 3) counts.delete(k);
    return u32(c);`;
  const out = build(wrap(body, decls));
  const a = runObject(out, 'prog', argsContext([1]));
  assert.equal(ret(a), 11);
  const b = runObject(out, 'prog', argsContext([1]), { maps: a.maps });
  assert.equal(ret(b), 22);
  const stat = b.maps.get('stats')!.lookup(le(1, 4))!;
  assert.equal(readLe(stat, 0, 8), 2n);
  assert.equal(readLe(stat, 8, 4), 99n);
  runObject(out, 'prog', argsContext([3]), { maps: a.maps });
  assert.equal(a.maps.get('counts')!.lookup(le(3, 4)), undefined, 'deleted');
});

test('array maps, per-CPU maps and struct keys', () => {
  const decls = 'interface Key { pid: u32; cpu: u16; flag: u8 }\nconst hist = new ArrayMap<u64>({ maxEntries: 4 });\nconst byKey = new HashMap<Key, u32>({ maxEntries: 8 });\nconst pc = new PerCpuArrayMap<u64>({ maxEntries: 1 });';
  const body = `hist.increment(u32(ctx.args[0]));
    hist.increment(9);
    const key: Key = { pid: 42, cpu: 1, flag: 1 };
    byKey.update(key, 5);
    const v = pc.lookup(0);
    if (v !== undefined) pc.increment(0, 2n);
    const got = byKey.lookup(key);
    return got ?? 0;`;
  const out = build(wrap(body, decls));
  const x = runObject(out, 'prog', argsContext([2]));
  assert.equal(ret(x), 5);
  assert.equal(readLe(x.maps.get('hist')!.lookup(le(2, 4)), 0, 8), 1n);
  const key = new Uint8Array(8);
  key.set(le(42, 4), 0);
  key.set(le(1, 2), 4);
  key[6] = 1;
  assert.equal(readLe(x.maps.get('byKey')!.lookup(key), 0, 4), 5n, 'struct keys are zero-padded');
});

test('ring buffer records: reserve, fill, submit; output', () => {
  const decls = 'interface Ev { pid: u32; comm: Comm; value: u64 }\nconst events = new RingBuf<Ev>({ size: 4096 });';
  const body = `const e = events.reserve();
    if (!e) return 1;
    e.pid = bpf.pid();
    bpf.getCurrentComm(e.comm);
    e.value = ctx.args[0];
    events.submit(e);
    const f: Ev = { pid: 1, comm: zero(), value: 2n };
    strCopy(f.comm, 'hello');
    events.output(f);
    return 0;`;
  const out = build(wrap(body, decls));
  const x = runObject(out, 'prog', argsContext([77]), { env: { pid: 5, tgid: 4321, comm: 'cat' } });
  assert.equal(ret(x), 0);
  const recs = (x.maps.get('events') as RingBuffer).consume();
  assert.equal(recs.length, 2);
  assert.equal(readLe(recs[0], 0, 4), 4321n);
  assert.equal(new TextDecoder().decode(recs[0]!.subarray(4, 7)), 'cat');
  assert.equal(readLe(recs[0], 24, 8), 77n);
  assert.equal(new TextDecoder().decode(recs[1]!.subarray(4, 10)), 'hello\0');
});

test('queue and stack: push, pop and peek give maybe-missing values', () => {
  const decls = 'const q = new Queue<u32>({ maxEntries: 4 });\nconst st = new Stack<u32>({ maxEntries: 4 });';
  const body = `q.push(1); q.push(2); st.push(1); st.push(2);
    const a = q.pop(); const b = st.pop();
    let x: u32 = 0;
    if (a !== undefined) x += a * 10;
    if (b !== undefined) x += b;
    const next = q.peek();
    q.pop();
    const none = q.pop();
    return x + (next ?? 0) * 100 + (none ?? 7) * 1000;`;
  assert.equal(r(body, [], decls), 10 + 2 + 200 + 7000);
});

test('C strings: strEq with literals and buffers, strCopy, byteAt, comm()', () => {
  const env = { env: { comm: 'bash', pid: 1, tgid: 1 } };
  const x = (body: string) => ret(run(body, [], '', env));
  assert.equal(x("const c = bpf.comm(); return strEq(c, 'bash') ? 1 : 0;"), 1);
  assert.equal(x("const c = bpf.comm(); return strEq(c, 'bas') ? 1 : 0;"), 0);
  assert.equal(x("const c = bpf.comm(); return strEq(c, 'bashx') ? 1 : 0;"), 0);
  assert.equal(x("const c = bpf.comm(); const d: Comm = zero(); strCopy(d, 'bash'); return strEq(c, d) ? 1 : 0;"), 1);
  assert.equal(x("const c = bpf.comm(); if (strEq(c, 'zsh') || strEq(c, 'bash')) return 3; return 4;"), 3);
  assert.equal(x('const c = bpf.comm(); return byteAt(c, 1);'), 'a'.charCodeAt(0));
  assert.equal(x("const s: CharArray<8> = zero(); strCopy(s, 'abcdefghij'); return u32(byteAt(s, 6)) * 1000 + byteAt(s, 7);"), 'g'.charCodeAt(0) * 1000, 'truncated, always NUL-terminated');
  assert.equal(x("const s: CharArray<4> = zero(); strCopy(s, bpf.comm()); return u32(byteAt(s, 2)) * 1000 + byteAt(s, 3);"), 's'.charCodeAt(0) * 1000);
});

test('printk formats its arguments into the trace', () => {
  const out = run("bpf.printk('pid %d comm %s x=%llx\\n', bpf.pid(), bpf.comm(), ctx.args[0]); return 0;", [255], '', { env: { tgid: 321, comm: 'node' } });
  assert.deepEqual(out.trace, ['pid 321 comm node x=ff\n']);
});

test('helpers: pid/tid/uid/gid, ktime, prandom, cpu', () => {
  const env = { env: { pid: 11, tgid: 22, uid: 33, gid: 44, clock: () => 1000n } };
  assert.equal(ret(run('return bpf.pid() * 1000 + bpf.tid();', [], '', env)), 22011);
  assert.equal(ret(run('return bpf.uid() * 1000 + bpf.gid();', [], '', env)), 33044);
  assert.equal(ret(run('return u32(bpf.ktimeNs());', [], '', env)), 1000);
  assert.equal(ret(run('return bpf.smpProcessorId();', [], '', env)), 0);
});

test('every program compiles to an object readObject reads back with func and line info', () => {
  const out = build(wrap('return 0;'));
  const p = out.spec.programs[0]!;
  assert.equal(p.section, 'raw_tracepoint/test');
  assert.ok(p.lineInfos.length > 0 && p.lineInfos[0]!.fileName === 'test.ts');
  assert.equal(p.funcInfos.length, 1);
  assert.equal(out.spec.license, 'GPL');
});

test('register pressure: values live across helper calls are spilled and reloaded', () => {
  // Ten values live across calls: only r6-r9 survive a call, so six are spilled.
  const body = `const a = u32(ctx.args[0]); const b = a + 1; const c = a + 2; const d = a + 3; const e = a + 4;
    const f = a + 5; const g = a + 6; const h = a + 7; const i = a + 8; const j = a + 9;
    const t = bpf.ktimeNs();
    const k = bpf.smpProcessorId();
    return a + b + c + d + e + f + g + h + i + j + u32(t) + k;`;
  const out = build(wrap(body));
  const x = runObject(out, 'prog', argsContext([100]), { env: { clock: () => 5n } });
  assert.equal(ret(x), 100 * 10 + 45 + 5 + 0);
  const stores = out.spec.programs[0]!.instructions.filter((i) => i.code === 0x7b && i.dst === 10).length;
  assert.ok(stores >= 4, `spills to the stack (${stores} 8-byte stores)`);
});

test('shared snippets give their results in the VM (the kernel tests run them too)', () => {
  for (const s of SNIPPETS) assert.equal(ret(run(s.body, s.args ?? [], s.decls ?? '')), s.want, s.name);
});
