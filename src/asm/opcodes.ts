/**
 * Opcode fields of the BPF instruction set, as RFC 9669 ("BPF Instruction Set Architecture")
 * names them, plus the Linux extensions the RFC leaves out (may_goto, load-acquire and
 * store-release, the ld_imm64 pseudo sources). Values mirror include/uapi/linux/bpf_common.h
 * and include/uapi/linux/bpf.h.
 */

/** Instruction class: the low 3 bits of the opcode. */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;
export type Class = (typeof Class)[keyof typeof Class];

/** Operand source for ALU and jump instructions (bit 3). For END: TO_LE (K) or TO_BE (X). */
export const Source = {
  K: 0x00,
  X: 0x08,
} as const;
export type Source = (typeof Source)[keyof typeof Source];

/** Arithmetic operation: the high 4 bits of an ALU/ALU64 opcode. */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  /** Unsigned division; signed (sdiv) when offset is 1. */
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  /** Unsigned modulo; signed (smod) when offset is 1. */
  MOD: 0x90,
  XOR: 0xa0,
  /** Move; sign-extending move (movsx) when offset is 8, 16 or 32. */
  MOV: 0xb0,
  ARSH: 0xc0,
  /** Byte swap: le/be in ALU, unconditional bswap in ALU64. */
  END: 0xd0,
} as const;
export type AluOp = (typeof AluOp)[keyof typeof AluOp];

/** Jump operation: the high 4 bits of a JMP/JMP32 opcode. */
export const JmpOp = {
  /** Unconditional jump (goto); in JMP32 the 32-bit-range form (gotol / ja32). */
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** Linux extension: conditional pseudo jumps (may_goto). */
  JCOND: 0xe0,
} as const;
export type JmpOp = (typeof JmpOp)[keyof typeof JmpOp];

/** Access size of a load or store (bits 3-4). */
export const Size = {
  W: 0x00,
  H: 0x08,
  B: 0x10,
  DW: 0x18,
} as const;
export type Size = (typeof Size)[keyof typeof Size];

/** Addressing mode of a load or store (bits 5-7). */
export const Mode = {
  IMM: 0x00,
  /** Legacy packet access, absolute offset. */
  ABS: 0x20,
  /** Legacy packet access, register-relative offset. */
  IND: 0x40,
  MEM: 0x60,
  /** Sign-extending load (ISA v4). */
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** The imm field of an atomic instruction: an operation plus the FETCH flag. */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe0 | 0x01,
  CMPXCHG: 0xf0 | 0x01,
  /** Linux 6.15 extension: load-acquire. */
  LOAD_ACQ: 0x100,
  /** Linux 6.15 extension: store-release. */
  STORE_REL: 0x110,
} as const;
export type AtomicOp = (typeof AtomicOp)[keyof typeof AtomicOp];

/** The src field of ld_imm64 (opcode 0x18): what the 64-bit immediate means. */
export const PseudoSrc = {
  /** A plain 64-bit constant. */
  IMM64: 0,
  /** imm is a map fd; the register gets a map pointer (BPF_PSEUDO_MAP_FD). */
  MAP_FD: 1,
  /** imm is a map fd, imm2 an offset into its value (BPF_PSEUDO_MAP_VALUE). */
  MAP_VALUE: 2,
  /** imm is a BTF id of a kernel variable (BPF_PSEUDO_BTF_ID). */
  BTF_ID: 3,
  /** imm is a relative instruction offset of a function (BPF_PSEUDO_FUNC). */
  FUNC: 4,
  /** imm is an index into fd_array (BPF_PSEUDO_MAP_IDX). */
  MAP_IDX: 5,
  /** imm is an index into fd_array, imm2 a value offset (BPF_PSEUDO_MAP_IDX_VALUE). */
  MAP_IDX_VALUE: 6,
} as const;
export type PseudoSrc = (typeof PseudoSrc)[keyof typeof PseudoSrc];

/** The src field of a call: what imm identifies. */
export const CallSrc = {
  /** imm is a helper function id. */
  HELPER: 0,
  /** imm is a relative instruction offset of a BPF-to-BPF call (BPF_PSEUDO_CALL). */
  LOCAL: 1,
  /** imm is a BTF id of a kernel function (BPF_PSEUDO_KFUNC_CALL). */
  KFUNC: 2,
} as const;
export type CallSrc = (typeof CallSrc)[keyof typeof CallSrc];

/** Number of general purpose registers (r0-r10). */
export const REGISTER_COUNT = 11;
/** Bytes in one instruction slot; ld_imm64 takes two. */
export const INSN_SIZE = 8;

export function insnClass(code: number): Class {
  return (code & 0x07) as Class;
}

export function isLoadStore(code: number): boolean {
  return (code & 0x04) === 0;
}

export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case Size.B:
      return 1;
    case Size.H:
      return 2;
    case Size.W:
      return 4;
    default:
      return 8;
  }
}

/** The ld_imm64 opcode (LD | IMM | DW), the only instruction that takes two slots. */
export const LD_IMM64 = Class.LD | Mode.IMM | Size.DW;
