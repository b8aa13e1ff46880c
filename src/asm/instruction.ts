import {
  AluOp,
  AtomicOp,
  CallSrc,
  Class,
  JmpOp,
  LD_IMM64,
  Mode,
  PseudoSrc,
  REGISTER_COUNT,
  Size,
  Source,
} from './opcodes.js';

/**
 * One BPF instruction as it is encoded (RFC 9669 section 3): opcode, registers, offset and
 * immediate. ld_imm64 is the one wide instruction: it takes two 8-byte slots and its second
 * slot contributes `imm2`, the upper 32 bits of the constant.
 */
export interface Instruction {
  /** The 8-bit opcode: class, source/size, operation/mode. */
  code: number;
  /** Destination register number (0-10). */
  dst: number;
  /** Source register number (0-10), or a pseudo source for calls and ld_imm64. */
  src: number;
  /** Signed 16-bit offset: jump distance in slots, or memory offset in bytes. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
  /** ld_imm64 only: the second slot's imm, i.e. the upper 32 bits of the constant. */
  imm2?: number;
}

/** True for ld_imm64, the only instruction that occupies two slots. */
export function isWide(insn: Instruction): boolean {
  return insn.code === LD_IMM64;
}

/** Number of 8-byte slots the instruction takes (2 for ld_imm64, else 1). */
export function slotCount(insn: Instruction): 1 | 2 {
  return insn.code === LD_IMM64 ? 2 : 1;
}

/** The 64-bit constant of an ld_imm64, as an unsigned bigint. */
export function imm64(insn: Instruction): bigint {
  return (BigInt(insn.imm2 ?? 0) << 32n) | BigInt(insn.imm >>> 0);
}

/** Splits a 64-bit constant into the imm/imm2 halves of an ld_imm64. */
export function splitImm64(value: bigint): { imm: number; imm2: number } {
  const u = BigInt.asUintN(64, value);
  return { imm: Number(BigInt.asIntN(32, u)), imm2: Number(BigInt.asIntN(32, u >> 32n)) };
}

/** True for jumps whose `off` (or `imm` for gotol) is a branch distance. */
export function isJump(insn: Instruction): boolean {
  const cls = insn.code & 0x07;
  if (cls !== Class.JMP && cls !== Class.JMP32) return false;
  const op = insn.code & 0xf0;
  return op !== JmpOp.CALL && op !== JmpOp.EXIT;
}

/** Branch distance in slots, from the slot after this instruction. */
export function jumpDistance(insn: Instruction): number {
  return insn.code === (Class.JMP32 | JmpOp.JA) ? insn.imm : insn.off;
}

/** True for a BPF-to-BPF call (call with src = BPF_PSEUDO_CALL). */
export function isLocalCall(insn: Instruction): boolean {
  return insn.code === (Class.JMP | JmpOp.CALL) && insn.src === CallSrc.LOCAL;
}

const RMW_ATOMICS: ReadonlySet<number> = new Set([
  AtomicOp.ADD,
  AtomicOp.OR,
  AtomicOp.AND,
  AtomicOp.XOR,
  AtomicOp.ADD | AtomicOp.FETCH,
  AtomicOp.OR | AtomicOp.FETCH,
  AtomicOp.AND | AtomicOp.FETCH,
  AtomicOp.XOR | AtomicOp.FETCH,
  AtomicOp.XCHG,
  AtomicOp.CMPXCHG,
]);

function isReg(r: number): boolean {
  return Number.isInteger(r) && r >= 0 && r < REGISTER_COUNT;
}

/**
 * Checks the fields RFC 9669 (and Linux, for its extensions) defines for this opcode: that the
 * opcode exists, that registers are r0-r10 where used, and that reserved fields are zero.
 * Returns a description of the first problem, or undefined for a valid instruction.
 */
export function checkInstruction(insn: Instruction): string | undefined {
  const { code, src, off, imm } = insn;
  const cls = code & 0x07;
  const zero = (field: 'dst' | 'src' | 'off' | 'imm', what: string): string | undefined =>
    insn[field] !== 0 ? `${field} must be 0 for ${what} (is ${insn[field]})` : undefined;
  const reg = (field: 'dst' | 'src'): string | undefined =>
    isReg(insn[field]) ? undefined : `invalid ${field} register r${insn[field]}`;
  const unknown = `unknown opcode 0x${code.toString(16).padStart(2, '0')}`;

  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const op = code & 0xf0;
      const x = (code & Source.X) !== 0;
      const is64 = cls === Class.ALU64;
      if (op > AluOp.END) return unknown;
      if (op === AluOp.NEG) {
        if (x) return unknown;
        return reg('dst') ?? zero('src', 'neg') ?? zero('off', 'neg') ?? zero('imm', 'neg');
      }
      if (op === AluOp.END) {
        if (is64 && x) return unknown;
        if (imm !== 16 && imm !== 32 && imm !== 64) return `byte swap width must be 16, 32 or 64 (is ${imm})`;
        return reg('dst') ?? zero('src', 'byte swap') ?? zero('off', 'byte swap');
      }
      let offOk = off === 0;
      if (op === AluOp.DIV || op === AluOp.MOD) offOk = off === 0 || off === 1;
      if (op === AluOp.MOV && x) {
        offOk = off === 0 || off === 8 || off === 16 || (is64 && (off === 32 || off === 1));
        // off = 1 on mov64 is addr_space_cast, whose imm holds the two address spaces.
        if (is64 && off === 1) return reg('dst') ?? reg('src');
      }
      if (!offOk) return `invalid offset ${off} for this ALU operation`;
      if (x) return reg('dst') ?? reg('src') ?? zero('imm', 'a register-source ALU operation');
      return reg('dst') ?? zero('src', 'an immediate-source ALU operation');
    }
    case Class.JMP:
    case Class.JMP32: {
      const op = code & 0xf0;
      const x = (code & Source.X) !== 0;
      const is32 = cls === Class.JMP32;
      switch (op) {
        case JmpOp.JA:
          if (x) return unknown;
          if (is32) return zero('dst', 'gotol') ?? zero('src', 'gotol') ?? zero('off', 'gotol');
          return zero('dst', 'goto') ?? zero('src', 'goto') ?? zero('imm', 'goto');
        case JmpOp.CALL:
          if (is32) return unknown;
          if (x) return reg('dst') ?? zero('src', 'callx') ?? zero('off', 'callx') ?? zero('imm', 'callx');
          if (src !== CallSrc.HELPER && src !== CallSrc.LOCAL && src !== CallSrc.KFUNC) {
            return `call src must be 0 (helper), 1 (local) or 2 (kfunc) (is ${src})`;
          }
          return zero('dst', 'call') ?? zero('off', 'call');
        case JmpOp.EXIT:
          if (is32 || x) return unknown;
          return zero('dst', 'exit') ?? zero('src', 'exit') ?? zero('off', 'exit') ?? zero('imm', 'exit');
        case JmpOp.JCOND:
          if (is32 || x) return unknown;
          return zero('dst', 'may_goto') ?? zero('src', 'may_goto') ?? zero('imm', 'may_goto');
        case 0xf0:
          return unknown;
        default:
          if (x) return reg('dst') ?? reg('src') ?? zero('imm', 'a register comparison');
          return reg('dst') ?? zero('src', 'an immediate comparison');
      }
    }
    case Class.LD: {
      const mode = code & 0xe0;
      const size = code & 0x18;
      if (code === LD_IMM64) {
        if (src > PseudoSrc.MAP_IDX_VALUE) return `ld_imm64 src must be 0-6 (is ${src})`;
        return reg('dst') ?? zero('off', 'ld_imm64');
      }
      if ((mode === Mode.ABS || mode === Mode.IND) && size !== Size.DW) {
        return (
          zero('dst', 'a legacy packet load') ??
          zero('off', 'a legacy packet load') ??
          (mode === Mode.ABS ? zero('src', 'ld_abs') : reg('src'))
        );
      }
      return unknown;
    }
    case Class.LDX: {
      const mode = code & 0xe0;
      const size = code & 0x18;
      if (mode === Mode.MEM || (mode === Mode.MEMSX && size !== Size.DW)) {
        return reg('dst') ?? reg('src') ?? zero('imm', 'a load');
      }
      return unknown;
    }
    case Class.ST: {
      if ((code & 0xe0) !== Mode.MEM) return unknown;
      return reg('dst') ?? zero('src', 'a store of an immediate');
    }
    default: {
      // Class.STX
      const mode = code & 0xe0;
      const size = code & 0x18;
      if (mode === Mode.MEM) return reg('dst') ?? reg('src') ?? zero('imm', 'a store');
      if (mode !== Mode.ATOMIC) return unknown;
      if (imm === AtomicOp.LOAD_ACQ || imm === AtomicOp.STORE_REL) return reg('dst') ?? reg('src');
      if (size !== Size.W && size !== Size.DW) return 'atomic operations must be 32 or 64 bits wide';
      if (!RMW_ATOMICS.has(imm)) return `unknown atomic operation 0x${(imm >>> 0).toString(16)}`;
      return reg('dst') ?? reg('src');
    }
  }
}
