/**
 * Where llvm-objdump 14 and 19 print a valid instruction differently from our canonical text:
 * encodings they cannot decode, encodings they decode as something else, and fields their
 * syntax drops. Each rule below was checked against the real tools by
 * test/asm/printer-llvm.test.ts.
 */
import type { Instruction } from './instruction.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from './opcodes.js';
import type { TextStyle } from './printer-style.js';
import { SIZE_BITS } from './syntax-tables.js';

const UNKNOWN = '<unknown>';

/**
 * The text llvm-objdump of the given release prints for a valid instruction, when it differs
 * from the canonical text; undefined when it is the same.
 *
 * @example
 * llvmReleaseText({ code: 0x4d, dst: 1, src: 2, off: 0, imm: 0 }, 14, new TextStyle(false, false)); // '<unknown>' (no JSET)
 */
export function llvmReleaseText(insn: Instruction, release: 14 | 19, s: TextStyle): string | undefined {
  return lossyText(insn, s) ?? atomicText(insn, s) ?? (release === 14 ? llvm14Text(insn, s) : undefined);
}

/** LLVM's syntax has no place for these fields: the call kind, ld_pseudo's upper half, LD_IND's imm. */
function lossyText(insn: Instruction, s: TextStyle): string | undefined {
  if (insn.code === (Class.JMP | JmpOp.CALL) && insn.src !== CallSrc.HELPER) return `call ${s.num(insn.imm | 0)}`;
  if (insn.code === LD_IMM64 && insn.src !== PseudoSrc.IMM64) return `ld_pseudo\t${s.ldPseudo(insn)}`;
  if ((insn.code & 0xe7) === (Class.LD | Mode.IND)) {
    return `r0 = *(u${SIZE_BITS.get(insn.code & 0x18)!} *)skb[r${insn.src}]`;
  }
  return undefined;
}

/**
 * LLVM 14 and 19 know no load-acquire/store-release, and without alu32 they decode only the
 * plain 32-bit atomic add. Their decoder for `lock ... +=` checks only bits 4-7 of imm, so
 * fetch-add (imm 0x01, without alu32) and load-acquire (imm 0x100) come out as `lock ... +=`.
 */
function atomicText(insn: Instruction, s: TextStyle): string | undefined {
  if ((insn.code & 0xe7) !== (Class.STX | Mode.ATOMIC)) return undefined;
  const size = insn.code & 0x18;
  const imm = insn.imm | 0;
  const lockAdd = (w: boolean) =>
    `lock *(u${size === Size.W ? 32 : 64} *)(${s.mem(insn.dst, insn.off)}) += ${s.reg(insn.src, w)}`;
  if (size !== Size.W && size !== Size.DW) return UNKNOWN;
  if (imm === AtomicOp.STORE_REL) return UNKNOWN;
  if (imm === AtomicOp.LOAD_ACQ) return lockAdd(size === Size.W && s.alu32);
  if (size === Size.DW || s.alu32) return undefined;
  if (imm === AtomicOp.ADD || imm === (AtomicOp.ADD | AtomicOp.FETCH)) return lockAdd(false);
  return UNKNOWN;
}

/**
 * What LLVM 14 lacks: ISA v4, JSET, BPF_MOD, store-immediate, may_goto; its callx reads imm.
 * (LLVM 14 also takes `18 20 00 00 00 00 00 00`, ld_pseudo r0 with source 2 and imm 0, for its
 * internal `lea` pseudo and prints garbage or crashes; we print the ld_pseudo as LLVM 19 does.)
 */
function llvm14Text(insn: Instruction, s: TextStyle): string | undefined {
  const cls = insn.code & 0x07;
  const op = insn.code & 0xf0;
  if (cls === Class.ALU || cls === Class.ALU64) {
    if (op === AluOp.MOD) return UNKNOWN;
    if (op === AluOp.END && cls === Class.ALU64) return UNKNOWN;
    const w = cls === Class.ALU ? 'w' : 'r';
    // LLVM 14 ignores the offset: sdiv prints as div, movsx and addr_space_cast as mov.
    if (op === AluOp.DIV && insn.off === 1) {
      return `${w}${insn.dst} /= ${insn.code & Source.X ? `${w}${insn.src}` : s.num(insn.imm | 0)}`;
    }
    if (op === AluOp.MOV && insn.code & Source.X && insn.off !== 0) return `${w}${insn.dst} = ${w}${insn.src}`;
    return undefined;
  }
  if (cls === Class.JMP || cls === Class.JMP32) {
    if (op === JmpOp.JSET || op === JmpOp.JCOND) return UNKNOWN;
    if (cls === Class.JMP32 && op === JmpOp.JA) return UNKNOWN;
    if (insn.code === (Class.JMP | JmpOp.CALL | Source.X)) return `callx r${insn.imm | 0}`;
    return undefined;
  }
  if (cls === Class.ST) return UNKNOWN;
  if (cls === Class.LDX && (insn.code & 0xe0) === Mode.MEMSX) return UNKNOWN;
  return undefined;
}
