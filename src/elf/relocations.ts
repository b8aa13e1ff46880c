import { FormatError } from '../errors.js';
import { ELF64_SIZE, SHT } from './constants.js';
import { describeSection } from './strings.js';
import { checkEntries, linkedSection, tableView, type TableContext } from './symbols.js';
import type { ElfRelocation, ElfSection } from './types.js';

/**
 * Decodes a SHT_REL or SHT_RELA section. Symbol indices are checked against the symbol table
 * the section links to (sh_link 0 is allowed, for dynamic relocations without symbols).
 */
export function decodeRelocations(ctx: TableContext, section: ElfSection): ElfRelocation[] {
  const rela = section.type === SHT.RELA;
  if (!rela && section.type !== SHT.REL) {
    throw new FormatError('ELF', ctx.headerOffset(section.index) + 4, `${describeSection(section)} has type ${section.type}; relocations need SHT_REL (9) or SHT_RELA (4)`);
  }
  const size = rela ? ELF64_SIZE.RELA : ELF64_SIZE.REL;
  const count = checkEntries(ctx, section, size, rela ? 'Elf64_Rela entries' : 'Elf64_Rel entries');
  let symbols = Infinity;
  if (section.link !== 0) {
    const symtab = linkedSection(ctx, section, [SHT.SYMTAB, SHT.DYNSYM], 'symbol table (SHT_SYMTAB or SHT_DYNSYM)');
    symbols = Math.floor(symtab.data.byteLength / ELF64_SIZE.SYMBOL);
  }
  const le = ctx.reader.littleEndian;
  const view = tableView(section); // checkEntries proved the entries fill the section
  const out: ElfRelocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    // r_info = sym << 32 | type: read its halves directly instead of through a bigint.
    const type = view.getUint32(le ? at + 8 : at + 12, le);
    const symbol = view.getUint32(le ? at + 12 : at + 8, le);
    if (symbol >= symbols) {
      throw new FormatError('ELF', section.offset + at + 8, `relocation ${i} of ${describeSection(section)}: symbol index ${symbol} but the symbol table has ${symbols} entries`);
    }
    out[i] = rela
      ? { offset: view.getBigUint64(at, le), symbol, type, addend: view.getBigInt64(at + 16, le) }
      : { offset: view.getBigUint64(at, le), symbol, type };
  }
  return out;
}
