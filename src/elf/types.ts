/** The records an ELF64 file is decoded into (one interface per on-disk structure). */

/** A section header (Elf64_Shdr) with its name resolved and its contents as a view. */
export interface ElfSection {
  /** Section header index; `ElfFile.sections[index]` is this section. */
  index: number;
  /** The name from the section name string table ('' when there is none). */
  name: string;
  /** `sh_name`: offset of the name in the section name string table. */
  nameOffset: number;
  /** `sh_type` (see `SHT`). */
  type: number;
  /** `sh_flags` (see `SHF`). */
  flags: bigint;
  /** `sh_addr`: address in memory for allocated sections of executables, else 0. */
  addr: bigint;
  /** `sh_offset`: where the contents start in the file. */
  offset: number;
  /** `sh_size`: size in bytes (in memory only, for SHT_NOBITS). */
  size: number;
  /** `sh_link`: a section index whose meaning depends on the type (string table, symbol table). */
  link: number;
  /** `sh_info`: extra information (relocated section, index of the first non-local symbol). */
  info: number;
  /** `sh_addralign`: required alignment (0 or 1 mean none). */
  addralign: number;
  /** `sh_entsize`: size of one entry for tables of fixed-size entries, else 0. */
  entsize: number;
  /** The contents: a zero-copy view into the file; empty for SHT_NOBITS, SHT_NULL and section 0. */
  data: Uint8Array;
}

/** A symbol table entry (Elf64_Sym) with its name resolved. */
export interface ElfSymbol {
  /** Index in its symbol table (relocations refer to symbols by this index). */
  index: number;
  name: string;
  /** `st_value`: address, or offset in its section for relocatable files. */
  value: bigint;
  /** `st_size` */
  size: bigint;
  /** Low nibble of `st_info` (see `STT`). */
  type: number;
  /** High nibble of `st_info` (see `STB`). */
  bind: number;
  /** Low two bits of `st_other` (see `STV`). */
  visibility: number;
  /**
   * `st_shndx`: the defining section's index, or a reserved value (SHN.UNDEF, SHN.ABS,
   * SHN.COMMON). SHN.XINDEX is resolved through the SHT_SYMTAB_SHNDX section.
   */
  shndx: number;
}

/** A relocation (Elf64_Rel or Elf64_Rela). */
export interface ElfRelocation {
  /** `r_offset`: where to apply it (offset in the target section for relocatable files). */
  offset: bigint;
  /** Symbol index (`ELF64_R_SYM`) in the symbol table the relocation section links to. */
  symbol: number;
  /** Relocation type (`ELF64_R_TYPE`), machine-specific (see `R_BPF`). */
  type: number;
  /** `r_addend`, present for SHT_RELA sections only. */
  addend?: bigint;
}

/** A program header (Elf64_Phdr). */
export interface ElfSegment {
  /** `p_type` (see `PT`). */
  type: number;
  /** `p_flags` (see `PF`). */
  flags: number;
  /** `p_offset`: where the segment starts in the file. */
  offset: number;
  /** `p_vaddr` */
  vaddr: bigint;
  /** `p_paddr` */
  paddr: bigint;
  /** `p_filesz`: bytes in the file. */
  filesz: number;
  /** `p_memsz`: bytes in memory (at least `filesz`). */
  memsz: number;
  /** `p_align` */
  align: number;
}

/** One entry of a note section or segment (Elf64_Nhdr followed by name and descriptor). */
export interface ElfNote {
  /** The owner, without its terminating NUL ("GNU", "Linux", ...). */
  name: string;
  /** `n_type`, meaningful per owner (see `NT_GNU`). */
  type: number;
  /** The descriptor bytes (zero-copy view into the file). */
  desc: Uint8Array;
}
