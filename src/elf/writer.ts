import { ByteWriter, StringTable } from '../bytes/writer.js';
import { ELF64_SIZE, ELF_MAGIC, ELFCLASS, ELFDATA, EV_CURRENT, SHF, SHN, SHT } from './constants.js';
import {
  ElfWriteError,
  type ElfDataSectionSpec,
  type ElfRelocationSectionSpec,
  type ElfSectionSpec,
  type ElfTableSectionSpec,
  type ElfWriteSpec,
  type SectionRef,
} from './spec.js';
import { encodeExtendedIndices, encodeRelocations, encodeSymbols, orderSymbols, placeSymbol, type OrderedSymbols, type Resolve } from './write-symbols.js';
import { alignUp, alignment, u64, uint } from './write-values.js';

type TableKind = ElfTableSectionSpec['kind'];

/** A section header and contents, ready to be laid out. */
interface OutSection {
  type: number;
  flags: bigint;
  addr: bigint;
  data: Uint8Array;
  /** sh_size (differs from data.length only for NOBITS). */
  size: number;
  addralign: number;
  entsize: number;
  link: number;
  info: number;
}

const DEFAULT_TABLE_NAMES: Record<TableKind, string> = {
  symtab: '.symtab',
  strtab: '.strtab',
  shstrtab: '.shstrtab',
  symtab_shndx: '.symtab_shndx',
};

const isTable = (s: ElfSectionSpec): s is ElfTableSectionSpec =>
  s.kind === 'symtab' || s.kind === 'strtab' || s.kind === 'shstrtab' || s.kind === 'symtab_shndx';

/**
 * Writes an ELF64 file without program headers (a relocatable object, typically): the header,
 * the contents of every section aligned to its sh_addralign, then the section header table.
 * Generates .symtab (locals first, sh_info = first non-local), .strtab, .shstrtab and, with
 * more than 0xff00 sections, .symtab_shndx and extended numbering. Throws ElfWriteError for
 * unknown or ambiguous names and out-of-range values.
 */
export function writeElf(spec: ElfWriteSpec): Uint8Array {
  const littleEndian = spec.littleEndian ?? true;
  const shared = spec.sharedStringTable ?? false;
  const layout = planSections(spec, shared);
  const count = layout.length + 1;
  const tableIndex = (kind: TableKind) => layout.findIndex((s) => s.kind === kind) + 1; // 0: absent

  // Names first: relocation sections default to a name derived from their target's.
  const names: string[] = layout.map((s) => (isTable(s) ? (s.name ?? DEFAULT_TABLE_NAMES[s.kind]) : s.kind === 'relocations' ? '' : s.name));
  layout.forEach((s, i) => {
    if (s.kind !== 'relocations') return;
    if (s.name !== undefined) names[i] = s.name;
    else {
      const target = typeof s.target === 'string' ? s.target : (names[s.target - 1] ?? '');
      names[i] = (s.rela ? '.rela' : '.rel') + target;
    }
  });
  const byName = new Map<string, number[]>();
  names.forEach((n, i) => {
    const list = byName.get(n);
    if (list === undefined) byName.set(n, [i + 1]);
    else list.push(i + 1);
  });
  const resolve: Resolve = (ref: SectionRef, what: string): number => {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref >= count) {
        throw new ElfWriteError(`${what}: section index ${ref} is out of range; the file has ${count} sections`);
      }
      return ref;
    }
    const found = byName.get(ref) ?? [];
    if (found.length === 0) throw new ElfWriteError(`${what}: no section is named '${ref}'`);
    if (found.length > 1) throw new ElfWriteError(`${what}: sections ${found.join(', ')} are all named '${ref}'; refer to one by index`);
    return found[0]!;
  };

  const symtabIndex = tableIndex('symtab');
  const strtabIndex = tableIndex('strtab');
  const shstrtabIndex = shared ? strtabIndex : tableIndex('shstrtab');

  // String tables: every name goes in before any table is finished.
  const strtab = new StringTable();
  const shstrtab = shared ? strtab : new StringTable();
  const nameOffsets = names.map((n) => shstrtab.add(n));
  const symbols = orderSymbols(spec.symbols ?? []);
  const symbolNameOffsets = symbols.ordered.map((s) => strtab.add(s.name ?? ''));
  const placements = symbols.ordered.map((s) => placeSymbol(s, resolve));

  const out: OutSection[] = layout.map((s, i) => {
    const name = names[i]!;
    const what = `section ${i + 1} (${name})`;
    if (s.kind === 'relocations') {
      return relocationSection(s, littleEndian, symbols, symtabIndex, resolve(s.target, `${what} target`), what);
    }
    if (!isTable(s)) return dataSection(s, resolve, what);
    switch (s.kind) {
      case 'symtab':
        return table(SHT.SYMTAB, encodeSymbols(symbols, placements, symbolNameOffsets, littleEndian), ELF64_SIZE.SYMBOL, 8, strtabIndex, symbols.firstNonLocal);
      case 'symtab_shndx':
        return table(SHT.SYMTAB_SHNDX, encodeExtendedIndices(placements, littleEndian), 4, 4, symtabIndex, 0);
      case 'strtab':
        return table(SHT.STRTAB, new Uint8Array(0), 0, 1, 0, 0); // filled below, once complete
      case 'shstrtab':
        return table(SHT.STRTAB, new Uint8Array(0), 0, 1, 0, 0);
    }
  });
  if (strtabIndex > 0) setData(out[strtabIndex - 1]!, strtab.finish());
  if (!shared && shstrtabIndex > 0) setData(out[shstrtabIndex - 1]!, shstrtab.finish());

  // Layout: header, contents in order (each aligned), section header table aligned to 8.
  const offsets: number[] = [];
  let pos: number = ELF64_SIZE.HEADER;
  for (const s of out) {
    pos = alignUp(pos, Math.max(1, s.addralign));
    offsets.push(pos);
    if (s.type !== SHT.NOBITS) pos += s.data.byteLength;
  }
  const shoff = alignUp(pos, 8);

  const w = new ByteWriter(littleEndian, shoff + count * ELF64_SIZE.SECTION_HEADER);
  const extended = count >= SHN.LORESERVE;
  const shstrndxExtended = shstrtabIndex >= SHN.LORESERVE;
  w.bytes(Uint8Array.from(ELF_MAGIC))
    .u8(ELFCLASS.CLASS64)
    .u8(littleEndian ? ELFDATA.LSB : ELFDATA.MSB)
    .u8(EV_CURRENT)
    .u8(uint(spec.osabi ?? 0, 8, 'osabi'))
    .u8(uint(spec.abiVersion ?? 0, 8, 'abiVersion'))
    .align(16)
    .u16(uint(spec.type, 16, 'type'))
    .u16(uint(spec.machine, 16, 'machine'))
    .u32(EV_CURRENT)
    .u64(u64(spec.entry ?? 0, 'entry'))
    .u64(0) // e_phoff: no program headers
    .u64(shoff)
    .u32(uint(spec.flags ?? 0, 32, 'flags'))
    .u16(ELF64_SIZE.HEADER)
    .u16(0) // e_phentsize
    .u16(0) // e_phnum
    .u16(ELF64_SIZE.SECTION_HEADER)
    .u16(extended ? 0 : count)
    .u16(shstrndxExtended ? SHN.XINDEX : shstrtabIndex);
  out.forEach((s) => {
    w.align(Math.max(1, s.addralign));
    if (s.type !== SHT.NOBITS) w.bytes(s.data);
  });
  w.align(8);
  // Section 0 carries the extended section count and name table index when they do not fit.
  writeHeader(w, 0, { type: SHT.NULL, flags: 0n, addr: 0n, data: new Uint8Array(0), size: extended ? count : 0, addralign: 0, entsize: 0, link: shstrndxExtended ? shstrtabIndex : 0, info: 0 }, 0);
  out.forEach((s, i) => writeHeader(w, nameOffsets[i]!, s, offsets[i]!));
  return w.finish();
}

/** The spec's sections plus markers for the generated tables the file needs but did not place. */
function planSections(spec: ElfWriteSpec, shared: boolean): ElfSectionSpec[] {
  const layout = [...spec.sections];
  const has = (kind: TableKind) => {
    const n = layout.filter((s) => s.kind === kind).length;
    if (n > 1) throw new ElfWriteError(`the spec places ${n} '${kind}' tables; at most one is allowed`);
    return n === 1;
  };
  if (shared && has('shstrtab')) throw new ElfWriteError("a 'shstrtab' section conflicts with sharedStringTable: section names go into .strtab");
  const needSymtab = spec.symbols !== undefined || layout.some((s) => s.kind === 'relocations') || has('symtab') || has('symtab_shndx');
  const needStrtab = needSymtab || shared || has('strtab');
  const missing: TableKind[] = [];
  if (needSymtab && !has('symtab')) missing.push('symtab');
  if (needStrtab && !has('strtab')) missing.push('strtab');
  if (!shared && !has('shstrtab')) missing.push('shstrtab');
  // Section indices from SHN_LORESERVE up need .symtab_shndx for the symbols defined there.
  if (needSymtab && !has('symtab_shndx') && layout.length + missing.length + 1 >= SHN.LORESERVE) {
    missing.splice(missing.indexOf('symtab') + 1, 0, 'symtab_shndx');
  }
  for (const kind of missing) layout.push({ kind });
  return layout;
}

function relocationSection(
  s: ElfRelocationSectionSpec,
  littleEndian: boolean,
  symbols: OrderedSymbols,
  symtabIndex: number,
  target: number,
  what: string,
): OutSection {
  const rela = s.rela ?? false;
  const data = encodeRelocations(s.relocations, rela, symbols, littleEndian, what);
  return {
    type: rela ? SHT.RELA : SHT.REL,
    flags: u64(s.flags ?? SHF.INFO_LINK, `${what} flags`),
    addr: 0n,
    data,
    size: data.byteLength,
    addralign: alignment(s.addralign ?? 8, what),
    entsize: rela ? ELF64_SIZE.RELA : ELF64_SIZE.REL,
    link: symtabIndex,
    info: target,
  };
}

function dataSection(s: ElfDataSectionSpec, resolve: Resolve, what: string): OutSection {
  const nobits = s.type === SHT.NOBITS;
  const data = nobits ? new Uint8Array(0) : (s.data ?? new Uint8Array(0));
  const size = nobits ? (s.size ?? s.data?.byteLength ?? 0) : data.byteLength;
  if (!nobits && s.size !== undefined && s.size !== data.byteLength) {
    throw new ElfWriteError(`${what}: size ${s.size} differs from the ${data.byteLength} bytes of data; only SHT_NOBITS sections have a size without data`);
  }
  return {
    type: uint(s.type, 32, `${what} type`),
    flags: u64(s.flags ?? 0, `${what} flags`),
    addr: u64(s.addr ?? 0, `${what} addr`),
    data,
    size: uint(size, 53, `${what} size`),
    addralign: alignment(s.addralign ?? 1, what),
    entsize: uint(s.entsize ?? 0, 53, `${what} entsize`),
    link: s.link === undefined ? 0 : resolve(s.link, `${what} link`),
    info: s.info === undefined ? 0 : typeof s.info === 'string' ? resolve(s.info, `${what} info`) : uint(s.info, 32, `${what} info`),
  };
}

function table(type: number, data: Uint8Array, entsize: number, addralign: number, link: number, info: number): OutSection {
  return { type, flags: 0n, addr: 0n, data, size: data.byteLength, addralign, entsize, link, info };
}

function setData(s: OutSection, data: Uint8Array): void {
  s.data = data;
  s.size = data.byteLength;
}

function writeHeader(w: ByteWriter, name: number, s: OutSection, offset: number): void {
  w.u32(name).u32(s.type).u64(s.flags).u64(s.addr).u64(offset).u64(s.size).u32(s.link).u32(s.info).u64(s.addralign).u64(s.entsize);
}

