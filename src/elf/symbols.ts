import { FormatError } from '../errors.js';
import type { ByteReader } from '../bytes/reader.js';
import { ELF64_SIZE, SHN, SHT } from './constants.js';
import { describeSection, readString } from './strings.js';
import type { ElfSection, ElfSymbol } from './types.js';

/** What symbol and relocation decoding need to know about the file around a section. */
export interface TableContext {
  /** The file, for its byte order. */
  reader: ByteReader;
  sections: readonly ElfSection[];
  /** File offset of a section's header, for error locations. */
  headerOffset(index: number): number;
}

/** Throws unless `table`'s sh_entsize is `size` and its sh_size a multiple of it. */
export function checkEntries(ctx: TableContext, table: ElfSection, size: number, what: string): number {
  const at = ctx.headerOffset(table.index);
  if (table.entsize !== size) {
    throw new FormatError('ELF', at + 56, `${describeSection(table)}: sh_entsize is ${table.entsize}; ${what} are ${size} bytes`);
  }
  if (table.data.byteLength % size !== 0) {
    throw new FormatError('ELF', at + 32, `${describeSection(table)}: size ${table.data.byteLength} is not a multiple of the ${size}-byte ${what}`);
  }
  return table.data.byteLength / size;
}

/** The section `table.link` names, which must exist and have one of `types`. */
export function linkedSection(ctx: TableContext, table: ElfSection, types: readonly number[], expected: string): ElfSection {
  const at = ctx.headerOffset(table.index) + 40;
  const linked = ctx.sections[table.link];
  if (table.link === 0 || linked === undefined) {
    throw new FormatError('ELF', at, `${describeSection(table)}: sh_link ${table.link} names no section (the file has ${ctx.sections.length}); expected its ${expected}`);
  }
  if (!types.includes(linked.type)) {
    throw new FormatError('ELF', at, `${describeSection(table)}: sh_link ${table.link} names ${describeSection(linked)} of type ${linked.type}; expected its ${expected}`);
  }
  return linked;
}

/**
 * Decodes a SHT_SYMTAB or SHT_DYNSYM section, entry 0 (the null symbol) included, resolving
 * names through its sh_link string table and SHN_XINDEX through its SHT_SYMTAB_SHNDX section.
 */
export function decodeSymbols(ctx: TableContext, table: ElfSection): ElfSymbol[] {
  const le = ctx.reader.littleEndian;
  const SYM = ELF64_SIZE.SYMBOL;
  const count = checkEntries(ctx, table, SYM, 'ELF64 symbols');
  const strtab = linkedSection(ctx, table, [SHT.STRTAB], 'string table (SHT_STRTAB)');
  // checkEntries proved the entries fill the table, which lies inside the file: read directly.
  const view = tableView(table);
  let xindex: DataView | undefined | null = null; // null: not looked up yet
  const symbols: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * SYM;
    const nameOffset = view.getUint32(at, le);
    const info = view.getUint8(at + 4);
    let shndx = view.getUint16(at + 6, le);
    if (shndx === SHN.XINDEX) {
      if (xindex === null) xindex = extendedIndexTable(ctx, table, count);
      if (xindex === undefined) {
        throw new FormatError('ELF', table.offset + at + 6, `symbol ${i} of ${describeSection(table)} has st_shndx SHN_XINDEX but no SHT_SYMTAB_SHNDX section links to the table`);
      }
      shndx = xindex.getUint32(i * 4, le);
    }
    symbols[i] = {
      index: i,
      name: nameOffset === 0 ? '' : readString(strtab, nameOffset, table.offset + at, () => `symbol ${i} of ${describeSection(table)}`),
      value: view.getBigUint64(at + 8, le),
      size: view.getBigUint64(at + 16, le),
      type: info & 0xf,
      bind: info >> 4,
      visibility: view.getUint8(at + 5) & 3,
      shndx,
    };
  }
  return symbols;
}

/** A DataView over a section's contents (which parseElf checked lie inside the file). */
export function tableView(s: ElfSection): DataView {
  return new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
}

/** The SHT_SYMTAB_SHNDX section holding extended indices for `table`, checked to cover it. */
function extendedIndexTable(ctx: TableContext, table: ElfSection, count: number): DataView | undefined {
  const x = ctx.sections.find((s) => s.index > 0 && s.type === SHT.SYMTAB_SHNDX && s.link === table.index);
  if (x === undefined) return undefined;
  const entries = checkEntries(ctx, x, 4, 'extended section indices');
  if (entries < count) {
    throw new FormatError('ELF', ctx.headerOffset(x.index) + 32, `${describeSection(x)}: holds ${entries} indices but ${describeSection(table)} has ${count} symbols`);
  }
  return tableView(x);
}
