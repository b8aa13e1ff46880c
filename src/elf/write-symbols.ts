/** Encoding of .symtab, .symtab_shndx and relocation entries for the writer. */

import { ByteWriter } from '../bytes/writer.js';
import { ELF64_SIZE, SHN, STB } from './constants.js';
import { ElfWriteError, type ElfRelocationSpec, type ElfSymbolSpec, type SectionRef } from './spec.js';
import { i64, u64, uint } from './write-values.js';

/** The spec's symbols in written order, with what relocations need to find them. */
export interface OrderedSymbols {
  /** Locals first, then the rest, each group in spec order. */
  ordered: ElfSymbolSpec[];
  /** newIndex[n] is the written index of spec symbol n (1-based; 0, the null symbol, stays 0). */
  newIndex: number[];
  /** Index of the first non-local symbol: .symtab's sh_info. */
  firstNonLocal: number;
  /** Non-empty name -> spec numbers (1-based) of the symbols carrying it. */
  byName: Map<string, number[]>;
}

/** Moves local symbols ahead of the others (ELF requires it), keeping each group's order. */
export function orderSymbols(symbols: readonly ElfSymbolSpec[]): OrderedSymbols {
  const newIndex: number[] = [0];
  const locals: number[] = [];
  const others: number[] = [];
  symbols.forEach((s, i) => ((s.bind ?? STB.LOCAL) === STB.LOCAL ? locals : others).push(i));
  const order = [...locals, ...others];
  order.forEach((old, i) => (newIndex[old + 1] = i + 1));
  const byName = new Map<string, number[]>();
  symbols.forEach((s, i) => {
    const name = s.name ?? '';
    if (name === '') return;
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [i + 1]);
    else list.push(i + 1);
  });
  return { ordered: order.map((i) => symbols[i]!), newIndex, firstNonLocal: locals.length + 1, byName };
}

/** Resolves a section reference of the spec to a section index of the written file. */
export type Resolve = (ref: SectionRef, what: string) => number;

/** Where a symbol is defined: its st_shndx, and the index its SHT_SYMTAB_SHNDX entry holds. */
export interface SymbolPlacement {
  shndx: number;
  extended: number;
}

/** A symbol's st_shndx, with section indices from SHN_LORESERVE up moved to SHT_SYMTAB_SHNDX. */
export function placeSymbol(s: ElfSymbolSpec, resolve: Resolve): SymbolPlacement {
  const what = `symbol '${s.name ?? ''}'`;
  if (s.section !== undefined && s.special !== undefined) {
    throw new ElfWriteError(`${what}: give either section or special, not both`);
  }
  if (s.special !== undefined) {
    const v = uint(s.special, 16, `${what} special`);
    if (v === SHN.XINDEX || (v !== SHN.UNDEF && v < SHN.LORESERVE)) {
      throw new ElfWriteError(`${what}: special index 0x${v.toString(16)} is not a reserved index (SHN_UNDEF, SHN_ABS, SHN_COMMON...); use section`);
    }
    return { shndx: v, extended: 0 };
  }
  if (s.section === undefined) return { shndx: SHN.UNDEF, extended: 0 };
  const index = resolve(s.section, `${what} section`);
  return index >= SHN.LORESERVE ? { shndx: SHN.XINDEX, extended: index } : { shndx: index, extended: 0 };
}

/** The .symtab contents: the null symbol, then `symbols.ordered`. */
export function encodeSymbols(symbols: OrderedSymbols, placements: SymbolPlacement[], nameOffsets: number[], littleEndian: boolean): Uint8Array {
  const w = new ByteWriter(littleEndian, (symbols.ordered.length + 1) * ELF64_SIZE.SYMBOL);
  w.u32(0).u8(0).u8(0).u16(0).u64(0).u64(0); // the null symbol
  symbols.ordered.forEach((s, i) => {
    const what = `symbol '${s.name ?? ''}'`;
    const type = uint(s.type ?? 0, 4, `${what} type`);
    const bind = uint(s.bind ?? STB.LOCAL, 4, `${what} bind`);
    w.u32(nameOffsets[i]!)
      .u8((bind << 4) | type)
      .u8(uint(s.visibility ?? 0, 2, `${what} visibility`))
      .u16(placements[i]!.shndx)
      .u64(u64(s.value ?? 0, `${what} value`))
      .u64(u64(s.size ?? 0, `${what} size`));
  });
  return w.finish();
}

/** The .symtab_shndx contents: one u32 per symbol, the real index for SHN_XINDEX ones. */
export function encodeExtendedIndices(placements: SymbolPlacement[], littleEndian: boolean): Uint8Array {
  const w = new ByteWriter(littleEndian, (placements.length + 1) * 4).u32(0);
  for (const p of placements) w.u32(p.extended);
  return w.finish();
}

/** Elf64_Rel or Elf64_Rela entries, symbols renumbered to their written indices. */
export function encodeRelocations(relocations: readonly ElfRelocationSpec[], rela: boolean, symbols: OrderedSymbols, littleEndian: boolean, what: string): Uint8Array {
  const entsize = rela ? ELF64_SIZE.RELA : ELF64_SIZE.REL;
  const w = new ByteWriter(littleEndian, Math.max(16, relocations.length * entsize));
  relocations.forEach((r, i) => {
    const at = `${what} relocation ${i}`;
    const symbol = symbolIndex(r.symbol, symbols, at);
    w.u64(u64(r.offset, `${at} offset`));
    w.u64((BigInt(symbol) << 32n) | BigInt(uint(r.type, 32, `${at} type`)));
    if (rela) w.u64(BigInt.asUintN(64, i64(r.addend ?? 0, `${at} addend`)));
    else if (r.addend !== undefined && BigInt(r.addend) !== 0n) throw new ElfWriteError(`${at}: SHT_REL cannot hold addend ${r.addend}; set rela`);
  });
  return w.finish();
}

function symbolIndex(ref: string | number, symbols: OrderedSymbols, what: string): number {
  if (typeof ref === 'string') {
    const found = symbols.byName.get(ref) ?? [];
    if (found.length === 0) throw new ElfWriteError(`${what}: no symbol is named '${ref}'`);
    if (found.length > 1) throw new ElfWriteError(`${what}: ${found.length} symbols are named '${ref}'; refer to one by number`);
    return symbols.newIndex[found[0]!]!;
  }
  const index = symbols.newIndex[ref];
  if (!Number.isInteger(ref) || index === undefined) {
    throw new ElfWriteError(`${what}: symbol number ${ref} is out of range; there are ${symbols.ordered.length} symbols after the null symbol`);
  }
  return index;
}
