/**
 * Pieces shared by the llvm-objdump-compatible listings: the file header line, symbol names of
 * sections, hex formatting.
 */
import { EM, SHN, STT, type ElfFile, type ElfSymbol } from '../elf/index.js';

/** `0000000000000048`: a 64-bit value as 16 hex digits, as llvm-objdump prints addresses. */
export function hex16(v: bigint | number): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}

/** The blank line and `file:\tfile format elf64-bpf` line that start every listing. */
export function fileHeader(file: ElfFile, path: string): string {
  return `\n${path}:\tfile format ${formatName(file)}\n`;
}

function formatName(file: ElfFile): string {
  switch (file.machine) {
    case EM.BPF:
      return 'elf64-bpf';
    case EM.X86_64:
      return 'elf64-x86-64';
    case EM.AARCH64:
      return file.littleEndian ? 'elf64-littleaarch64' : 'elf64-bigaarch64';
    default:
      return file.littleEndian ? 'elf64-little' : 'elf64-big';
  }
}

/** The name llvm-objdump shows for a symbol: its own, or its section's for section symbols. */
export function symbolDisplayName(file: ElfFile, sym: ElfSymbol): string {
  if (sym.type === STT.SECTION && sym.name === '' && sym.shndx < file.sections.length) {
    return file.sections[sym.shndx]!.name;
  }
  return sym.name;
}

/** `*ABS*`, `*UND*`, `*COM*` or the defining section's name. */
export function symbolSectionName(file: ElfFile, sym: ElfSymbol): string {
  if (sym.shndx === SHN.UNDEF) return '*UND*';
  if (sym.shndx === SHN.ABS) return '*ABS*';
  if (sym.shndx === SHN.COMMON) return '*COM*';
  return file.sections[sym.shndx]?.name ?? '*UND*';
}
