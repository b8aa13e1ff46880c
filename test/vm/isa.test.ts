/** Instruction semantics the conformance suite does not reach: Linux extensions and corners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUbpf } from '../../src/asm/ubpf.js';
import { Vm } from '../../src/vm/vm.js';
import { ENGINES, run } from './util.js';

for (const engine of ENGINES) {
  test(`[${engine}] may_goto takes its branch once the frame's loop budget is spent`, () => {
    const src = 'mov %r0, 0\nloop: may_goto done\nadd %r0, 1\nja loop\ndone: exit';
    assert.equal(new Vm(parseUbpf(src), { engine, maxLoops: 1000 }).run(), 1000n);
    // Each frame has its own counter.
    const nested = 'mov %r6, 0\ncall local f\nadd %r6, %r0\ncall local f\nadd %r6, %r0\nmov %r0, %r6\nexit\nf: mov %r0, 0\nl: may_goto d\nadd %r0, 1\nja l\nd: exit';
    assert.equal(new Vm(parseUbpf(nested), { engine, maxLoops: 10 }).run(), 20n);
  });

  test(`[${engine}] gotol (ja32) jumps with a 32-bit offset`, () => {
    assert.equal(run('mov %r0, 1\ngotol +1\nmov %r0, 2\nexit', engine), 1n);
  });

  test(`[${engine}] legacy ld_abs/ld_ind read the packet big-endian; out of bounds ends the program with 0`, () => {
    const packet = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a]);
    assert.equal(run('ldabsw 0\nexit', engine, { packet }), 0x12345678n);
    assert.equal(run('ldabsh 3\nexit', engine, { packet }), 0x789an);
    assert.equal(run('mov %r3, 2\nldindb %r3, 2\nexit', engine, { packet }), 0x9an);
    assert.equal(run('mov %r0, 7\nldabsw 2\nmov %r0, 1\nexit', engine, { packet }), 0n);
    assert.equal(run('mov %r3, -1\nldindb %r3, 0\nmov %r0, 1\nexit', engine, { packet }), 0n);
    // Without a packet option the context is the packet; a failure in a subprogram ends it all.
    assert.equal(run('call local f\nmov %r0, 5\nexit\nf: ldabsb 9\nexit', engine, { context: packet }), 0n);
  });

  test(`[${engine}] sign-extending loads, load-acquire and store-release`, () => {
    const ctx = Uint8Array.from([0x80, 0xff, 0xfe, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    assert.equal(run('ldxsb %r0, [%r1]\nexit', engine, { context: ctx }), 0xffffffffffffff80n);
    assert.equal(run('ldxsh %r0, [%r1+1]\nexit', engine, { context: ctx }), 0xfffffffffffffeffn);
    assert.equal(run('ldxsw %r0, [%r1+2]\nexit', engine, { context: ctx }), 0x7ffffffen);
    assert.equal(run('ldacqh %r0, [%r1+0]\nexit', engine, { context: ctx }), 0xff80n);
    assert.equal(run('ldacqdw %r0, [%r1+2]\nexit', engine, { context: ctx }), 0x7ffffffen);
    assert.equal(run('lddw %r2, 0x1122334455667788\nstreldw [%r1+2], %r2\nstrelb [%r1+0], %r2\nldxdw %r0, [%r1+2]\nexit', engine, { context: ctx }), 0x1122334455667788n);
    assert.equal(ctx[0], 0x88);
  });

  test(`[${engine}] 32-bit atomics zero-extend what they fetch; cmpxchg compares the low half`, () => {
    const ctx = new Uint8Array(8);
    const src = `
      stw [%r1], -1
      lddw %r2, 0xaaaaaaaa00000001
      lock fetch add32 [%r1], %r2        # r2 = 0xffffffff, mem = 0
      mov %r6, %r2
      lddw %r0, 0x1234567800000000
      mov %r3, 9
      lock cmpxchg32 [%r1], %r3          # low half of r0 (0) matches: mem = 9, r0 = 0
      mov %r7, %r0
      ldxw %r0, [%r1]
      lsh %r0, 8
      add %r0, %r7
      add %r0, %r6
      exit`;
    assert.equal(run(src, engine, { context: ctx }), 0xffffffffn + (9n << 8n));
  });

  test(`[${engine}] 64-bit arithmetic corners`, () => {
    const cases: [string, bigint][] = [
      ['lddw %r0, 0x8000000000000000\nsdiv %r0, -1', 0x8000000000000000n],
      ['lddw %r0, 0x8000000000000000\nsmod %r0, -1', 0n],
      ['lddw %r0, -7\nsdiv %r0, 2', 0xfffffffffffffffdn],
      ['lddw %r0, -7\nsmod %r0, 2', 0xffffffffffffffffn],
      ['lddw %r0, 0xffffffffffffffff\ndiv %r0, 3', 0x5555555555555555n],
      ['lddw %r0, 0xfedcba9876543210\nlddw %r1, 0x123456789\nmod %r0, %r1', 0xfedcba9876543210n % 0x123456789n],
      ['lddw %r0, 0xfedcba9876543210\nlddw %r1, 0x0123456789abcdef\nmul %r0, %r1', BigInt.asUintN(64, 0xfedcba9876543210n * 0x0123456789abcdefn)],
      ['lddw %r0, 0x8000000000000001\narsh %r0, 63', 0xffffffffffffffffn],
      ['lddw %r0, 0x8000000000000001\nmov %r1, 95\nrsh %r0, %r1', 0x100000000n],
      ['lddw %r0, 0x0102030405060708\nbswap64 %r0', 0x0807060504030201n],
      ['lddw %r0, 0x0102030405060708\nbe32 %r0', 0x08070605n],
      ['lddw %r0, 0x0102030405060708\nle16 %r0', 0x0708n],
      ['mov32 %r0, -1\nmovsx832 %r0, %r0', 0xffffffffn],
      ['mov %r0, 0x80\nmovsx864 %r0, %r0', 0xffffffffffffff80n],
      ['mov %r0, 0\nneg %r0', 0n],
      ['mov %r0, 1\nneg %r0', 0xffffffffffffffffn],
    ];
    for (const [body, want] of cases) assert.equal(run(`${body}\nexit`, engine), want, body);
  });
}
