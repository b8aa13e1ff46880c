import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.js';
import { PT, SHN, parseElf, type ElfFile } from '../../src/elf/index.js';
import { fixture } from './oracle.js';

/** A copy of a fixture with a DataView and the file offset of each section header. */
function patch(name: string, edit: (v: DataView, sh: (index: number) => number, bytes: Uint8Array) => void): Uint8Array {
  const bytes = fixture(name).slice();
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer);
  const shoff = Number(v.getBigUint64(40, le));
  edit(v, (i) => shoff + i * 64, bytes);
  return bytes;
}

/** Asserts that `fn` throws FormatError('ELF') at `offset` (when given) with a detail matching `detail`. */
function throwsFormat(fn: () => unknown, detail: RegExp, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
    assert.equal(e.format, 'ELF');
    assert.match(e.detail, detail);
    if (offset !== undefined) assert.equal(e.offset, offset, `offset of: ${e.message}`);
    return true;
  });
}

const LE = 'programs.bpf.o';
// Sections of programs.bpf.o (see llvm-readelf -S): 1 .strtab (names), 2 .text, 3 .rel.text, 33 .symtab.
const STRTAB = 1;
const TEXT = 2;
const REL_TEXT = 3;
const SYMTAB = 33;

test('too short, wrong magic, 32-bit, bad byte order', () => {
  throwsFormat(() => parseElf(new Uint8Array(0)), /identification alone needs 16/, 0);
  throwsFormat(() => parseElf(fixture(LE).subarray(0, 15)), /15 bytes long/, 0);
  throwsFormat(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho not an elf\n')), /not an ELF file: magic bytes are 23 21 2f 62/, 0);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint8(4, 1))), /ELFCLASS32 .* only ELF64 is supported/, 4);
  throwsFormat(() => parseElf(patch('programs.bpfeb.o', (v) => v.setUint8(4, 1))), /only ELF64 is supported/, 4);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint8(4, 3))), /invalid EI_CLASS 3: expected 2/, 4);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint8(5, 0))), /invalid EI_DATA 0/, 5);
  throwsFormat(() => parseElf(fixture(LE).subarray(0, 40)), /ELF64 header: needs 64 bytes/);
});

test('section header table: truncated, wrong entry size, bad e_shstrndx', () => {
  const bytes = fixture(LE);
  throwsFormat(() => parseElf(bytes.subarray(0, bytes.length - 100)), /section header table: 34 headers .* run past the end of the file/);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint16(58, 32, true))), /e_shentsize is 32; ELF64 section headers are 64 bytes/, 58);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint16(62, 200, true))), /e_shstrndx 200 names no section: the file has 34/, 62);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setUint16(62, TEXT, true))), /expected SHT_STRTAB/, 62);
  throwsFormat(() => parseElf(patch(LE, (v) => v.setBigUint64(40, 1n << 62n, true))), /e_shoff: value .* too large/, 40);
});

test('section contents running past the end of the file', () => {
  const len = fixture(LE).length;
  throwsFormat(
    () => parseElf(patch(LE, (v, sh) => v.setBigUint64(sh(TEXT) + 24, BigInt(len - 4), true))),
    /section 2 \(\.text\): contents at 0x[0-9a-f]+ \+ 0xe0 bytes run past the end of the file/,
    Number(new DataView(fixture(LE).buffer).getBigUint64(40, true)) + TEXT * 64 + 24,
  );
  throwsFormat(() => parseElf(patch(LE, (v, sh) => v.setBigUint64(sh(TEXT) + 32, 1n << 52n, true))), /run past the end of the file/);
  throwsFormat(() => parseElf(patch(LE, (v, sh) => v.setBigUint64(sh(TEXT) + 32, 1n << 60n, true))), /sh_size: value .* too large/);
  // The same in a big-endian file, and for the section name table itself.
  throwsFormat(() => parseElf(patch('programs.bpfeb.o', (v, sh) => v.setBigUint64(sh(TEXT) + 24, 1n << 40n, false))), /\.text.*run past the end/);
  throwsFormat(() => parseElf(patch(LE, (v, sh) => v.setBigUint64(sh(STRTAB) + 32, 1n << 20n, true))), /section 1 .*run past the end/);
  // NOBITS sections take no room in the file, wherever they claim to be.
  const bss = parseElf(fixture(LE)).section('.bss')!;
  const moved = parseElf(patch(LE, (v, sh) => v.setBigUint64(sh(bss.index) + 24, 1n << 40n, true)));
  assert.equal(moved.section('.bss')!.data.byteLength, 0);
});

test('names outside or unterminated in their string table', () => {
  throwsFormat(() => parseElf(patch(LE, (v, sh) => v.setUint32(sh(TEXT), 0x10000, true))), /section 2 name: string offset 0x10000 lies outside string table section 1 \(\.strtab\)/);
  // Symbol names are checked when symbols are decoded.
  const badSymbolName = patch(LE, (v, sh) => {
    const symtab = Number(v.getBigUint64(sh(SYMTAB) + 24, true));
    v.setUint32(symtab + 24 * 5, 0xfffff, true);
  });
  const file = parseElf(badSymbolName);
  throwsFormat(() => file.symbols(), /symbol 5 of section 33 \(\.symtab\): string offset 0xfffff lies outside/);
  // Drop the table's final NUL: whatever name was last now runs off the end of the table.
  const unterminated = patch(LE, (v, sh) => {
    const off = Number(v.getBigUint64(sh(STRTAB) + 24, true));
    const size = Number(v.getBigUint64(sh(STRTAB) + 32, true));
    v.setUint8(off + size - 1, 0x41);
  });
  throwsFormat(() => {
    const f = parseElf(unterminated);
    f.symbols();
  }, /not NUL-terminated inside the table/);
});

test('symbol tables: wrong entsize, ragged size, bad sh_link, SHN_XINDEX without a table', () => {
  const sym = (edit: (v: DataView, at: number) => void) => parseElf(patch(LE, (v, sh) => edit(v, sh(SYMTAB))));
  throwsFormat(() => sym((v, at) => v.setBigUint64(at + 56, 16n, true)).symbols(), /section 33 \(\.symtab\): sh_entsize is 16; ELF64 symbols are 24 bytes/);
  throwsFormat(() => sym((v, at) => v.setBigUint64(at + 32, 24n * 27n - 1n, true)).symbols(), /size 647 is not a multiple of the 24-byte/);
  throwsFormat(() => sym((v, at) => v.setUint32(at + 40, 999, true)).symbols(), /sh_link 999 names no section \(the file has 34\)/);
  throwsFormat(() => sym((v, at) => v.setUint32(at + 40, TEXT, true)).symbols(), /sh_link 2 names section 2 \(\.text\) .*expected its string table/);
  const xindex = patch(LE, (v, sh) => {
    const symtab = Number(v.getBigUint64(sh(SYMTAB) + 24, true));
    v.setUint16(symtab + 24 * 20 + 6, SHN.XINDEX, true);
  });
  throwsFormat(() => parseElf(xindex).symbols(), /st_shndx SHN_XINDEX but no SHT_SYMTAB_SHNDX section/);
});

test('relocations: wrong section type, bad sh_link, symbol index out of range', () => {
  const file = parseElf(fixture(LE));
  throwsFormat(() => file.relocations(file.section('.text')!), /has type 1; relocations need SHT_REL \(9\) or SHT_RELA \(4\)/);
  const rel = (edit: (v: DataView, at: number) => void): ElfFile => parseElf(patch(LE, (v, sh) => edit(v, sh(REL_TEXT))));
  throwsFormat(() => { const f = rel((v, at) => v.setUint32(at + 40, 77, true)); f.relocations(f.sections[REL_TEXT]!); }, /sh_link 77 names no section/);
  throwsFormat(() => { const f = rel((v, at) => v.setUint32(at + 40, TEXT, true)); f.relocations(f.sections[REL_TEXT]!); }, /expected its symbol table/);
  throwsFormat(() => { const f = rel((v, at) => v.setBigUint64(at + 56, 24n, true)); f.relocations(f.sections[REL_TEXT]!); }, /sh_entsize is 24; Elf64_Rel entries are 16 bytes/);
  const badSymbol = patch(LE, (v, sh) => {
    const off = Number(v.getBigUint64(sh(REL_TEXT) + 24, true));
    v.setUint32(off + 16 + 12, 1000, true); // second entry, high half of r_info
  });
  const f = parseElf(badSymbol);
  throwsFormat(() => f.relocations(f.sections[REL_TEXT]!), /relocation 1 of section 3 \(\.rel\.text\): symbol index 1000 but the symbol table has 27 entries/);
});

test('notes: wrong section type, truncated notes, bad alignment, segment outside the file', () => {
  const obj = parseElf(fixture('tiny.o'));
  throwsFormat(() => obj.notes(obj.section('.text')!), /notes live in SHT_NOTE/);
  const note = obj.section('.note.tiny')!;
  const edit = (f: (v: DataView, noteOffset: number, shOffset: number) => void) =>
    parseElf(patch('tiny.o', (v, sh) => f(v, Number(v.getBigUint64(sh(note.index) + 24, true)), sh(note.index))));
  let bad = edit((v, at) => v.setUint32(at, 1000, true)); // n_namesz
  throwsFormat(() => bad.notes(bad.section('.note.tiny')!), /name size 1000 .* runs past the end of its 28 bytes/, note.offset);
  bad = edit((v, at) => v.setUint32(at + 4, 0xffffffff, true)); // n_descsz
  throwsFormat(() => bad.notes(bad.section('.note.tiny')!), /descriptor size 4294967295/);
  bad = edit((v, _at, sh) => v.setBigUint64(sh + 32, 20n, true)); // room for the header and part of the name only
  throwsFormat(() => bad.notes(bad.section('.note.tiny')!), /runs past the end of its 20 bytes/);
  bad = edit((v, _at, sh) => v.setBigUint64(sh + 32, 30n, true)); // two stray bytes after the note
  throwsFormat(() => bad.notes(bad.section('.note.tiny')!), /2 bytes left, too few for a 12-byte note header/);
  bad = edit((v, _at, sh) => v.setBigUint64(sh + 48, 16n, true));
  throwsFormat(() => bad.notes(bad.section('.note.tiny')!), /alignment 16 is not valid for notes/);

  const so = fixture('libtiny.so').slice();
  const file = parseElf(so);
  const index = file.segments.findIndex((s) => s.type === PT.NOTE);
  new DataView(so.buffer).setBigUint64(64 + index * 56 + 8, 1n << 40n, true); // p_offset
  const moved = parseElf(so);
  throwsFormat(() => moved.notes(moved.segments[index]!), /PT_NOTE segment at 0x10000000000/);
  throwsFormat(() => moved.notes(moved.segments.find((s) => s.type === PT.LOAD)!), /is not PT_NOTE/);
});

test('extended numbering: e_shnum 0 and e_shstrndx SHN_XINDEX read the real values from section 0', () => {
  const original = parseElf(fixture(LE));
  const extended = parseElf(
    patch(LE, (v, sh) => {
      v.setUint16(60, 0, true); // e_shnum
      v.setBigUint64(sh(0) + 32, 34n, true); // sh_size = real count
      v.setUint16(62, SHN.XINDEX, true);
      v.setUint32(sh(0) + 40, STRTAB, true); // sh_link = real e_shstrndx
    }),
  );
  assert.equal(extended.shstrndx, STRTAB);
  assert.deepEqual(
    extended.sections.slice(1).map((s) => ({ ...s, data: [...s.data] })),
    original.sections.slice(1).map((s) => ({ ...s, data: [...s.data] })),
  );
  assert.deepEqual(extended.symbols(), original.symbols());
  // A count in section 0 that the file cannot hold is an error, not a huge allocation.
  throwsFormat(() => parseElf(patch(LE, (v, sh) => { v.setUint16(60, 0, true); v.setBigUint64(sh(0) + 32, 1n << 40n, true); })), /1099511627776 headers .* run past the end/);
  // e_phnum PN_XNUM takes the program header count from section 0's sh_info.
  const phnum = patch(LE, (v, sh) => {
    v.setUint16(56, 0xffff, true);
    v.setBigUint64(32, BigInt(sh(0)), true); // e_phoff: any readable bytes will do
    v.setUint16(54, 56, true); // e_phentsize
    v.setUint32(sh(0) + 44, 2, true);
  });
  const withSegments = parseElf(phnum);
  assert.equal(withSegments.segments.length, 2);
  assert.equal(withSegments.segments[0]!.filesz, 0, 'section 0 read as a program header');
  throwsFormat(() => parseElf(patch(LE, (v, sh) => { v.setUint16(56, 0xffff, true); v.setBigUint64(32, 64n, true); v.setUint16(54, 56, true); v.setUint32(sh(0) + 44, 1e6, true); })), /program header table: 1000000 headers/);
  throwsFormat(() => parseElf(patch(LE, (v) => { v.setUint16(56, 1, true); v.setBigUint64(32, 64n, true); })), /e_phentsize is 0; ELF64 program headers are 56 bytes/, 54);
});

test('e_shstrndx 0 (no section name table) leaves every section unnamed', () => {
  const f = parseElf(patch(LE, (v) => v.setUint16(62, 0, true)));
  assert.equal(f.shstrndx, 0);
  assert.ok(f.sections.every((s) => s.name === ''));
  assert.equal(f.symbols()[20]!.name, 'on_sleep', 'symbol names come from the symbol string table');
});
