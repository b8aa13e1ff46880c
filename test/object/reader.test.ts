import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CallSrc, PseudoSrc, slotCount, type Instruction } from '../../src/asm/index.js';
import { FormatError } from '../../src/errors.js';
import { readObject, type ProgramSpec } from '../../src/object/index.js';

const features = (file = 'features.bpf.o') => readObject(readFileSync(`testdata/object/${file}`));

/** Slot of each instruction index (ld_imm64 takes two slots). */
function slotsOf(insns: Instruction[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const i of insns) {
    out.push(s);
    s += slotCount(i);
  }
  return out;
}

/** Name of the function each local call / function address of a program lands on. */
function callTargets(p: ProgramSpec): string[] {
  const slots = slotsOf(p.instructions);
  return p.instructions.flatMap((insn, i) => {
    const isCall = insn.code === 0x85 && insn.src === CallSrc.LOCAL;
    const isFuncAddr = insn.code === 0x18 && insn.src === PseudoSrc.FUNC;
    if (!isCall && !isFuncAddr) return [];
    const targetSlot = slots[i]! + insn.imm + 1;
    const fn = p.functions.find((f) => slots[f.start] === targetSlot);
    assert.ok(fn, `${p.name}: instruction ${i} targets slot ${targetSlot}, which starts no function`);
    return [fn.name];
  });
}

test('BTF-defined maps: types, sizes, flags, pinning, inner maps, initial slots', () => {
  const spec = features();
  const byName = new Map(spec.maps.map((m) => [m.name, m]));
  assert.deepEqual([...byName.keys()].sort(), ['.bss', '.kconfig', '.rodata', 'inner_a', 'inner_b', 'jumps', 'outer', 'pinned']);
  const pinned = byName.get('pinned')!;
  assert.deepEqual([pinned.type, pinned.keySize, pinned.valueSize, pinned.maxEntries, pinned.flags, pinned.pinning], ['HASH', 8, 8, 128, 1, 'by_name']);
  const outer = byName.get('outer')!;
  assert.equal(outer.innerMap?.type, 'ARRAY');
  assert.equal(outer.innerMap?.valueSize, 8);
  assert.deepEqual(outer.slots, [{ key: 1, value: 'inner_b' }]);
  assert.deepEqual(byName.get('jumps')!.slots, [{ key: 0, value: 'tail_one' }, { key: 2, value: 'tail_two' }]);
});

test('global data sections become array maps with variables at their symbol offsets', () => {
  const spec = features();
  const rodata = spec.maps.find((m) => m.name === '.rodata')!;
  assert.equal(rodata.readOnly, true);
  assert.equal(new DataView(rodata.data!.buffer, rodata.data!.byteOffset).getUint32(0, true), 42);
  assert.deepEqual(rodata.variables.map((v) => [v.name, v.offset, v.size]), [['answer', 0, 4]]);
  const kconfig = spec.maps.find((m) => m.name === '.kconfig')!;
  assert.deepEqual(kconfig.variables.map((v) => [v.name, v.offset]), [['LINUX_KERNEL_VERSION', 0], ['CONFIG_BPF_SYSCALL', 4]]);
});

test('programs are linked with their subprograms, calls point at the appended copies', () => {
  const spec = features();
  const byName = new Map(spec.programs.map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()], ['tail_one', 'tail_two', 'entry']);
  assert.deepEqual(byName.get('tail_one')!.functions.map((f) => f.name), ['tail_one', 'global_helper', 'twice']);
  assert.deepEqual(callTargets(byName.get('tail_one')!), ['global_helper', 'twice']);
  // bpf_loop's callback is a function address (ld_imm64 src=4), linked like a call.
  assert.deepEqual(callTargets(byName.get('tail_two')!).sort(), ['count_cb', 'twice']);
  const entry = byName.get('entry')!;
  assert.equal(entry.progType, 'RAW_TRACEPOINT');
  assert.equal(entry.attachTo, 'sys_enter');
  // Each function keeps its func_info, and line info points into every function.
  assert.deepEqual(entry.funcInfos.map((f) => f.index), entry.functions.map((f) => f.start));
  for (const f of entry.functions) assert.ok(entry.lineInfos.some((l) => l.index >= f.start && l.index < f.end), `no line info in ${f.name}`);
});

test('relocations become named references with the pseudo sources libbpf sets', () => {
  const entry = features().programs.find((p) => p.name === 'entry')!;
  const kinds = entry.references.map((r) => `${r.kind}:${'map' in r ? r.map : r.name}`);
  assert.ok(kinds.includes('map:outer') && kinds.includes('map:jumps'));
  assert.ok(kinds.includes('map_value:.kconfig') && kinds.includes('map_value:.bss'));
  assert.ok(kinds.includes('ksym:bpf_prog_active'));
  for (const r of entry.references) {
    const insn = entry.instructions[r.index]!;
    const expected = { map: PseudoSrc.MAP_FD, map_value: PseudoSrc.MAP_VALUE, ksym: PseudoSrc.BTF_ID, kfunc: CallSrc.KFUNC }[r.kind];
    assert.equal(insn.src, expected, `${r.kind} at ${r.index}`);
  }
  const kcfg = entry.references.find((r) => r.kind === 'map_value' && r.map === '.kconfig' && r.offset === 4)!;
  assert.equal(entry.instructions[kcfg.index]!.imm2, 4);
});

test('big-endian objects read the same', () => {
  const le = features();
  const be = features('features.bpfeb.o');
  assert.equal(be.littleEndian, false);
  assert.deepEqual(be.programs.map((p) => [p.name, p.instructions.length, p.references]), le.programs.map((p) => [p.name, p.instructions.length, p.references]));
  assert.deepEqual(be.maps.map((m) => [m.name, m.type, m.maxEntries, m.slots]), le.maps.map((m) => [m.name, m.type, m.maxEntries, m.slots]));
});

test('CO-RE records follow their instructions into the program', () => {
  const spec = readObject(readFileSync('testdata/objdump/core.bpf.o'));
  const p = spec.programs[0]!;
  assert.equal(p.progType, 'TRACING');
  assert.equal(p.attachType, 'TRACE_RAW_TP');
  assert.equal(p.coreRelos.length, 6);
  assert.ok(p.coreRelos.every((c) => c.index < p.instructions.length));
});

test('objects that are not BPF, or broken, give FormatErrors naming the problem', () => {
  assert.throws(() => readObject(readFileSync('testdata/elf/tiny.o')), (e) => e instanceof FormatError && /not a BPF object/.test(e.message));
  const bytes = new Uint8Array(readFileSync('testdata/object/features.bpf.o'));
  assert.throws(() => readObject(bytes.subarray(0, 200)), FormatError);
});

test('mutated objects only ever give typed errors', async () => {
  const fc = (await import('fast-check')).default;
  const { TsbpfError } = await import('../../src/errors.js');
  const original = new Uint8Array(readFileSync('testdata/object/features.bpf.o'));
  let parsed = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
      const bytes = original.slice();
      for (const [at, v] of flips) bytes[at] = v;
      try {
        readObject(bytes);
        parsed++;
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
      }
    }),
    { numRuns: 1500 },
  );
  assert.ok(parsed > 100, `only ${parsed} mutants parsed: the test is not reaching the reader`);
});
