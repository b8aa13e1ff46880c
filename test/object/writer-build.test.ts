/**
 * The hand-built object (writer-fixture.ts): written, loaded by libbpf, and read back with its
 * maps, key/value types and line info intact, in both byte orders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BtfFuncLinkage, BtfKind, type Btf } from '../../src/btf/index.js';
import { parseElf, STB, STT } from '../../src/elf/index.js';
import { readObject, writeObject, type ProgramSpec } from '../../src/object/index.js';
import { kernelTest } from '../support/kernel.js';
import { handBuilt, SOURCE } from './writer-fixture.js';
import { loadAll, run, tempFile } from './writer-oracle.js';

const named = (btf: Btf, id: number | undefined): string => (id === undefined ? '?' : `${btf.type(id).kind}:${btf.nameOf(id)}`);
const stripOffsets = (p: ProgramSpec) => p.lineInfos.map(({ fileNameOff: _f, lineOff: _l, ...rest }) => rest);

for (const le of [true, false]) {
  test(`hand-built object (${le ? 'little' : 'big'}-endian) reads back with its maps, types and line info`, () => {
    const { spec, t } = handBuilt(le);
    const back = readObject(writeObject(spec));
    assert.equal(back.littleEndian, le);
    assert.equal(back.license, 'GPL');
    assert.equal(back.kernelVersion, 0x60c00);
    const btf = back.btf!;
    // The spec's type ids are kept: the compiler's ids stay valid in the written object.
    for (let id = 1; id < t.btf.typeCount; id++) assert.deepEqual(btf.type(id), t.btf.type(id), `type [${id}]`);
    const maps = new Map(back.maps.map((m) => [m.name, m]));
    assert.deepEqual([...maps.keys()], ['counts', 'events', 'inner', 'outer', 'jumps', '.rodata', '.bss', '.kconfig']);
    const counts = maps.get('counts')!;
    assert.equal(named(btf, counts.keyType), `${BtfKind.STRUCT}:key_t`);
    assert.equal(named(btf, counts.valueType), `${BtfKind.INT}:unsigned long long`);
    assert.deepEqual([counts.type, counts.keySize, counts.valueSize, counts.maxEntries], ['HASH', 8, 8, 1024]);
    assert.deepEqual([maps.get('events')!.type, maps.get('events')!.maxEntries], ['RINGBUF', 1 << 16]);
    assert.deepEqual(maps.get('outer')!.slots, [{ key: 1, value: 'inner' }]);
    assert.equal(maps.get('outer')!.innerMap?.valueType, t.u64);
    assert.deepEqual(maps.get('jumps')!.slots, [{ key: 0, value: 'tail' }]);
    for (const name of ['.rodata', '.bss', '.kconfig']) {
      const want = spec.maps.find((m) => m.name === name)!;
      const got = maps.get(name)!;
      assert.deepEqual([got.data, got.variables, got.readOnly, got.valueSize], [want.data, want.variables, want.readOnly, want.valueSize], name);
      if (name !== '.kconfig') assert.equal(named(btf, got.valueType), `${BtfKind.DATASEC}:${name}`);
    }
    assert.ok(btf.typeByName('event', BtfKind.STRUCT), 'the event struct is kept');

    assert.deepEqual(back.programs.map((p) => p.name), ['count_calls', 'extras', 'tail']);
    for (const want of spec.programs) {
      const got = back.programs.find((p) => p.name === want.name)!;
      assert.deepEqual(got.instructions, want.instructions, `${want.name} instructions`);
      assert.deepEqual(got.references, want.references, `${want.name} references`);
      assert.deepEqual(got.functions, want.functions, `${want.name} functions`);
      assert.deepEqual(stripOffsets(got), stripOffsets(want), `${want.name} line info`);
      for (const l of got.lineInfos) {
        assert.equal(btf.str(l.fileNameOff), SOURCE);
        assert.equal(btf.str(l.lineOff), l.lineText);
      }
      // Every function has func_info: the spec's, or a FUNC the writer declared.
      assert.deepEqual(got.funcInfos.map((f) => f.index), got.functions.map((f) => f.start), `${want.name} func_info`);
      for (const f of want.funcInfos) assert.ok(got.funcInfos.some((g) => g.index === f.index && g.typeId === f.typeId));
      for (const f of got.funcInfos) assert.equal(btf.type(f.typeId).kind, BtfKind.FUNC);
    }
    const fill = back.programs[0]!.funcInfos[1]!.typeId;
    assert.deepEqual([btf.nameOf(fill), (btf.type(fill) as { linkage: number }).linkage], ['fill', BtfFuncLinkage.STATIC]);
  });
}

test('hand-built object: the ELF layout is clang\'s (subprograms in .text, externs undefined)', () => {
  const bytes = writeObject(handBuilt().spec);
  const elf = parseElf(bytes);
  const sym = (name: string) => elf.symbols().find((s) => s.name === name)!;
  const sectionOf = (name: string) => elf.sections[sym(name).shndx]?.name;
  assert.deepEqual(['count_calls', 'extras', 'tail', 'fill', 'twice', 'cb'].map(sectionOf), [
    'tracepoint/syscalls/sys_enter_getpid', 'raw_tp/sys_enter', 'raw_tp/sys_enter', '.text', '.text', '.text',
  ]);
  assert.deepEqual(['count_calls', 'twice', 'fill', 'cb'].map((n) => [sym(n).type, sym(n).bind]), [
    [STT.FUNC, STB.GLOBAL], [STT.FUNC, STB.GLOBAL], [STT.FUNC, STB.LOCAL], [STT.FUNC, STB.LOCAL],
  ]);
  for (const ext of ['bpf_rcu_read_lock', '_stext', 'LINUX_KERNEL_VERSION']) {
    assert.deepEqual([sym(ext).shndx, sym(ext).type, sym(ext).bind], [0, STT.NOTYPE, STB.GLOBAL], ext);
  }
  assert.deepEqual([sym('counter').type, sectionOf('counter'), sectionOf('limit'), sectionOf('jumps')], [STT.OBJECT, '.bss', '.rodata', '.maps']);
  const weak = parseElf(writeObject(handBuilt().spec, { weakExterns: ['_stext'] })).symbols().find((s) => s.name === '_stext')!;
  assert.equal(weak.bind, STB.WEAK);
  const dump = run('bpftool', ['btf', 'dump', 'file', tempFile('hand-built.o', bytes)]);
  assert.equal(dump.status, 0, dump.stderr);
  for (const want of [
    "DATASEC '.maps' size=", "DATASEC '.ksyms'", "FUNC 'bpf_rcu_read_lock' type_id=", "VAR '_stext' type_id=", "VAR 'LINUX_KERNEL_VERSION'",
    "FUNC 'fill' type_id=", "linkage=static", "DATASEC 'license' size=4", "DATASEC 'version' size=4", "'values' type_id=",
  ]) assert.ok(dump.stdout.includes(want), `bpftool btf dump lacks ${want}`);
});

kernelTest('hand-built object: libbpf loads every program (bpftool prog loadall)', () => {
  const path = tempFile('hand-built.bpf.o', writeObject(handBuilt().spec));
  const r = loadAll(path);
  assert.ok(r.ok, r.log);
  assert.deepEqual(r.names, ['count_calls', 'extras', 'tail']);
});
