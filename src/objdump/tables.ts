/**
 * The section, symbol and relocation tables as `llvm-objdump -h`, `-t` and `-r` print them.
 */
import { EM, R_BPF, SHF, SHT, STB, STT, STV, constantName, type ElfFile, type ElfRelocation, type ElfSection } from '../elf/index.js';
import { hex16, symbolDisplayName, symbolSectionName } from './common.js';

/** `llvm-objdump -h`: index, name, size, address and kind of every section. */
export function sectionTable(file: ElfFile): string {
  const width = Math.max(4, ...file.sections.map((s) => s.name.length));
  const rows = file.sections.map(
    (s) =>
      `${String(s.index).padStart(3)} ${s.name.padEnd(width)} ${s.size.toString(16).padStart(8, '0')} ${hex16(s.addr)} ${sectionKind(s)}`,
  );
  return `\nSections:\nIdx ${'Name'.padEnd(width)} Size     VMA              Type\n${rows.join('\n')}\n`;
}

function sectionKind(s: ElfSection): string {
  const alloc = (s.flags & SHF.ALLOC) !== 0n;
  const kinds: string[] = [];
  if ((s.flags & SHF.EXECINSTR) !== 0n) kinds.push('TEXT');
  else if (alloc && s.type !== SHT.NOBITS && s.type !== SHT.NULL) kinds.push('DATA');
  if (alloc && s.type === SHT.NOBITS) kinds.push('BSS');
  if (s.name.startsWith('.debug') || s.name.startsWith('.zdebug')) kinds.push('DEBUG');
  return kinds.join(' ');
}

/** `llvm-objdump -t`: every symbol, in symbol-table order, with its flags, section and size. */
export function symbolTable(file: ElfFile): string {
  const rows = file.symbols().slice(1).map((sym) => {
    const defined = sym.shndx !== 0;
    const weak = sym.bind === STB.WEAK;
    const scope = !defined || weak ? ' ' : sym.bind === STB.LOCAL ? 'l' : sym.bind === STB.GNU_UNIQUE ? 'u' : 'g';
    const ifunc = sym.type === STT.GNU_IFUNC ? 'i' : ' ';
    const debug = sym.type === STT.SECTION || sym.type === STT.FILE ? 'd' : ' ';
    const kind =
      sym.type === STT.FILE ? 'f' : sym.type === STT.FUNC || sym.type === STT.GNU_IFUNC ? 'F' : sym.type === STT.OBJECT || sym.type === STT.COMMON || sym.type === STT.TLS ? 'O' : ' ';
    const flags = `${scope}${weak ? 'w' : ' '}  ${ifunc}${debug}${kind}`;
    const visibility = sym.visibility === STV.HIDDEN ? '.hidden ' : sym.visibility === STV.PROTECTED ? '.protected ' : sym.visibility === STV.INTERNAL ? '.internal ' : '';
    return `${hex16(sym.value)} ${flags} ${symbolSectionName(file, sym)}\t${hex16(sym.size)} ${visibility}${symbolDisplayName(file, sym)}`;
  });
  return `\nSYMBOL TABLE:\n${rows.map((r) => r + '\n').join('')}`;
}

/** `llvm-objdump -r`: the relocations of every relocation section. */
export function relocationTables(file: ElfFile): string {
  let out = '';
  for (const sec of file.sections) {
    if (sec.type !== SHT.REL && sec.type !== SHT.RELA) continue;
    const target = file.sections[sec.info];
    out += `\nRELOCATION RECORDS FOR [${target?.name ?? ''}]:\nOFFSET           TYPE                     VALUE\n`;
    for (const rel of file.relocations(sec)) {
      out += `${hex16(rel.offset)} ${relocationTypeName(file, rel.type).padEnd(24)} ${relocationValue(file, sec, rel)}\n`;
    }
  }
  return out;
}

/** `R_BPF_64_64` and friends; the number for types of other machines. */
export function relocationTypeName(file: ElfFile, type: number): string {
  if (file.machine === EM.BPF) return constantName(R_BPF, type) ?? 'Unknown';
  return String(type);
}

/** The symbol a relocation refers to, with a RELA addend when there is one. */
export function relocationValue(file: ElfFile, relocSection: ElfSection, rel: ElfRelocation): string {
  const symbols = relocSection.link === file.sections.findIndex((s) => s.type === SHT.DYNSYM) ? file.dynamicSymbols() : file.symbols();
  const sym = rel.symbol === 0 ? undefined : symbols[rel.symbol];
  const name = sym ? symbolDisplayName(file, sym) : '*ABS*';
  if (rel.addend === undefined || rel.addend === 0n) return name;
  return rel.addend > 0n ? `${name}+0x${rel.addend.toString(16)}` : `${name}-0x${(-rel.addend).toString(16)}`;
}
