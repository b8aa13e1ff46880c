/**
 * Numeric constants of the ELF64 format. Unless noted otherwise the values are those of the
 * System V gABI as spelled in glibc's `<elf.h>`; LLVM extensions come from LLVM's
 * `llvm/BinaryFormat/ELF.h` and the BPF relocation types from LLVM's
 * `llvm/BinaryFormat/ELFRelocs/BPF.def` (documented in the kernel's
 * Documentation/bpf/llvm_reloc.rst).
 */

/** The four magic bytes at the start of every ELF file (`ELFMAG` in elf.h). */
export const ELF_MAGIC: readonly number[] = [0x7f, 0x45, 0x4c, 0x46];

/** Indices into `e_ident` (`EI_*` in elf.h). */
export const EI = {
  CLASS: 4,
  DATA: 5,
  VERSION: 6,
  OSABI: 7,
  ABIVERSION: 8,
  NIDENT: 16,
} as const;
export type EI = (typeof EI)[keyof typeof EI];

/** `e_ident[EI_CLASS]` values (`ELFCLASS*` in elf.h); only ELFCLASS64 is supported here. */
export const ELFCLASS = { NONE: 0, CLASS32: 1, CLASS64: 2 } as const;
export type ELFCLASS = (typeof ELFCLASS)[keyof typeof ELFCLASS];

/** `e_ident[EI_DATA]` byte orders (`ELFDATA2LSB`, `ELFDATA2MSB` in elf.h). */
export const ELFDATA = { NONE: 0, LSB: 1, MSB: 2 } as const;
export type ELFDATA = (typeof ELFDATA)[keyof typeof ELFDATA];

/** `EV_CURRENT` (elf.h): the only ELF version, in `e_ident[EI_VERSION]` and `e_version`. */
export const EV_CURRENT = 1;

/** A few `e_ident[EI_OSABI]` values (`ELFOSABI_*` in elf.h). */
export const ELFOSABI = { SYSV: 0, GNU: 3, STANDALONE: 255 } as const;
export type ELFOSABI = (typeof ELFOSABI)[keyof typeof ELFOSABI];

/** Object file types, `e_type` (`ET_*` in elf.h). */
export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
export type ET = (typeof ET)[keyof typeof ET];

/** A few machine types, `e_machine` (`EM_*` in elf.h). */
export const EM = { NONE: 0, X86_64: 62, AARCH64: 183, RISCV: 243, BPF: 247 } as const;
export type EM = (typeof EM)[keyof typeof EM];

/** `EM_BPF` (elf.h): Linux BPF, the machine of every BPF object. */
export const EM_BPF = EM.BPF;
/** `EM_X86_64` (elf.h): AMD x86-64. */
export const EM_X86_64 = EM.X86_64;

/** Section types, `sh_type` (`SHT_*` in elf.h; `LLVM_*` from LLVM's BinaryFormat/ELF.h). */
export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  SHLIB: 10,
  DYNSYM: 11,
  INIT_ARRAY: 14,
  FINI_ARRAY: 15,
  PREINIT_ARRAY: 16,
  GROUP: 17,
  SYMTAB_SHNDX: 18,
  RELR: 19,
  LLVM_ADDRSIG: 0x6fff4c03,
  GNU_ATTRIBUTES: 0x6ffffff5,
  GNU_HASH: 0x6ffffff6,
  GNU_VERDEF: 0x6ffffffd,
  GNU_VERNEED: 0x6ffffffe,
  GNU_VERSYM: 0x6fffffff,
} as const;
export type SHT = (typeof SHT)[keyof typeof SHT];

/** Section flags, `sh_flags` (`SHF_*` in elf.h), as bigints because the field is 64-bit. */
export const SHF = {
  WRITE: 0x1n,
  ALLOC: 0x2n,
  EXECINSTR: 0x4n,
  MERGE: 0x10n,
  STRINGS: 0x20n,
  INFO_LINK: 0x40n,
  LINK_ORDER: 0x80n,
  OS_NONCONFORMING: 0x100n,
  GROUP: 0x200n,
  TLS: 0x400n,
  COMPRESSED: 0x800n,
  GNU_RETAIN: 0x200000n,
  EXCLUDE: 0x80000000n,
} as const;
export type SHF = (typeof SHF)[keyof typeof SHF];

/** Special section indices (`SHN_*` in elf.h). */
export const SHN = {
  UNDEF: 0,
  LORESERVE: 0xff00,
  ABS: 0xfff1,
  COMMON: 0xfff2,
  XINDEX: 0xffff,
} as const;
export type SHN = (typeof SHN)[keyof typeof SHN];

/** `PN_XNUM` (elf.h): `e_phnum` value saying the real count is in section 0's `sh_info`. */
export const PN_XNUM = 0xffff;

/** Symbol types, the low nibble of `st_info` (`STT_*` in elf.h). */
export const STT = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
  COMMON: 5,
  TLS: 6,
  GNU_IFUNC: 10,
} as const;
export type STT = (typeof STT)[keyof typeof STT];

/** Symbol bindings, the high nibble of `st_info` (`STB_*` in elf.h). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2, GNU_UNIQUE: 10 } as const;
export type STB = (typeof STB)[keyof typeof STB];

/** Symbol visibilities, the low two bits of `st_other` (`STV_*` in elf.h). */
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;
export type STV = (typeof STV)[keyof typeof STV];

/** Program header (segment) types, `p_type` (`PT_*` in elf.h). */
export const PT = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  SHLIB: 5,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
} as const;
export type PT = (typeof PT)[keyof typeof PT];

/** Segment permission flags, `p_flags` (`PF_*` in elf.h). */
export const PF = { X: 1, W: 2, R: 4 } as const;
export type PF = (typeof PF)[keyof typeof PF];

/** GNU note types found in notes named "GNU" (`NT_GNU_*` in elf.h). */
export const NT_GNU = { ABI_TAG: 1, HWCAP: 2, BUILD_ID: 3, GOLD_VERSION: 4, PROPERTY_TYPE_0: 5 } as const;
export type NT_GNU = (typeof NT_GNU)[keyof typeof NT_GNU];

/**
 * BPF relocation types, keyed by their full names so printers can show them (LLVM's
 * `ELFRelocs/BPF.def`; meanings in the kernel's Documentation/bpf/llvm_reloc.rst).
 */
export const R_BPF = {
  R_BPF_NONE: 0,
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  R_BPF_64_32: 10,
} as const;
export type R_BPF = (typeof R_BPF)[keyof typeof R_BPF];

/** `R_BPF_NONE` (LLVM BPF.def): no relocation. */
export const R_BPF_NONE = R_BPF.R_BPF_NONE;
/** `R_BPF_64_64` (LLVM BPF.def): the 64-bit immediate of an ld_imm64 (map or global address). */
export const R_BPF_64_64 = R_BPF.R_BPF_64_64;
/** `R_BPF_64_ABS64` (LLVM BPF.def): a 64-bit data word (DWARF). */
export const R_BPF_64_ABS64 = R_BPF.R_BPF_64_ABS64;
/** `R_BPF_64_ABS32` (LLVM BPF.def): a 32-bit data word (DWARF, BTF). */
export const R_BPF_64_ABS32 = R_BPF.R_BPF_64_ABS32;
/** `R_BPF_64_NODYLD32` (LLVM BPF.def): a 32-bit data word the dynamic loader ignores (.BTF.ext). */
export const R_BPF_64_NODYLD32 = R_BPF.R_BPF_64_NODYLD32;
/** `R_BPF_64_32` (LLVM BPF.def): the 32-bit immediate of a call to a BPF function. */
export const R_BPF_64_32 = R_BPF.R_BPF_64_32;

/** Sizes in bytes of the fixed ELF64 structures (`sizeof(Elf64_*)` in elf.h). */
export const ELF64_SIZE = {
  /** Elf64_Ehdr */
  HEADER: 64,
  /** Elf64_Shdr */
  SECTION_HEADER: 64,
  /** Elf64_Phdr */
  PROGRAM_HEADER: 56,
  /** Elf64_Sym */
  SYMBOL: 24,
  /** Elf64_Rel */
  REL: 16,
  /** Elf64_Rela */
  RELA: 24,
  /** Elf64_Nhdr */
  NOTE_HEADER: 12,
} as const;

/** The name of `value` in a constant table, e.g. `constantName(SHT, 8)` is `'NOBITS'`. */
export function constantName(table: Readonly<Record<string, number | bigint>>, value: number | bigint): string | undefined {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return undefined;
}
