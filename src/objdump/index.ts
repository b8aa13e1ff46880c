/**
 * An llvm-objdump for BPF objects: the same section, symbol and relocation tables and the same
 * disassembly text, plus optional plain-language annotations.
 */
import { parseBtf, parseBtfExt } from '../btf/index.js';
import { parseElf, type ElfFile, type ElfSection } from '../elf/index.js';
import { annotator } from './annotate/index.js';
import { describeCoreRelo } from './core-relo.js';
import { fileHeader } from './common.js';
import { disassembly, type DisassembleOptions } from './disassemble.js';
import { relocationTables, sectionTable, symbolTable } from './tables.js';

export { codeSections, disassembly, placeInstructions, type DisassembleOptions, type PlacedInstruction } from './disassemble.js';
export { relocationTables, sectionTable, symbolTable } from './tables.js';

/** Which listings to print, in llvm-objdump's order. */
export interface ObjdumpOptions extends Omit<DisassembleOptions, 'relocations'> {
  /** -h */
  headers?: boolean;
  /** -t */
  syms?: boolean;
  /** -r (interleaved into the disassembly when combined with -d) */
  reloc?: boolean;
  /** -d */
  disassemble?: boolean;
  /** With -d: a plain-language comment per instruction. */
  annotate?: boolean;
}

/**
 * Renders what `llvm-objdump` prints for the given flags.
 *
 * @example
 * objdump(readFileSync('prog.bpf.o'), 'prog.bpf.o', { disassemble: true });
 */
export function objdump(bytes: Uint8Array, path: string, options: ObjdumpOptions): string {
  const file = parseElf(bytes);
  let out = fileHeader(file, path);
  if (options.headers) out += sectionTable(file);
  if (options.syms) out += symbolTable(file);
  if (options.reloc && !options.disassemble) out += relocationTables(file);
  if (options.disassemble) {
    const coreRelocations = options.llvm === 14 ? undefined : coreRelocationLines(file);
    const comment = options.annotate ? annotator(file) : undefined;
    out += disassembly(file, { ...options, relocations: options.reloc, coreRelocations, comment });
  }
  return out;
}

/**
 * The CO-RE records of .BTF.ext by section, described; nothing when the object has no .BTF.ext
 * (llvm-objdump 14 predates this listing).
 */
function coreRelocationLines(file: ElfFile): ((section: ElfSection) => Array<{ offset: number; text: string }>) | undefined {
  const btfSection = file.section('.BTF');
  const extSection = file.section('.BTF.ext');
  if (!btfSection || !extSection) return undefined;
  const btf = parseBtf(btfSection.data);
  const ext = parseBtfExt(extSection.data, btf);
  return (section) => (ext.coreRelos.get(section.name) ?? []).map((r) => ({ offset: r.insnOff, text: describeCoreRelo(btf, r) }));
}
