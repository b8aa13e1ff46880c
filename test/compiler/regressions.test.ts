/**
 * Compiler bugs found by the differential test (test/compiler-diff) and by review, each pinned
 * down root-less in the VM (or at its compile error) so that it stays fixed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer } from '../../src/vm/index.js';
import { argsContext, build, expectError, le, ret, run, runObject, wrap } from './support.js';

const r0 = (body: string, args: Array<bigint | number> = [], decls = ''): bigint => run(body, args, decls).r0;

test('i64()/u64() of a 64-bit value keep all 64 bits (a plain move, not a 32-bit sign extension)', () => {
  const x = 0x1234_5678_9abc_def0n;
  assert.equal(r0('return u32(u64(i64(ctx.args[0])) >> 32n);', [x]), 0x1234_5678n);
  assert.equal(r0('const a = i64(ctx.args[0]); const b = i64(a); return u32(u64(b) >> 32n);', [x]), 0x1234_5678n);
  assert.equal(r0('const a = u64(ctx.args[0]); const b = u64(a); return u32(b >> 32n);', [x]), 0x1234_5678n);
  // A negative i64 whose low half looks positive: sign-extending the low 32 bits made it positive.
  assert.equal(r0('const a = i64(ctx.args[0]); return u64(a) === ctx.args[0] && i64(u64(a)) < 0n ? 1 : 0;', [-(1n << 40n) + 5n]), 1n);
  // Narrower values still widen as C does: signed ones sign-extend, unsigned ones zero-extend.
  assert.equal(r0('return u32(u64(i64(i32(ctx.args[0]))) >> 32n);', [0xffff_ffffn]), 0xffff_ffffn);
  assert.equal(r0('return u32(u64(u32(ctx.args[0])) >> 32n);', [0xffff_ffffn]), 0n);
});

test('map update()/push() flags: UpdateFlags members (numbers), literals of either kind, unsigned values', () => {
  const decls = 'const m = new HashMap<u32, u64>({ maxEntries: 4 });\nconst q = new Queue<u32>({ maxEntries: 1 });';
  const body = `const k = u32(ctx.args[0]);
    const f = u32(ctx.args[1]);
    const wide = ctx.args[1];
    const a = m.update(k, 1n, UpdateFlags.NOEXIST);
    const b = m.update(k, 2n, UpdateFlags.NOEXIST);
    const c = m.update(k, 3n, f as UpdateFlags);
    const d = m.update(k, 4n, wide);
    const e = m.update(k, 5n, 2n);
    const p = q.push(k, 0);
    const s = q.push(k, UpdateFlags.EXIST);
    return a === 0n && b === -17n && c === 0n && d === 0n && e === 0n && p === 0n && s === 0n ? 1 : 0;`;
  const out = build(wrap(body, decls));
  const x = runObject(out, 'prog', argsContext([7, 2 /* BPF_EXIST */]));
  assert.equal(ret(x), 1);
  assert.deepEqual(x.maps.get('m')!.lookup(le(7, 4)), le(5, 8));
  expectError(wrap('const k = u32(ctx.args[0]); return i32(q.push(k, /*!*/i32(ctx.args[1])));', decls), /flags are unsigned, not i32/, /u32\(x\)/);
  expectError(wrap('const k = u32(ctx.args[0]); return i32(q.push(k, /*!*/-1));', decls), /flags cannot be negative/);
});

test('a ring buffer record reserved in a loop body and released on every path compiles and works', () => {
  const decls = 'interface E { i: u32 }\nconst rb = new RingBuf<E>({ size: 4096 });';
  const body = `const n = u32(ctx.args[0]);
    for (let i: u32 = 0; i < 8; i++) {
      if (i >= n) break;
      const e = rb.reserve();
      if (!e) continue;
      e.i = i;
      if ((i & 1) === 1) rb.discard(e);
      else rb.submit(e);
    }
    return 0;`;
  const x = run(body, [5], decls);
  const recs = (x.maps.get('rb') as RingBuffer).consume();
  assert.deepEqual(recs.map((rec) => rec[0]), [0, 2, 4]);
});

test('a ring buffer record not released by the end of a loop iteration is a compile error', () => {
  const decls = 'interface E { i: u32 }\nconst rb = new RingBuf<E>({ size: 4096 });';
  expectError(wrap('for (let i = 0; i < 4; i++) { const e = rb.reserve(); if (!e) continue; if (ctx.args[0] > 1n) rb.submit(e); /*!*/}\nreturn 0;', decls), /'e' \(reserved on line \d+\) is not submitted or discarded on every path through the loop body/, /rb\.submit\(e\)/);
  expectError(wrap('let i: u32 = 0; while (i < 4) { const e = rb.reserve(); i++; /*!*/}\nreturn 0;', decls), /every path through the loop body/);
  expectError(wrap('boundedLoop(4, (i) => { const e = rb.reserve(); /*!*/});\nreturn 0;', decls), /every path through the loop body/);
  expectError(wrap('for (let i = 0; i < 4; i++) { const e = rb.reserve(); if (!e) continue; if (ctx.args[0] > 1n) break; rb.submit(e); }\n/*!*/return 0;', decls), /not submitted or discarded on every path to this return/);
  // Reserved before the loop, released in it: the second iteration would release it again.
  expectError(wrap('const e = rb.reserve(); if (!e) return 0; for (let i = 0; i < 4; i++) { rb.submit(e); /*!*/}\nreturn 0;', decls), /before the loop\) is submitted or discarded in the loop/, /after the loop/);
});

test('narrowing follows a checked value through a plain copy (const and let), for lookups and packetAt', () => {
  const decls = 'const m = new HashMap<u32, u64>({ maxEntries: 4 });';
  const body = `const k = u32(ctx.args[0]);
    m.update(k, 40n);
    const v = m.lookup(k);
    if (!v) return 0;
    const w = v;
    let x = w;
    return u32(w + x + 2n);`;
  assert.equal(ret(run(body, [1], decls)), 82);
  // Checking the copy narrows the original too (a const copy of a const is the same value).
  assert.equal(ret(run('const v = m.lookup(1); const w = v; if (w === undefined) return 7; return u32(v);', [], decls)), 7);
  expectError(wrap('const v = m.lookup(1); if (!v) return 0; let w = v; w = m.lookup(2); return u32(/*!*/w);', decls), /'w' may be undefined here/);
  build(`import { xdp, packetAt, XdpAction, license, type u8, type u16 } from 'tsbpf/lang';
interface Eth { dst: u8; src: u8; proto: u16 }
export const p = xdp((ctx) => {
  const eth = packetAt<Eth>(ctx, 0);
  if (!eth) return XdpAction.PASS;
  const copy = eth;
  return copy.proto === 8 ? XdpAction.DROP : XdpAction.PASS;
});
license('GPL');
`);
  const rb = 'interface E { i: u32 }\nconst rb = new RingBuf<E>({ size: 4096 });';
  expectError(wrap('const e = rb.reserve(); if (!e) return 0; let f = /*!*/e; rb.submit(f); return 0;', rb), /second variable holding the ring buffer record 'e'/);
});

test('shifts of 8- and 16-bit values give 32-bit results, as C promotes them to int', () => {
  assert.equal(ret(run('const a = u8(ctx.args[0]); const b = a << 8; return b;', [0xff])), 0xff00);
  assert.equal(ret(run('const a = u16(ctx.args[0]); return (a << 16) >>> 8;', [0xffff])), 0xffff00);
  assert.equal(ret(run('const a = i8(ctx.args[0]); const b: i32 = a << 8; return b;', [0x80])), -32768);
  assert.equal(ret(run('const a = u8(ctx.args[0]); const b: u32 = a >> 1; return b;', [0xfe])), 0x7f);
  // Compound assignment stores at the variable's width, as C's a <<= n does.
  assert.equal(ret(run('let a: u8 = u8(ctx.args[0]); a <<= 4; return a;', [0xff])), 0xf0);
  expectError(wrap('const a = u8(ctx.args[0]); const b: u8 = /*!*/a << 1; return b;'), /a u32 is not a u8/, /u8\(x\)/);
});

test('bpf.comm() zeroes its 16-byte buffer before bpf_get_current_comm (kernels that do not pad leave stack bytes after the NUL)', () => {
  const out = build(wrap('counts.increment(bpf.comm());\nreturn 0;', 'const counts = new HashMap<Comm, u64>({ maxEntries: 4 });'));
  const insns = out.spec.programs.find((p) => p.name === 'prog')!.instructions;
  const call = insns.findIndex((i) => i.code === 0x85 && i.imm === 16);
  assert.ok(call > 0, 'a call to bpf_get_current_comm');
  // The buffer's address: r1 at the call, copied from a register set to r10 plus a constant.
  const fpOffset = new Map<number, number>([[10, 0]]);
  for (const i of insns.slice(0, call)) {
    if (i.code === 0xbf) fpOffset.has(i.src) ? fpOffset.set(i.dst, fpOffset.get(i.src)!) : fpOffset.delete(i.dst); // rD = rS
    else if (i.code === 0x07 && fpOffset.has(i.dst)) fpOffset.set(i.dst, fpOffset.get(i.dst)! + i.imm); // rD += K
    else if ([0x00, 0x01, 0x04, 0x07].includes(i.code & 0x07)) fpOffset.delete(i.dst); // any other write of rD (LD, LDX, ALU, ALU64)
  }
  const buffer = fpOffset.get(1);
  assert.ok(buffer !== undefined, 'r1 points into the stack');
  const zeroed = new Set<number>();
  for (const i of insns.slice(0, call)) if (i.code === 0x7a && i.dst === 10 && i.imm === 0) for (let b = 0; b < 8; b++) zeroed.add(i.off + b);
  for (let b = 0; b < 16; b++) assert.ok(zeroed.has(buffer + b), `stack byte ${buffer + b} is zeroed before the call`);
});
