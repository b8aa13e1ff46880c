import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotSupportedError } from '../../src/errors.js';
import {
  EM,
  ET,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF,
  SHN,
  SHT,
  STB,
  STT,
  STV,
  ElfWriteError,
  elfToWriteSpec,
  parseElf,
  writeElf,
  type ElfFile,
  type ElfWriteSpec,
} from '../../src/elf/index.js';
import { OBJECTS, fixture, fixturePath, headerField, parseRelocations, parseSections, parseSymbols, readelf, run, tempFile } from './oracle.js';

/** Sections the writer regenerates, whose bytes may legitimately differ after a round trip. */
function generatedTables(f: ElfFile): Set<number> {
  const symtab = f.sections.find((s) => s.index > 0 && s.type === SHT.SYMTAB);
  return new Set([f.shstrndx, ...(symtab ? [symtab.index, symtab.link] : [])]);
}

/** Asserts that two parsed files hold the same sections, symbols, relocations and notes. */
function assertSameContent(a: ElfFile, b: ElfFile): void {
  const header = (f: ElfFile) => ({ le: f.littleEndian, type: f.type, machine: f.machine, flags: f.flags, osabi: f.osabi, abi: f.abiVersion, entry: f.entry, shstrndx: f.shstrndx });
  assert.deepEqual(header(b), header(a));
  assert.equal(b.sections.length, a.sections.length);
  const generated = generatedTables(a);
  a.sections.forEach((s, i) => {
    const t = b.sections[i]!;
    const fields = ({ index, name, type, flags, addr, link, info, addralign, entsize }: typeof s) => ({ index, name, type, flags, addr, link, info, addralign, entsize });
    assert.deepEqual(fields(t), fields(s), `section ${i} ${s.name}`);
    if (!generated.has(i)) {
      assert.equal(t.size, s.size, `${s.name} size`);
      assert.deepEqual(t.data, s.data, `${s.name} contents`);
    }
    if (s.type === SHT.REL || s.type === SHT.RELA) assert.deepEqual(b.relocations(t), a.relocations(s), `${s.name} relocations`);
    if (s.type === SHT.NOTE) assert.deepEqual(b.notes(t), a.notes(s), `${s.name} notes`);
  });
  assert.deepEqual(b.symbols(), a.symbols());
}

/** Offsets respect sh_addralign, contents do not overlap and stay inside the file. */
function assertLayout(bytes: Uint8Array): void {
  const f = parseElf(bytes);
  const placed = f.sections.filter((s) => s.index > 0 && s.type !== SHT.NOBITS && s.size > 0);
  for (const s of f.sections.slice(1)) {
    if (s.addralign > 1) assert.equal(s.offset % s.addralign, 0, `${s.name} at 0x${s.offset.toString(16)} is aligned to ${s.addralign}`);
    assert.ok(s.offset >= 64, `${s.name} after the ELF header`);
  }
  placed.sort((x, y) => x.offset - y.offset);
  placed.forEach((s, i) => {
    const next = placed[i + 1];
    if (next) assert.ok(s.offset + s.size <= next.offset, `${s.name} overlaps ${next.name}`);
  });
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, f.littleEndian));
  assert.equal(shoff % 8, 0);
  const last = placed[placed.length - 1];
  if (last) assert.ok(last.offset + last.size <= shoff, 'section headers after the contents');
}

/** llvm-readelf -a and llvm-objdump -d -r read `path` without a warning or an error. */
function assertToolsAccept(path: string): { readelf: string; objdump: string } {
  const re = run('llvm-readelf', ['-a', path]);
  assert.equal(re.status, 0, re.stderr);
  assert.equal(re.stderr, '', 'llvm-readelf -a prints no warning');
  assert.doesNotMatch(re.stdout, /warning|error/i);
  const od = run('llvm-objdump', ['-d', '-r', path]);
  assert.equal(od.status, 0, od.stderr);
  assert.equal(od.stderr, '', 'llvm-objdump -d -r prints no warning');
  assert.doesNotMatch(od.stdout, /warning|error|<unknown>/i);
  return { readelf: re.stdout, objdump: od.stdout };
}

for (const name of OBJECTS) {
  test(`${name}: parse -> elfToWriteSpec -> writeElf -> parse keeps sections, symbols and relocations`, () => {
    const original = parseElf(fixture(name));
    const written = writeElf(elfToWriteSpec(original));
    assertSameContent(original, parseElf(written));
    assertLayout(written);
    // Writing the re-parsed file again gives the very same bytes: the writer is deterministic.
    assert.deepEqual(writeElf(elfToWriteSpec(parseElf(written))), written);
  });

  test(`${name}: llvm-readelf and llvm-objdump accept the rewritten file and see the same object`, () => {
    const written = writeElf(elfToWriteSpec(parseElf(fixture(name))));
    const path = tempFile(`roundtrip-${name}`, written);
    const { objdump } = assertToolsAccept(path);
    const body = (text: string) => text.split('\n').slice(2).join('\n'); // drop the file name line
    const original = run('llvm-objdump', ['-d', '-r', fixturePath(name)]).stdout;
    assert.ok(/R_/.test(original), 'the fixture has relocations to show');
    assert.equal(body(objdump), body(original));
    const strip = (text: string) => text.replace(/at offset 0x[0-9a-f]+/g, '');
    assert.equal(strip(readelf(['--symbols', '--relocations'], path)), strip(readelf(['--symbols', '--relocations'], fixturePath(name))));
  });
}

// A small BPF program: r1 = map (ld_imm64), r2 = .bss + 8 (ld_imm64), call local function, exit;
// then the function: r0 = 0; exit.
const PROG = Uint8Array.from([
  0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x18, 0x02, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x85, 0x10, 0, 0, 0, 0, 0, 0,
  0x95, 0, 0, 0, 0, 0, 0, 0,
  0xb7, 0, 0, 0, 0, 0, 0, 0,
  0x95, 0, 0, 0, 0, 0, 0, 0,
]);

function bpfSpec(littleEndian: boolean): ElfWriteSpec {
  return {
    littleEndian,
    type: ET.REL,
    machine: EM.BPF,
    sharedStringTable: true,
    sections: [
      { kind: 'strtab' },
      { name: 'xdp', type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.EXECINSTR, data: PROG, addralign: 8 },
      {
        kind: 'relocations',
        target: 'xdp',
        relocations: [
          { offset: 0, symbol: 'my_map', type: R_BPF_64_64 },
          { offset: 16, symbol: 3, type: R_BPF_64_64 }, // the .bss section symbol (spec number 3)
          { offset: 32, symbol: 'helper_fn', type: R_BPF_64_32 },
        ],
      },
      { name: '.maps', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(32), addralign: 8 },
      { name: '.bss', type: SHT.NOBITS, flags: SHF.WRITE | SHF.ALLOC, size: 16, addralign: 8 },
      { name: 'license', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new TextEncoder().encode('GPL\0') },
      { name: '.rodata.cst', type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.MERGE, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), addralign: 8, entsize: 8 },
    ],
    // Globals first on purpose: the writer must move the locals ahead and renumber relocations.
    symbols: [
      { name: 'xdp_prog', type: STT.FUNC, bind: STB.GLOBAL, section: 'xdp', size: 32 },
      { name: 'my_map', type: STT.OBJECT, bind: STB.GLOBAL, section: '.maps', size: 32 },
      { type: STT.SECTION, section: '.bss' },
      { name: 'counter', type: STT.OBJECT, section: '.bss', value: 8, size: 8 },
      { name: 'helper_fn', type: STT.FUNC, section: 'xdp', value: 32, size: 16 },
      { name: 'version', type: STT.OBJECT, bind: STB.WEAK, visibility: STV.HIDDEN, special: SHN.ABS, value: 0x10203n },
      { name: 'extern_fn', type: STT.FUNC, bind: STB.GLOBAL },
    ],
  };
}

for (const littleEndian of [true, false]) {
  test(`writeElf builds a ${littleEndian ? 'little' : 'big'}-endian BPF object that llvm-readelf and llvm-objdump read as specified`, () => {
    const bytes = writeElf(bpfSpec(littleEndian));
    assertLayout(bytes);
    const path = tempFile(`scratch-${littleEndian}.o`, bytes);
    const { objdump } = assertToolsAccept(path);
    assert.equal(headerField(readelf(['--file-header'], path), 'Data'), `2's complement, ${littleEndian ? 'little' : 'big'} endian`);

    const sections = parseSections(readelf(['--sections'], path));
    assert.deepEqual(
      sections.map((s) => `${s.name}:${s.type}:${s.flags}:${s.link}:${s.info}:${s.align}`),
      [':NULL::0:0:0', '.strtab:STRTAB::0:0:1', 'xdp:PROGBITS:AX:0:0:8', '.relxdp:REL:I:8:2:8', '.maps:PROGBITS:WA:0:0:8', '.bss:NOBITS:WA:0:0:8', 'license:PROGBITS:WA:0:0:1', '.rodata.cst:PROGBITS:AM:0:0:8', '.symtab:SYMTAB::1:4:8'],
    );
    assert.equal(sections[7]!.entsize, 8);
    const symbols = parseSymbols(readelf(['--symbols'], path), '.symtab');
    assert.deepEqual(
      symbols.map((s) => `${s.name}:${s.type}:${s.bind}:${s.visibility}:${s.ndx}:${s.value}`),
      [':NOTYPE:LOCAL:DEFAULT:UND:0', '.bss:SECTION:LOCAL:DEFAULT:5:0', 'counter:OBJECT:LOCAL:DEFAULT:5:8', 'helper_fn:FUNC:LOCAL:DEFAULT:2:32',
        'xdp_prog:FUNC:GLOBAL:DEFAULT:2:0', 'my_map:OBJECT:GLOBAL:DEFAULT:4:0', 'version:OBJECT:WEAK:HIDDEN:ABS:66051', 'extern_fn:FUNC:GLOBAL:DEFAULT:UND:0'],
    );
    const relocs = parseRelocations(readelf(['--relocations'], path)).get('.relxdp')!;
    assert.deepEqual(relocs, [
      { offset: 0n, symbol: 5, type: R_BPF_64_64 },
      { offset: 16n, symbol: 1, type: R_BPF_64_64 },
      { offset: 32n, symbol: 3, type: R_BPF_64_32 },
    ]);
    assert.match(objdump, /R_BPF_64_64\s+my_map/);
    assert.match(objdump, /R_BPF_64_64\s+\.bss/);
    assert.match(objdump, /R_BPF_64_32\s+helper_fn/);

    const f = parseElf(bytes);
    assert.deepEqual(f.section('xdp')!.data, PROG);
    assert.equal(f.section('.bss')!.size, 16);
    assert.equal(f.section('.bss')!.data.byteLength, 0);
    assert.equal(f.shstrndx, 1, 'section names share .strtab');
    assert.deepEqual(f.relocations(f.section('.relxdp')!).map((r) => f.symbols()[r.symbol]!.name), ['my_map', '', 'helper_fn']);
  });
}

test('writeElf places the tables it generates after the sections, or at their markers', () => {
  const base = { type: ET.REL, machine: EM.X86_64 };
  const text = { name: '.text', type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.EXECINSTR, data: Uint8Array.of(0xc3), addralign: 16 };
  // No symbols, no relocations: only .shstrtab is added.
  let f = parseElf(writeElf({ ...base, sections: [text] }));
  assert.deepEqual(f.sections.map((s) => s.name), ['', '.text', '.shstrtab']);
  assert.deepEqual(f.symbols(), []);
  // Symbols without markers: .symtab, .strtab, .shstrtab appended in that order.
  f = parseElf(writeElf({ ...base, sections: [text], symbols: [{ name: 'f', type: STT.FUNC, bind: STB.GLOBAL, section: 1, size: 1 }] }));
  assert.deepEqual(f.sections.map((s) => s.name), ['', '.text', '.symtab', '.strtab', '.shstrtab']);
  assert.equal(f.sections[2]!.link, 3);
  assert.equal(f.sections[2]!.info, 1, 'first non-local symbol');
  assert.equal(f.shstrndx, 4);
  // Markers put the tables first, under other names; RELA relocations get a default name.
  f = parseElf(
    writeElf({
      ...base,
      sections: [
        { kind: 'shstrtab', name: '.names' },
        { kind: 'symtab' },
        { kind: 'strtab', name: '.symnames' },
        text,
        { kind: 'relocations', rela: true, target: '.text', relocations: [{ offset: 0, symbol: 1, type: 2, addend: -4 }] },
      ],
      symbols: [{ name: 'g', bind: STB.GLOBAL }],
    }),
  );
  assert.deepEqual(f.sections.map((s) => s.name), ['', '.names', '.symtab', '.symnames', '.text', '.rela.text']);
  assert.deepEqual(f.relocations(f.sections[5]!), [{ offset: 0n, symbol: 1, type: 2, addend: -4n }]);
  assert.equal(f.sections[5]!.entsize, 24);
  assert.equal(f.sections[4]!.offset % 16, 0);
});

test('extended numbering: more than 0xff00 sections round-trip through section 0 and .symtab_shndx', () => {
  const count = SHN.LORESERVE + 16;
  const sections = Array.from({ length: count }, (_, i) => ({ name: `s${i}`, type: SHT.PROGBITS, data: i === count - 1 ? Uint8Array.of(0xaa) : undefined }));
  const bytes = writeElf({
    type: ET.REL,
    machine: EM.BPF,
    sections,
    symbols: [
      { name: 'low', section: 's3' },
      { name: 'high', bind: STB.GLOBAL, section: `s${count - 1}` },
      { name: 'abs', bind: STB.GLOBAL, special: SHN.ABS },
      { name: 'common', bind: STB.GLOBAL, special: SHN.COMMON, size: 4 },
    ],
  });
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(v.getUint16(60, true), 0, 'e_shnum is 0');
  assert.equal(v.getUint16(62, true), SHN.XINDEX, 'e_shstrndx is SHN_XINDEX');
  const f = parseElf(bytes);
  assert.equal(f.sections.length, count + 5); // null, the sections, .symtab, .symtab_shndx, .strtab, .shstrtab
  assert.deepEqual(f.sections.slice(-4).map((s) => s.name), ['.symtab', '.symtab_shndx', '.strtab', '.shstrtab']);
  assert.equal(f.sections[f.shstrndx]!.name, '.shstrtab');
  const shndx = Object.fromEntries(f.symbols().map((s) => [s.name, s.shndx]));
  assert.deepEqual(shndx, { '': 0, low: 4, high: count, abs: SHN.ABS, common: SHN.COMMON });
  assert.deepEqual(f.sections[count]!.data, Uint8Array.of(0xaa));

  const path = tempFile('extended.o', bytes);
  const header = readelf(['--file-header'], path);
  assert.match(headerField(header, 'Number of section headers'), new RegExp(`^0 \\(${count + 5}\\)$`));
  assert.match(headerField(header, 'Section header string table index'), new RegExp(`^65535 \\(${f.shstrndx}\\)$`));
  const syms = run('llvm-readelf', ['--symbols', path]);
  assert.equal(syms.stderr, '');
  assert.deepEqual(parseSymbols(syms.stdout, '.symtab').map((s) => `${s.name}:${s.ndx}`), [':UND', `low:4`, `high:${count}`, 'abs:ABS', 'common:COM']);

  const again = writeElf(elfToWriteSpec(f));
  assertSameContent(f, parseElf(again));
});

test('writeElf rejects specs it cannot write with ElfWriteError', () => {
  const base: ElfWriteSpec = { type: ET.REL, machine: EM.BPF, sections: [{ name: 'a', type: SHT.PROGBITS }, { name: 'a', type: SHT.PROGBITS }, { name: 'b', type: SHT.PROGBITS }] };
  const rejects = (spec: ElfWriteSpec, message: RegExp) => assert.throws(() => writeElf(spec), (e: unknown) => e instanceof ElfWriteError && message.test(e.message));
  rejects({ ...base, symbols: [{ name: 'x', section: 'a' }] }, /sections 1, 2 are all named 'a'; refer to one by index/);
  rejects({ ...base, symbols: [{ name: 'x', section: 'zz' }] }, /no section is named 'zz'/);
  rejects({ ...base, symbols: [{ name: 'x', section: 99 }] }, /section index 99 is out of range/);
  rejects({ ...base, symbols: [{ name: 'x', section: 'b', special: SHN.ABS }] }, /either section or special/);
  rejects({ ...base, symbols: [{ name: 'x', special: 5 }] }, /not a reserved index/);
  rejects({ ...base, symbols: [{ name: 'x', value: -1 }] }, /not an unsigned 64-bit integer/);
  rejects({ ...base, symbols: [{ name: 'x', type: 16 }] }, /not an unsigned 4-bit integer/);
  const reloc = (symbol: string | number, extra: object = {}): ElfWriteSpec => ({
    ...base,
    sections: [...base.sections, { kind: 'relocations', target: 'b', relocations: [{ offset: 0, symbol, type: 1, ...extra }] }],
    symbols: [{ name: 'x' }, { name: 'x' }, { name: 'y' }],
  });
  rejects(reloc('x'), /2 symbols are named 'x'; refer to one by number/);
  rejects(reloc('nope'), /no symbol is named 'nope'/);
  rejects(reloc(4), /symbol number 4 is out of range/);
  rejects(reloc('y', { addend: 8 }), /SHT_REL cannot hold addend 8; set rela/);
  rejects({ ...base, sections: [{ name: 'c', type: SHT.PROGBITS, addralign: 3 }] }, /addralign 3 is not 0 or a power of two/);
  rejects({ ...base, sections: [{ name: 'c', type: SHT.PROGBITS, data: new Uint8Array(4), size: 8 }] }, /size 8 differs from the 4 bytes of data/);
  rejects({ ...base, sections: [{ kind: 'symtab' }, { kind: 'symtab' }] }, /places 2 'symtab' tables/);
  rejects({ ...base, sharedStringTable: true, sections: [{ kind: 'shstrtab' }] }, /conflicts with sharedStringTable/);
  rejects({ ...base, flags: 2 ** 32 }, /flags: 4294967296 is not an unsigned 32-bit integer/);
  assert.ok(writeElf(reloc(3)).byteLength > 0, 'the same spec with a valid symbol is written');
});

test('elfToWriteSpec refuses files with program headers', () => {
  assert.throws(() => elfToWriteSpec(parseElf(fixture('libtiny.so'))), (e: unknown) => e instanceof NotSupportedError && /program headers/.test(e.message));
});
