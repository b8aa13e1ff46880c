import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgramBuilder, ProgramBuildError, R0, R1, R2, R10, reg } from '../../src/asm/builder.js';
import { encode } from '../../src/asm/codec.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').replace(/(.{16})/g, '$1 ').trim();

test('labels resolve to backward and forward jump distances in slots', () => {
  const p = new ProgramBuilder()
    .mov(R0, 0)
    .lddw(R2, 0x1_0000_0000n) // two slots between the label and the jump
    .label('loop')
    .alu('add', R0, 3)
    .jump('jlt', R0, 30, 'loop')
    .jump('jeq', R0, reg(R2), 'out')
    .alu32('xor', R0, 1)
    .label('out')
    .exit()
    .build();
  assert.equal(p.instructions[3]!.off, -2);
  assert.equal(p.instructions[4]!.off, 1);
  assert.equal(p.labels.get('loop'), 3);
  // Same bytes clang emits for these forms (checked with llvm-mc).
  assert.equal(
    hex(encode(p.instructions)),
    'b700000000000000 1802000000000000 0000000001000000 0700000003000000 a500feff1e000000 1d20010000000000 a400000001000000 9500000000000000',
  );
});

test('local calls and map references are recorded for the loader', () => {
  const p = new ProgramBuilder()
    .ldMap(R1, 'events')
    .store(64, R10, -8, 0)
    .callLocal('sub')
    .callLocal('global_fn', true)
    .exit()
    .label('sub')
    .mov(R0, 1)
    .exit()
    .build();
  assert.deepEqual(p.references, [
    { index: 0, symbol: 'events', kind: 'map' },
    { index: 3, symbol: 'global_fn', kind: 'call' },
  ]);
  assert.equal(p.instructions[2]!.imm, 2); // slot 3 -> slot 6
  assert.equal(p.instructions[2]!.src, 1);
});

test('unknown labels, duplicate labels and out-of-range operands are typed errors', () => {
  assert.throws(() => new ProgramBuilder().goto('nowhere').build(), (e) => e instanceof ProgramBuildError && e.index === 0);
  assert.throws(() => new ProgramBuilder().label('a').label('a'), ProgramBuildError);
  assert.throws(() => new ProgramBuilder().mov(R0, 2 ** 40), /lddw/);
  const far = new ProgramBuilder().goto('end');
  for (let i = 0; i < 40000; i++) far.mov(R0, i);
  far.label('end').exit();
  assert.throws(() => far.build(), /gotol/);
  const wide = new ProgramBuilder().goto('end', true);
  for (let i = 0; i < 40000; i++) wide.mov(R0, i);
  assert.equal(wide.label('end').exit().build().instructions[0]!.imm, 40000);
});
