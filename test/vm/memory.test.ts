/** Memory safety and limits: every bad access or runaway program is a VmError naming the pc. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUbpf } from '../../src/asm/ubpf.js';
import { FormatError } from '../../src/errors.js';
import { VmErrorKind } from '../../src/vm/errors.js';
import { Vm } from '../../src/vm/vm.js';
import { ENGINES, run, throwsVm } from './util.js';

for (const engine of ENGINES) {
  test(`[${engine}] out-of-bounds stack read names pc, address, size and instruction`, () => {
    const e = throwsVm(() => run('mov %r0, 1\nldxdw %r0, [%r10+8]\nexit', engine), VmErrorKind.OUT_OF_BOUNDS, 1);
    assert.equal(e.size, 8);
    assert.equal(e.instruction, 'ldxdw %r0, [%r10+8]');
    assert.ok(e.address !== undefined && (e.address & 0xffffffffn) === 520n);
    assert.match(e.message, /stack frame 0/);
  });

  test(`[${engine}] out-of-bounds context write, and the last in-bounds byte works`, () => {
    const ctx = new Uint8Array(4);
    assert.equal(run('stb [%r1+3], 7\nldxb %r0, [%r1+3]\nexit', engine, { context: ctx }), 7n);
    assert.equal(ctx[3], 7);
    const e = throwsVm(() => run('stw [%r1+1], 7\nexit', engine, { context: ctx }), VmErrorKind.OUT_OF_BOUNDS, 0);
    assert.equal(e.size, 4);
    assert.deepEqual([...ctx], [0, 0, 0, 7], 'a faulting store writes nothing');
  });

  test(`[${engine}] null and small pointers are unmapped`, () => {
    throwsVm(() => run('mov %r1, 0\nldxw %r0, [%r1]\nexit', engine), VmErrorKind.UNMAPPED, 1);
    throwsVm(() => run('mov %r1, 16\nstxdw [%r1-8], %r1\nexit', engine), VmErrorKind.UNMAPPED, 1);
    // Without a context r1 is 0.
    throwsVm(() => run('ldxb %r0, [%r1+0]\nexit', engine), VmErrorKind.UNMAPPED, 0);
  });

  test(`[${engine}] running off either end of a region never reaches another one`, () => {
    throwsVm(() => run('mov %r1, %r10\nsub %r1, 600\nldxb %r0, [%r1]\nexit', engine), VmErrorKind.UNMAPPED, 2);
    throwsVm(() => run('mov %r1, %r10\nlddw %r2, 0x100000000\nadd %r1, %r2\nldxb %r0, [%r1-1]\nexit', engine), VmErrorKind.UNMAPPED, 4);
    throwsVm(() => run('mov32 %r1, %r10\nldxb %r0, [%r1-1]\nexit', engine), VmErrorKind.UNMAPPED, 1);
  });

  test(`[${engine}] read-only context`, () => {
    const ctx = new Uint8Array(8).fill(3);
    assert.equal(run('ldxb %r0, [%r1+7]\nexit', engine, { context: ctx, contextReadOnly: true }), 3n);
    throwsVm(() => run('stb [%r1+7], 1\nexit', engine, { context: ctx, contextReadOnly: true }), VmErrorKind.READ_ONLY, 0);
    throwsVm(() => run('mov %r2, 1\nlock add [%r1], %r2\nexit', engine, { context: ctx, contextReadOnly: true }), VmErrorKind.READ_ONLY, 1);
  });

  test(`[${engine}] endless recursion overflows the 8 frames`, () => {
    const e = throwsVm(() => run('call local f\nexit\nf: call local f\nexit', engine), VmErrorKind.CALL_DEPTH, 2);
    assert.match(e.message, /8 frames/);
    // Seven nested calls (eight frames) are fine.
    const chain = ['mov %r0, 0', 'call local f1', 'exit'];
    for (let i = 1; i <= 7; i++) chain.push(`f${i}:`, 'add %r0, 1', i < 7 ? `call local f${i + 1}` : 'mov %r1, 0', 'exit');
    assert.equal(run(chain.join('\n'), engine), 7n);
  });

  test(`[${engine}] each call gets a fresh zeroed 512-byte frame; callers' frames stay reachable by pointer`, () => {
    const src = `
      stdw [%r10-8], 42
      mov %r1, %r10
      call local f
      ldxdw %r2, [%r10-8]
      add %r0, %r2
      exit
    f:
      ldxdw %r0, [%r10-8]       # fresh frame: 0
      ldxdw %r3, [%r1-8]        # the caller's slot through a pointer: 42
      add %r0, %r3
      stdw [%r1-8], 100         # write the caller's frame
      stdw [%r10-512], 1        # bottom of the own frame
      exit`;
    assert.equal(run(src, engine), 142n);
    throwsVm(() => run('call local f\nexit\nf: ldxb %r0, [%r10+0]\nexit', engine), VmErrorKind.OUT_OF_BOUNDS, 2);
    throwsVm(() => run('call local f\nexit\nf: ldxb %r0, [%r10-513]\nexit', engine), VmErrorKind.UNMAPPED, 2);
  });

  test(`[${engine}] the instruction budget ends endless loops exactly`, () => {
    const vm = new Vm(parseUbpf('mov %r0, 0\nloop: add %r0, 1\nja loop\nexit'), { engine, budget: 1001 });
    const e = throwsVm(() => vm.run(), VmErrorKind.BUDGET, 1);
    assert.equal(vm.steps, 1001);
    assert.match(e.message, /budget of 1001/);
    throwsVm(() => new Vm(parseUbpf('mov %r0, 0\nloop: add %r0, 1\nja loop\nexit'), { engine, budget: 1000 }).run(), VmErrorKind.BUDGET, 2);
    // A default budget ends a tight self-loop too.
    throwsVm(() => run('x: ja x\nexit', engine), VmErrorKind.BUDGET, 0);
    // Exactly enough budget completes.
    assert.equal(new Vm(parseUbpf('mov %r0, 5\nexit'), { engine, budget: 2 }).run(), 5n);
    throwsVm(() => new Vm(parseUbpf('mov %r0, 5\nexit'), { engine, budget: 1 }).run(), VmErrorKind.BUDGET, 1);
  });

  test(`[${engine}] a VM runs again after an error, with its state reset`, () => {
    const ctx = new Uint8Array(8);
    const vm = new Vm(parseUbpf('ldxdw %r0, [%r10-8]\nstdw [%r10-8], 9\nldxb %r2, [%r1]\njeq %r2, 0, +1\nldxb %r0, [%r1+100]\nexit'), {
      engine,
      context: ctx,
    });
    assert.equal(vm.run(), 0n);
    ctx[0] = 1;
    throwsVm(() => vm.run(), VmErrorKind.OUT_OF_BOUNDS, 4);
    ctx[0] = 0;
    assert.equal(vm.run(), 0n, 'the stack is zeroed at each run');
    assert.equal(vm.run({ context: new Uint8Array(1) }), 0n);
  });

  test(`[${engine}] helpers fault at the call's pc`, () => {
    const e = throwsVm(() => run('mov %r1, 0\nmov %r2, 3\ncall 16\nexit', engine), VmErrorKind.UNMAPPED, 2);
    assert.equal(e.instruction, 'call 16');
  });
}

test('load-time validation: bad encodings are FormatErrors, bad control flow is a VmError', () => {
  const fmt = (src: string | Uint8Array): void => {
    assert.throws(() => new Vm(typeof src === 'string' ? parseUbpf(src) : src), FormatError);
  };
  fmt(new Uint8Array(0));
  fmt(new Uint8Array(7));
  fmt(Uint8Array.from([0x18, 0, 0, 0, 0, 0, 0, 0]));
  fmt(Uint8Array.from([0x07, 0, 1, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
  assert.throws(() => new Vm([{ code: 0xb7, dst: 11, src: 0, off: 0, imm: 0 }]), FormatError);
  const bad = (src: string, pc: number, pattern: RegExp): void => {
    const e = throwsVm(() => new Vm(parseUbpf(src)), VmErrorKind.INVALID_PROGRAM, pc);
    assert.match(e.detail, pattern);
  };
  bad('ja +1\nexit', 0, /outside the program/);
  bad('ja -2\nexit', 0, /outside the program/);
  bad('ja +1\nlddw %r0, 1\nexit', 0, /second slot of an ld_imm64/);
  bad('mov %r0, 0', 0, /fall off/);
  bad('exit\nmov %r0, 0', 1, /fall off/);
  bad('call local f\nexit\nf: mov %r0, 1', 2, /fall off/);
  bad('call local +5\nexit', 0, /outside the program/);
  bad('jeq %r0, 0, f\nexit\nf: call local f\nexit', 0, /outside its function/);
  throwsVm(() => new Vm(parseUbpf('call 9999\nexit')), VmErrorKind.UNKNOWN_HELPER, 0);
  throwsVm(() => new Vm(parseUbpf('call runtime 1\nexit')), VmErrorKind.UNKNOWN_HELPER, 0);
  throwsVm(() => new Vm(parseUbpf('ldmapfd %r1, 0\nexit')), VmErrorKind.BAD_MAP, 0);
  throwsVm(() => new Vm(parseUbpf('mov %r0, 0\nldbtfid %r1, 5\nexit')), VmErrorKind.UNSUPPORTED, 1);
  throwsVm(() => new Vm(parseUbpf('addr_space_cast %r1, %r1, 1\nexit')), VmErrorKind.UNSUPPORTED, 0);
});
