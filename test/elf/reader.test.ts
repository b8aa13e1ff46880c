import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.js';
import { EM, ET, NT_GNU, PT, SHF, SHN, SHT, STB, STT, STV, constantName, parseElf, type ElfFile } from '../../src/elf/index.js';
import {
  FIXTURES,
  fixture,
  fixturePath,
  headerField,
  hex,
  parseNotes,
  parseRelocations,
  parseSections,
  parseSegments,
  parseSymbols,
  readelf,
} from './oracle.js';

// llvm-readelf's spellings of the constants (GNU output style).
const SECTION_TYPE_ALIASES: Record<string, string> = { VERSYM: 'GNU_VERSYM', VERNEED: 'GNU_VERNEED', VERDEF: 'GNU_VERDEF' };
const FLAG_LETTERS: Record<string, bigint> = {
  W: SHF.WRITE,
  A: SHF.ALLOC,
  X: SHF.EXECINSTR,
  M: SHF.MERGE,
  S: SHF.STRINGS,
  I: SHF.INFO_LINK,
  L: SHF.LINK_ORDER,
  O: SHF.OS_NONCONFORMING,
  G: SHF.GROUP,
  T: SHF.TLS,
  C: SHF.COMPRESSED,
  E: SHF.EXCLUDE,
  R: SHF.GNU_RETAIN,
};
const SYMBOL_TYPES: Record<string, number> = { ...STT, IFUNC: STT.GNU_IFUNC };
const SYMBOL_BINDS: Record<string, number> = { ...STB, UNIQUE: STB.GNU_UNIQUE };
const NDX: Record<string, number> = { UND: SHN.UNDEF, ABS: SHN.ABS, COM: SHN.COMMON };

const flagBits = (letters: string) => [...letters].reduce((acc, l) => acc | (FLAG_LETTERS[l] ?? assert.fail(`unknown flag letter ${l}`)), 0n);

function compareSymbols(file: ElfFile, table: '.symtab' | '.dynsym', name: string): void {
  const expected = parseSymbols(readelf(table === '.symtab' ? ['--symbols'] : ['--dyn-symbols'], fixturePath(name)), table);
  const got = table === '.symtab' ? file.symbols() : file.dynamicSymbols();
  assert.ok(expected.length > 0, `llvm-readelf lists ${table} of ${name}`);
  assert.equal(got.length, expected.length, `${name} ${table} length`);
  for (const e of expected) {
    const s = got[e.index]!;
    const where = `${name} ${table}[${e.index}]`;
    assert.equal(s.index, e.index, where);
    // llvm-readelf shows STT_SECTION symbols under their section's name.
    const shownName = s.type === STT.SECTION && s.name === '' ? file.sections[s.shndx]!.name : s.name;
    assert.equal(shownName, e.name, `${where} name`);
    assert.equal(s.value, e.value, `${where} value`);
    assert.equal(s.size, e.size, `${where} size`);
    assert.equal(s.type, SYMBOL_TYPES[e.type], `${where} type ${e.type}`);
    assert.equal(s.bind, SYMBOL_BINDS[e.bind], `${where} bind ${e.bind}`);
    assert.equal(s.visibility, STV[e.visibility as keyof typeof STV], `${where} visibility`);
    assert.equal(s.shndx, NDX[e.ndx] ?? Number(e.ndx), `${where} ndx ${e.ndx}`);
  }
}

for (const name of FIXTURES) {
  test(`${name}: header matches llvm-readelf --file-header`, () => {
    const file = parseElf(fixture(name));
    const text = readelf(['--file-header'], fixturePath(name));
    assert.equal(file.littleEndian, headerField(text, 'Data').endsWith('little endian'));
    assert.equal(headerField(text, 'Type').split(' ')[0], constantName(ET, file.type));
    assert.equal(headerField(text, 'Machine'), { [EM.BPF]: 'EM_BPF', [EM.X86_64]: 'Advanced Micro Devices X86-64' }[file.machine]);
    assert.equal(BigInt(headerField(text, 'Entry point address')), file.entry);
    assert.equal(Number(headerField(text, 'Flags')), file.flags);
    assert.equal(Number(headerField(text, 'Number of section headers')), file.sections.length);
    assert.equal(Number(headerField(text, 'Section header string table index')), file.shstrndx);
    assert.equal(Number(headerField(text, 'Number of program headers')), file.segments.length);
  });

  test(`${name}: sections match llvm-readelf --sections`, () => {
    const bytes = fixture(name);
    const file = parseElf(bytes);
    const expected = parseSections(readelf(['--sections'], fixturePath(name)));
    assert.ok(expected.length > 5);
    assert.equal(file.sections.length, expected.length);
    for (const e of expected) {
      const s = file.sections[e.index]!;
      const where = `${name} section ${e.index} ${e.name}`;
      assert.equal(s.index, e.index);
      assert.equal(s.name, e.name, where);
      assert.equal(constantName(SHT, s.type), SECTION_TYPE_ALIASES[e.type] ?? e.type, `${where} type`);
      assert.equal(s.addr, e.addr, `${where} addr`);
      assert.equal(s.offset, e.offset, `${where} offset`);
      assert.equal(s.size, e.size, `${where} size`);
      assert.equal(s.entsize, e.entsize, `${where} entsize`);
      assert.equal(s.flags, flagBits(e.flags), `${where} flags ${e.flags}`);
      assert.equal(s.link, e.link, `${where} link`);
      assert.equal(s.info, e.info, `${where} info`);
      assert.equal(s.addralign, e.align, `${where} align`);
      // Contents are zero-copy views of the right bytes; NOBITS and NULL have none.
      const expectData = s.type === SHT.NOBITS || s.type === SHT.NULL ? 0 : s.size;
      assert.equal(s.data.byteLength, expectData, `${where} data length`);
      if (expectData > 0) {
        assert.equal(s.data.buffer, bytes.buffer, `${where} data is a view`);
        assert.equal(s.data.byteOffset, bytes.byteOffset + s.offset);
      }
      assert.equal(file.section(s.name)?.name, s.name);
    }
  });

  test(`${name}: symbols match llvm-readelf --symbols / --dyn-symbols`, () => {
    const file = parseElf(fixture(name));
    compareSymbols(file, '.symtab', name);
    if (name === 'libtiny.so') compareSymbols(file, '.dynsym', name);
    else assert.deepEqual(file.dynamicSymbols(), []);
  });

  test(`${name}: relocations match llvm-readelf --relocations`, () => {
    const file = parseElf(fixture(name));
    const expected = parseRelocations(readelf(['--relocations'], fixturePath(name)));
    const relocSections = file.sections.filter((s) => s.type === SHT.REL || s.type === SHT.RELA);
    assert.ok(relocSections.length > 0);
    assert.deepEqual(relocSections.map((s) => s.name).sort(), [...expected.keys()].sort());
    for (const s of relocSections) {
      const got = file.relocations(s);
      const want = expected.get(s.name)!;
      assert.equal(got.length, want.length, s.name);
      assert.equal(got.length, s.size / s.entsize);
      got.forEach((r, i) => assert.deepEqual(r, want[i], `${name} ${s.name}[${i}]`));
      if (s.info !== 0) assert.ok(file.relocationSectionsFor(file.sections[s.info]!).includes(s));
    }
  });
}

test('libtiny.so: segments match llvm-readelf --segments', () => {
  const file = parseElf(fixture('libtiny.so'));
  const expected = parseSegments(readelf(['--segments'], fixturePath('libtiny.so')));
  assert.equal(file.segments.length, expected.length);
  assert.ok(expected.length >= 5);
  file.segments.forEach((s, i) => {
    const e = expected[i]!;
    assert.equal(constantName(PT, s.type), e.type);
    assert.deepEqual(
      { offset: s.offset, vaddr: s.vaddr, paddr: s.paddr, filesz: s.filesz, memsz: s.memsz, align: s.align },
      { offset: e.offset, vaddr: e.vaddr, paddr: e.paddr, filesz: e.filesz, memsz: e.memsz, align: e.align },
    );
    const flags = `${s.flags & 4 ? 'R' : ' '}${s.flags & 2 ? 'W' : ' '}${s.flags & 1 ? 'E' : ' '}`;
    assert.equal(flags, e.flags);
  });
});

test('libtiny.so: notes of sections and of the PT_NOTE segment match llvm-readelf --notes', () => {
  const file = parseElf(fixture('libtiny.so'));
  const expected = parseNotes(readelf(['--notes'], fixturePath('libtiny.so')));
  assert.equal(expected.length, 2);
  const fromSections = file.sections.filter((s) => s.type === SHT.NOTE).flatMap((s) => file.notes(s).map((n) => ({ section: s.name, ...n })));
  assert.deepEqual(
    fromSections.map((n) => ({ section: n.section, owner: n.name, size: n.desc.byteLength, hex: hex(n.desc) })),
    expected.map((e) => ({ section: e.section, owner: e.owner, size: e.size, hex: e.hex })),
  );
  assert.equal(fromSections[0]!.type, NT_GNU.BUILD_ID);
  assert.equal(fromSections[1]!.type, 0x1234);
  const segment = file.segments.find((s) => s.type === PT.NOTE)!;
  assert.deepEqual(file.notes(segment), fromSections.map(({ name, type, desc }) => ({ name, type, desc })));
});

test('libtiny.so: addressToOffset maps a function address to its bytes in the file', () => {
  const file = parseElf(fixture('libtiny.so'));
  const fn = file.dynamicSymbols().find((s) => s.name === 'tiny_add')!;
  const text = file.sections[fn.shndx]!;
  const offset = file.addressToOffset(fn.value)!;
  assert.equal(offset, text.offset + Number(fn.value - text.addr));
  assert.equal(file.addressToOffset(0xffff_ffffn), undefined);
  // .bss is in a PT_LOAD's memory image but not in the file.
  assert.equal(file.addressToOffset(file.section('.bss')!.addr + 4n), undefined);
});

test('tiny.o: RELA addends, a COMMON symbol and a note in a relocatable object', () => {
  const file = parseElf(fixture('tiny.o'));
  const rela = file.section('.rela.text')!;
  assert.equal(rela.type, SHT.RELA);
  assert.ok(file.relocations(rela).every((r) => r.addend === -4n));
  assert.equal(file.symbols().find((s) => s.name === 'tiny_common')!.shndx, SHN.COMMON);
  assert.deepEqual(file.notes(file.section('.note.tiny')!), [{ name: 'tiny', type: 0x1234, desc: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1) }]);
});

test('tiny.o: an 8-byte aligned GNU property note (descriptor aligned from the note start)', () => {
  const file = parseElf(fixture('tiny.o'));
  const section = file.section('.note.gnu.property')!;
  assert.equal(section.addralign, 8);
  const [note, ...rest] = file.notes(section);
  assert.deepEqual(rest, []);
  assert.equal(note!.name, 'GNU');
  assert.equal(note!.type, NT_GNU.PROPERTY_TYPE_0);
  // 12-byte header + "GNU\0" = 16, already 8-aligned: the descriptor starts right there.
  assert.equal(note!.desc.byteOffset - section.data.byteOffset, 16);
  const v = new DataView(note!.desc.buffer, note!.desc.byteOffset, note!.desc.byteLength);
  // GNU_PROPERTY_X86_FEATURE_1_AND (0xc0000002), 4 bytes of data: IBT | SHSTK, as llvm-readelf says.
  assert.deepEqual([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true)], [0xc0000002, 4, 3]);
  const oracle = parseNotes(readelf(['--notes'], fixturePath('tiny.o'))).find((n) => n.section === '.note.gnu.property')!;
  assert.deepEqual([oracle.owner, oracle.size], ['GNU', note!.desc.byteLength]);
  assert.match(readelf(['--notes'], fixturePath('tiny.o')), /x86 feature: IBT, SHSTK/);
});

test('BPF objects decode the same in both byte orders', () => {
  const le = parseElf(fixture('programs.bpf.o'));
  const be = parseElf(fixture('programs.bpfeb.o'));
  assert.equal(le.littleEndian, true);
  assert.equal(be.littleEndian, false);
  assert.equal(be.machine, EM.BPF);
  const shape = (f: ElfFile) => f.sections.map(({ name, type, flags, size, link, info }) => ({ name, type, flags, size, link, info }));
  assert.deepEqual(shape(be), shape(le));
  assert.deepEqual(be.symbols(), le.symbols());
  for (const s of le.sections.filter((x) => x.type === SHT.REL)) {
    assert.deepEqual(be.relocations(be.sections[s.index]!), le.relocations(s), s.name);
  }
  assert.deepEqual(be.section('license')!.data, le.section('license')!.data);
});

test('symbols are decoded lazily, once', () => {
  const bytes = fixture('programs.bpf.o');
  const file = parseElf(bytes);
  const symtab = file.section('.symtab')!;
  // Break the symbol table after parsing: only the first symbols() call can notice.
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const shoff = Number(view.getBigUint64(40, true));
  view.setBigUint64(shoff + symtab.index * 64 + 56, 7n, true); // sh_entsize
  const broken = parseElf(copy);
  assert.equal(broken.sections.length, file.sections.length, 'parseElf does not look at symbols');
  assert.throws(() => broken.symbols(), (e: unknown) => e instanceof FormatError && /sh_entsize is 7/.test(e.message));
  const first = file.symbols();
  assert.equal(file.symbols(), first, 'cached');
  const rel = file.section('.rel.text')!;
  assert.equal(file.relocations(rel), file.relocations(rel), 'cached');
});

test('section(), relocationSectionsFor() and stringAt()', () => {
  const file = parseElf(fixture('programs.bpf.o'));
  const text = file.section('.text')!;
  assert.equal(text.type, SHT.PROGBITS);
  assert.equal(file.section('no such section'), undefined);
  assert.deepEqual(file.relocationSectionsFor(text).map((s) => s.name), ['.rel.text']);
  assert.deepEqual(file.relocationSectionsFor(file.section('.maps')!), []);
  assert.deepEqual(file.relocationSectionsFor(file.sections[0]!), []);
  const strtab = file.sections[file.shstrndx]!;
  assert.equal(file.stringAt(strtab, text.nameOffset), '.text');
  assert.equal(file.stringAt(strtab, text.nameOffset + 1), 'text');
  assert.equal(file.stringAt(strtab, 0), '');
  assert.throws(() => file.stringAt(strtab, strtab.size), FormatError);
  assert.throws(() => file.stringAt(strtab, -1), FormatError);
});
