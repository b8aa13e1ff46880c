/** The description of an ELF64 file that `writeElf` turns into bytes. */

import { TsbpfError } from '../errors.js';

/**
 * A section named by its name (which must then be unique in the written file) or by its
 * section header index in the written file (0 is the null section; the sections of
 * `ElfWriteSpec.sections` get 1, 2, ... in order, generated tables placed after them when
 * they have no marker).
 */
export type SectionRef = string | number;

/** A section whose contents are given as they are: code, data, BTF, notes, NOBITS... */
export interface ElfDataSectionSpec {
  kind?: 'data';
  name: string;
  /** `sh_type` (see `SHT`). */
  type: number;
  /** `sh_flags` (see `SHF`); default 0. */
  flags?: bigint | number;
  /** `sh_addr`; default 0. */
  addr?: bigint | number;
  /** The contents (ignored for SHT_NOBITS except for its length when `size` is absent). */
  data?: Uint8Array;
  /** Size of an SHT_NOBITS section; for others it must equal the length of `data` if given. */
  size?: number;
  /** `sh_addralign`: 0 or a power of two up to 2 MiB; the writer pads the contents to it. Default 1. */
  addralign?: number;
  /** `sh_entsize`; default 0. */
  entsize?: number;
  /** `sh_link`: a section (by name or index); default 0. */
  link?: SectionRef;
  /** `sh_info`: a section by name, or a raw number (which may be a section index); default 0. */
  info?: SectionRef;
}

/** A SHT_REL or SHT_RELA section applying to `target`, linked to the generated .symtab. */
export interface ElfRelocationSectionSpec {
  kind: 'relocations';
  /** Default `.rel<target name>` or `.rela<target name>` (LLVM's naming). */
  name?: string;
  /** The section the relocations apply to (becomes sh_info). */
  target: SectionRef;
  /** SHT_RELA with explicit addends instead of SHT_REL; default false. */
  rela?: boolean;
  /** `sh_flags`; default SHF_INFO_LINK as LLVM writes. */
  flags?: bigint | number;
  /** `sh_addralign`; default 8. */
  addralign?: number;
  relocations: readonly ElfRelocationSpec[];
}

/** One relocation of an `ElfRelocationSectionSpec`. */
export interface ElfRelocationSpec {
  /** `r_offset` */
  offset: bigint | number;
  /**
   * The symbol: a name (unique among `ElfWriteSpec.symbols`), or a number where 0 is the null
   * symbol and n refers to `symbols[n - 1]` (the writer renumbers after moving locals first).
   */
  symbol: string | number;
  /** Relocation type (see `R_BPF`). */
  type: number;
  /** Addend, for RELA sections only. */
  addend?: bigint | number;
}

/**
 * Where to place a table the writer generates (.symtab, .strtab, .shstrtab, .symtab_shndx).
 * Tables without a marker that the file needs are appended after the given sections.
 */
export interface ElfTableSectionSpec {
  kind: 'symtab' | 'strtab' | 'shstrtab' | 'symtab_shndx';
  /** Default `.symtab`, `.strtab`, `.shstrtab`, `.symtab_shndx`. */
  name?: string;
}

/** Any entry of `ElfWriteSpec.sections`. */
export type ElfSectionSpec = ElfDataSectionSpec | ElfRelocationSectionSpec | ElfTableSectionSpec;

/** A symbol to write into .symtab. */
export interface ElfSymbolSpec {
  /** Default '' (as for STT_SECTION symbols). */
  name?: string;
  /** `st_value`; default 0. */
  value?: bigint | number;
  /** `st_size`; default 0. */
  size?: bigint | number;
  /** `STT_*`; default STT.NOTYPE. */
  type?: number;
  /** `STB_*`; default STB.LOCAL. */
  bind?: number;
  /** `STV_*`; default STV.DEFAULT. */
  visibility?: number;
  /** The defining section; indices of SHN_LORESERVE and up are written through SHN_XINDEX. */
  section?: SectionRef;
  /** A reserved index instead of `section`: SHN.ABS or SHN.COMMON (SHN.UNDEF is the default). */
  special?: number;
}

/** Everything `writeElf` needs to produce an ELF64 file (no program headers). */
export interface ElfWriteSpec {
  /** Byte order; default true (little-endian). */
  littleEndian?: boolean;
  /** `e_type` (see `ET`), e.g. ET.REL for a compiler's output. */
  type: number;
  /** `e_machine` (see `EM`), e.g. EM.BPF. */
  machine: number;
  /** `e_flags`; default 0. */
  flags?: number;
  /** `e_ident[EI_OSABI]`; default 0. */
  osabi?: number;
  /** `e_ident[EI_ABIVERSION]`; default 0. */
  abiVersion?: number;
  /** `e_entry`; default 0. */
  entry?: bigint | number;
  /** The sections after the null section, in order. */
  sections: readonly ElfSectionSpec[];
  /**
   * The symbols after the null symbol. When present (or when there are relocation sections)
   * .symtab and .strtab are written; locals are moved first, keeping their relative order.
   */
  symbols?: readonly ElfSymbolSpec[];
  /**
   * Put section names into .strtab together with the symbol names (as LLVM does) instead of
   * writing a separate .shstrtab. Default false.
   */
  sharedStringTable?: boolean;
}

/** A write spec that cannot be written: an unknown or ambiguous name, a value out of range. */
export class ElfWriteError extends TsbpfError {
  override name = 'ElfWriteError';
}
