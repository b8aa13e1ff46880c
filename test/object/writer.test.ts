/**
 * The object writer on every clang-built object of the repository: what tsbpf's reader reads
 * back equals what it read from clang's object; llvm-objdump shows the same instructions and
 * relocations per function; bpftool parses the BTF; libbpf loads what it loads from clang's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BtfKind, type Btf } from '../../src/btf/index.js';
import { parseElf, STB, STT, type ElfSymbol } from '../../src/elf/index.js';
import { readObject, writeObject, type ObjectSpec } from '../../src/object/index.js';
import { kernelTest } from '../support/kernel.js';
import { bpfObjects, loadAll, objdumpFunctions, ROOT, run, tempFile } from './writer-oracle.js';

const SKIP_LLVM = process.env.TSBPF_NO_LLVM === '1' ? 'TSBPF_NO_LLVM=1' : false;

interface Case {
  file: string;
  original: ObjectSpec;
  written: Uint8Array;
  path: string;
}

let cases: Case[] | undefined;
/** Every object the reader accepts, read and written once. */
function all(): Case[] {
  cases ??= bpfObjects().flatMap((file) => {
    const bytes = readFileSync(join(ROOT, file));
    let original: ObjectSpec;
    try {
      original = readObject(bytes);
    } catch {
      return []; // objects the reader refuses are the reader tests' business
    }
    // The spec does not record weak binding (`__weak`): carry it over from clang's symbols.
    const weakExterns = parseElf(bytes).symbols().filter((sym) => sym.shndx === 0 && sym.bind === STB.WEAK && sym.name !== '').map((sym) => sym.name);
    const written = writeObject(original, { weakExterns });
    return [{ file, original, written, path: tempFile(file, written) }];
  });
  return cases;
}

test('fixtures: the round trips cover both byte orders, subprograms, maps of every kind', () => {
  const specs = all().map((c) => c.original);
  assert.ok(specs.length >= 20, `only ${specs.length} objects found`);
  assert.ok(specs.some((s) => !s.littleEndian));
  assert.ok(specs.some((s) => s.programs.some((p) => p.functions.length > 1)));
  const maps = specs.flatMap((s) => s.maps);
  for (const kind of ['RINGBUF', 'HASH', 'PROG_ARRAY', 'ARRAY_OF_MAPS']) assert.ok(maps.some((m) => m.type === kind), kind);
  for (const section of ['.rodata', '.data', '.bss', '.kconfig']) assert.ok(maps.some((m) => m.section === section), section);
  assert.ok(specs.some((s) => s.programs.some((p) => p.coreRelos.length > 0)), 'CO-RE relocations');
});

test('round trip: readObject(writeObject(readObject(x))) equals readObject(x)', () => {
  for (const c of all()) {
    const back = readObject(c.written);
    const { btf: _a, btfBytes: _b, btfExt: _c, ...want } = c.original;
    const { btf: _d, btfBytes: _e, btfExt: _f, ...got } = back;
    // Programs (instructions, references, functions, func/line info with its strings and their
    // .BTF offsets, CO-RE records), maps (definitions, slots, data, variables), license.
    assert.deepEqual(got, want, c.file);
    // Every type keeps its id; only DATASECs change (real sizes and offsets instead of zeros).
    const a = c.original.btf!;
    const b = back.btf!;
    assert.equal(b.typeCount, a.typeCount, `${c.file} type count`);
    for (let id = 1; id < a.typeCount; id++) {
      const t = a.type(id);
      if (t.kind === BtfKind.DATASEC) assert.equal(b.type(id).kind, BtfKind.DATASEC, `${c.file} [${id}]`);
      else assert.deepEqual(b.type(id), t, `${c.file} type [${id}]`);
    }
  }
});

test('writing is deterministic: a written object read and written again is byte-identical', () => {
  for (const c of all()) {
    const weakExterns = parseElf(c.written).symbols().filter((sym) => sym.bind === STB.WEAK).map((sym) => sym.name);
    assert.deepEqual(writeObject(readObject(c.written), { weakExterns }), c.written, c.file);
  }
});

/** DATASEC variables at their symbols' offsets, DATASEC sizes equal to their sections'. */
function checkDatasecs(file: string, bytes: Uint8Array, btf: Btf): void {
  const elf = parseElf(bytes);
  const symbols = elf.symbols();
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (t.kind !== BtfKind.DATASEC || t.name === '.kconfig' || t.name === '.ksyms') continue;
    const section = elf.section(t.name);
    assert.ok(section, `${file}: DATASEC ${t.name} has a section`);
    assert.equal(t.size, section.size, `${file}: DATASEC ${t.name} size`);
    for (const v of t.vars) {
      const name = btf.nameOf(v.type);
      const sym: ElfSymbol | undefined = symbols.find((s) => s.name === name && s.shndx === section.index && s.type === STT.OBJECT);
      assert.ok(sym, `${file}: ${t.name} variable ${name} has a symbol`);
      assert.equal(v.offset, Number(sym.value), `${file}: ${t.name} ${name} offset`);
      assert.equal(v.size, Number(sym.size), `${file}: ${t.name} ${name} size`);
    }
  }
}

test('DATASECs carry the real section sizes and variable offsets and sizes', () => {
  for (const c of all()) checkDatasecs(c.file, c.written, readObject(c.written).btf!);
});

test('llvm-objdump -dr prints the same instructions and relocations per function', { skip: SKIP_LLVM }, () => {
  for (const c of all()) {
    const before = objdumpFunctions(join(ROOT, c.file));
    const after = objdumpFunctions(c.path);
    const names = c.original.programs.flatMap((p) => p.functions.map((f) => f.name));
    assert.deepEqual([...after.keys()].sort(), [...new Set(names)].sort(), `${c.file}: functions written`);
    for (const [name, lines] of after) assert.deepEqual(lines, before.get(name), `${c.file}: function ${name}`);
  }
});

test('bpftool btf dump file parses the written BTF', () => {
  for (const c of all()) {
    const r = run('bpftool', ['btf', 'dump', 'file', c.path]);
    assert.equal(r.status, 0, `${c.file}: ${r.stderr}`);
    assert.match(r.stdout, /DATASEC/, c.file);
  }
});

/** A load log without what differs between two loads: the object's path, kernel addresses. */
const normalized = (log: string, path: string): string => log.replaceAll(path, 'OBJ').replace(/0xffff[0-9a-f]{12}/g, 'ADDR');

kernelTest('libbpf (bpftool prog loadall) loads every written object whose original it loads', () => {
  let loaded = 0;
  const refused: string[] = [];
  for (const c of all()) {
    const original = loadAll(join(ROOT, c.file));
    if (!original.ok) {
      // Big-endian objects, programs this kernel refuses, kfuncs whose prototype libbpf finds
      // incompatible: the written object is refused at the same point, with the same log
      // (libbpf's messages and, for programs, the verifier's, line info included).
      const written = loadAll(c.path);
      assert.ok(!written.ok, `${c.file}: libbpf loads the written object but not the original`);
      assert.equal(normalized(written.log, c.path), normalized(original.log, join(ROOT, c.file)), `${c.file}: load log`);
      refused.push(c.file);
      continue;
    }
    const written = loadAll(c.path);
    assert.ok(written.ok, `${c.file}: libbpf refused the written object:\n${written.log}`);
    assert.deepEqual(written.names, original.names, `${c.file}: programs listed by bpftool prog show`);
    const expected = c.original.programs.map((p) => p.name.slice(0, 15)).sort();
    assert.deepEqual(written.names, expected, `${c.file}: program names`);
    loaded++;
  }
  assert.ok(loaded >= 10, `only ${loaded} objects load here; refused: ${refused.join(', ')}`);
}, { timeout: 300_000 });
