/** Fuzzing: random bytes and random valid-looking programs only ever raise FormatError or VmError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInstruction, type Instruction } from '../../src/asm/instruction.js';
import { FormatError } from '../../src/errors.js';
import { VmError } from '../../src/vm/errors.js';
import { createMap, MapType } from '../../src/vm/maps/index.js';
import { Engine, Vm } from '../../src/vm/vm.js';

function tryRun(input: Uint8Array | Instruction[], engine: Engine): void {
  try {
    const maps = [
      createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 }),
      createMap({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 }),
      createMap({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }),
      createMap({ type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 }),
    ];
    const vm = new Vm(input, { engine, budget: 2000, maps, context: new Uint8Array(32), env: { clock: () => 1n } });
    vm.run();
    vm.run({ registers: { r2: 32n } });
  } catch (e) {
    assert.ok(e instanceof FormatError || e instanceof VmError, `unexpected ${String((e as Error)?.stack ?? e)}`);
  }
}

test('random bytes as programs', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), fc.constantFrom(Engine.INTERPRETER, Engine.JIT), (bytes, engine) => tryRun(bytes, engine)),
    { numRuns: 3000 },
  );
});

test('random valid instructions as programs (most fail validation, some run)', () => {
  const insn = fc
    .record({
      code: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x85, 0x8d, 0x18, 0x95, 0x05, 0x06, 0xe5, 0x61, 0x7b, 0xdb, 0xc3, 0x20, 0x40)),
      dst: fc.integer({ min: 0, max: 10 }),
      src: fc.integer({ min: 0, max: 10 }),
      off: fc.integer({ min: -4, max: 8 }),
      imm: fc.oneof(fc.integer({ min: -3, max: 8 }), fc.constantFrom(1, 2, 3, 5, 6, 7, 8, 14, 16, 87, 88, 89, 130, 131, 132, 133, 134, 195, 0xe1, 0xf1, 0x100)),
      imm2: fc.integer({ min: 0, max: 8 }),
    })
    .map((r): Instruction => (r.code === 0x18 ? { ...r } : { code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm }))
    .filter((i) => checkInstruction(i) === undefined);
  const exit: Instruction = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
  let ran = 0;
  fc.assert(
    fc.property(fc.array(insn, { minLength: 1, maxLength: 12 }), fc.constantFrom(Engine.INTERPRETER, Engine.JIT), (insns, engine) => {
      tryRun([...insns, exit], engine);
      ran++;
    }),
    { numRuns: 3000 },
  );
  assert.equal(ran, 3000);
});
