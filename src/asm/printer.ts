/**
 * Prints instructions in LLVM's BPF assembly syntax: the text llvm-objdump shows after the hex
 * bytes, and what llvm-mc and our assembler read back.
 */
import { FormatError } from '../errors.js';
import { checkInstruction, imm64, isJump, isLocalCall, jumpDistance, type Instruction } from './instruction.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from './opcodes.js';
import { llvmReleaseText } from './printer-llvm.js';
import { TextStyle } from './printer-style.js';
import { ALU_OPERATORS, ATOMIC_RMW_OPS, JUMP_CONDITIONS, SIGNED_ALU_OPERATORS, SIZE_BITS } from './syntax-tables.js';

/**
 * What llvm-objdump prints for bytes it cannot decode, and what the printer prints for an
 * invalid instruction when lenient.
 *
 * @example
 * formatInstruction({ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }, { lenient: true }) === UNKNOWN_INSTRUCTION;
 */
export const UNKNOWN_INSTRUCTION = '<unknown>';

/**
 * Options of {@link formatInstruction}. The defaults match `llvm-objdump-19 --no-print-imm-hex`
 * (and llvm-objdump 14) without `--mcpu`, extended as described there.
 *
 * @example
 * const asLlvm19Prints: FormatOptions = { llvm: 19, immHex: true }; // plain `llvm-objdump-19 -d`
 */
export interface FormatOptions {
  /**
   * Print immediates and offsets in hex (`r1 += 0x10`, `goto -0x3`), as llvm-objdump 19 does
   * by default; decimal otherwise, as llvm-objdump 14 and `llvm-objdump-19 --no-print-imm-hex`.
   */
  immHex?: boolean;
  /**
   * Print 8/16/32-bit loads, stores and atomics with w registers (`w1 = *(u32 *)(r2 + 0)`), as
   * llvm-objdump does with `--mattr=+alu32` or `--mcpu=v3`/`v4`; r registers otherwise.
   */
  alu32?: boolean;
  /**
   * Reproduce one llvm-objdump release exactly, including the instructions it cannot decode
   * (`<unknown>`), those it misprints and the fields its syntax drops. Without it the printer
   * uses the newest LLVM spelling of every instruction and a few extensions where LLVM's text
   * would lose a field (see {@link formatInstruction}).
   */
  llvm?: 14 | 19;
  /**
   * Print `<unknown>` for an invalid instruction instead of throwing a FormatError. (LLVM
   * prints some invalid encodings anyway, ignoring fields it does not use, such as a goto
   * with dst set; we print `<unknown>` for all of them.)
   */
  lenient?: boolean;
}

/**
 * Formats one instruction in LLVM's BPF assembly syntax, exactly as llvm-objdump prints it
 * after the hex bytes (minus the ` <label>` annotation objdump adds after jump targets).
 *
 * Without `options.llvm`, every valid instruction gets a text our assembler turns back into
 * the same instruction. That text is llvm-objdump 19's except where LLVM 19 is wrong or lossy:
 * load-acquire and store-release, unknown to LLVM 19, use the spelling of LLVM 21's BPF backend
 * (`w0 = load_acquire((u32 *)(r1 + 0))`, `store_release((u64 *)(r1 + 0), r2)`); the narrow
 * atomics that LLVM decodes only with alu32 (all but the 32-bit `lock ... +=`) always use w
 * registers; a BPF-to-BPF call prints as `call pc+4`, a kfunc call as
 * `call kfunc 1234`; ld_imm64 with a pseudo source prints its upper half as a fourth operand
 * when non-zero (`ld_pseudo r1, 2, 7, 16`); and a legacy indirect packet load prints its
 * immediate when non-zero (`r0 = *(u8 *)skb[r3 + 4]`). The text after `ld_pseudo` is separated
 * by a tab, as LLVM prints it.
 *
 * Throws a FormatError for an instruction `checkInstruction` rejects, unless `lenient`.
 *
 * @example
 * formatInstruction({ code: 0x07, dst: 1, src: 0, off: 0, imm: 16 }); // 'r1 += 16'
 * formatInstruction({ code: 0x07, dst: 1, src: 0, off: 0, imm: 16 }, { immHex: true }); // 'r1 += 0x10'
 * formatInstruction({ code: 0x63, dst: 10, src: 0, off: -4, imm: 0 }); // '*(u32 *)(r10 - 4) = r0'
 */
export function formatInstruction(insn: Instruction, options: FormatOptions = {}): string {
  const problem = fieldProblem(insn) ?? checkInstruction(insn);
  if (problem !== undefined) {
    if (options.lenient) return UNKNOWN_INSTRUCTION;
    throw new FormatError('bytecode', 0, `cannot print an invalid instruction: ${problem}`, 'instruction');
  }
  const style = new TextStyle(options.immHex ?? false, options.alu32 ?? false);
  if (options.llvm !== undefined) {
    const text = llvmReleaseText(insn, options.llvm, style);
    if (text !== undefined) return text;
  }
  return canonicalText(insn, style);
}

/**
 * The slot a jump, a BPF-to-BPF call or an ld_imm64 of a function address (BPF_PSEUDO_FUNC)
 * leads to, given the slot the instruction sits in; undefined for every other instruction.
 * This is what a disassembler needs to print ` <LBB0_2>` after the relative target.
 *
 * @example
 * branchTarget({ code: 0x05, dst: 0, src: 0, off: 2, imm: 0 }, 10); // 13
 */
export function branchTarget(insn: Instruction, slot: number): number | undefined {
  if (isJump(insn)) return slot + 1 + (jumpDistance(insn) | 0);
  if (isLocalCall(insn)) return slot + 1 + (insn.imm | 0);
  if (insn.code === LD_IMM64 && insn.src === PseudoSrc.FUNC) return slot + 1 + (insn.imm | 0);
  return undefined;
}

function fieldProblem(insn: Instruction): string | undefined {
  const within = (v: unknown, lo: number, hi: number): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
  if (!within(insn.code, 0, 0xff)) return `opcode ${insn.code} is not a byte`;
  if (!within(insn.dst, 0, 15) || !within(insn.src, 0, 15)) {
    return `registers ${insn.dst}, ${insn.src} do not fit in 4 bits`;
  }
  if (!within(insn.off, -0x8000, 0x7fff)) return `offset ${insn.off} does not fit in 16 bits`;
  if (!within(insn.imm, -0x80000000, 0xffffffff)) return `immediate ${insn.imm} does not fit in 32 bits`;
  if (insn.code === LD_IMM64 && insn.imm2 !== undefined && !within(insn.imm2, -0x80000000, 0xffffffff)) {
    return `upper immediate ${insn.imm2} does not fit in 32 bits`;
  }
  return undefined;
}

/** The text of a valid instruction in the newest LLVM spelling, extended to lose nothing. */
function canonicalText(insn: Instruction, s: TextStyle): string {
  const cls = insn.code & 0x07;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64:
      return aluText(insn, s);
    case Class.JMP:
    case Class.JMP32:
      return jumpText(insn, s);
    case Class.LD:
      return ldText(insn, s);
    default:
      return memoryText(insn, s);
  }
}

function aluText(insn: Instruction, s: TextStyle): string {
  const is32 = (insn.code & 0x07) === Class.ALU;
  const op = insn.code & 0xf0;
  const x = (insn.code & Source.X) !== 0;
  const dst = s.reg(insn.dst, is32);
  const imm = insn.imm | 0;
  if (op === AluOp.NEG) return `${dst} = -${dst}`;
  if (op === AluOp.END) {
    const name = is32 ? (x ? 'be' : 'le') : 'bswap';
    return `r${insn.dst} = ${name}${imm} r${insn.dst}`;
  }
  if (op === AluOp.MOV && x && insn.off !== 0) {
    if (insn.off === 1) {
      return `${dst} = addr_space_cast(r${insn.src}, ${s.num(imm >>> 16)}, ${s.num(imm & 0xffff)})`;
    }
    return `${dst} = (s${insn.off})${s.reg(insn.src, is32)}`;
  }
  const operator = (insn.off === 1 ? SIGNED_ALU_OPERATORS.get(op) : undefined) ?? ALU_OPERATORS.get(op)!;
  const source = x ? s.reg(insn.src, is32) : s.num(imm);
  return operator === '=' ? `${dst} = ${source}` : `${dst} ${operator} ${source}`;
}

function jumpText(insn: Instruction, s: TextStyle): string {
  const is32 = (insn.code & 0x07) === Class.JMP32;
  const op = insn.code & 0xf0;
  const x = (insn.code & Source.X) !== 0;
  const imm = insn.imm | 0;
  switch (op) {
    case JmpOp.JA:
      return is32 ? `gotol ${s.branch(imm)}` : `goto ${s.branch(insn.off)}`;
    case JmpOp.CALL:
      if (x) return `callx r${insn.dst}`;
      if (insn.src === CallSrc.LOCAL) return `call pc${s.branch(imm)}`;
      if (insn.src === CallSrc.KFUNC) return `call kfunc ${s.num(imm)}`;
      return `call ${s.num(imm)}`;
    case JmpOp.EXIT:
      return 'exit';
    case JmpOp.JCOND:
      return `may_goto ${s.branch(insn.off)}`;
    default: {
      const right = x ? s.reg(insn.src, is32) : s.num(imm);
      return `if ${s.reg(insn.dst, is32)} ${JUMP_CONDITIONS.get(op)!} ${right} goto ${s.branch(insn.off)}`;
    }
  }
}

function ldText(insn: Instruction, s: TextStyle): string {
  if (insn.code === LD_IMM64) {
    if (insn.src === PseudoSrc.IMM64) return `r${insn.dst} = ${s.num(BigInt.asIntN(64, imm64(insn)))} ll`;
    const upper = (insn.imm2 ?? 0) >>> 0;
    return `ld_pseudo\t${s.ldPseudo(insn)}${upper !== 0 ? `, ${s.num(upper)}` : ''}`;
  }
  const type = `u${SIZE_BITS.get(insn.code & 0x18)!}`;
  if ((insn.code & 0xe0) === Mode.ABS) return `r0 = *(${type} *)skb[${s.num(insn.imm | 0)}]`;
  const imm = insn.imm | 0;
  const index = imm === 0 ? `r${insn.src}` : s.mem(insn.src, imm);
  return `r0 = *(${type} *)skb[${index}]`;
}

function memoryText(insn: Instruction, s: TextStyle): string {
  const cls = insn.code & 0x07;
  const size = insn.code & 0x18;
  const bits = SIZE_BITS.get(size)!;
  const narrow = size !== Size.DW;
  const mode = insn.code & 0xe0;
  if (cls === Class.LDX) {
    const signed = mode === Mode.MEMSX;
    const dst = s.reg(insn.dst, narrow && !signed && s.alu32);
    return `${dst} = *(${signed ? 's' : 'u'}${bits} *)(${s.mem(insn.src, insn.off)})`;
  }
  const target = `*(u${bits} *)(${s.mem(insn.dst, insn.off)})`;
  if (cls === Class.ST) return `${target} = ${s.num(insn.imm | 0)}`;
  if (mode === Mode.MEM) return `${target} = ${s.reg(insn.src, narrow && s.alu32)}`;
  return atomicText(insn, s);
}

function atomicText(insn: Instruction, s: TextStyle): string {
  const size = insn.code & 0x18;
  const bits = SIZE_BITS.get(size)!;
  const narrow = size !== Size.DW;
  const imm = insn.imm | 0;
  if (imm === AtomicOp.LOAD_ACQ) {
    // The one atomic whose dst is the value register and src the base: dst = *(src + off).
    return `${s.reg(insn.dst, narrow)} = load_acquire((u${bits} *)(${s.mem(insn.src, insn.off)}))`;
  }
  const addr = s.mem(insn.dst, insn.off);
  const val = s.reg(insn.src, narrow);
  if (imm === AtomicOp.STORE_REL) return `store_release((u${bits} *)(${addr}), ${val})`;
  if (imm === AtomicOp.XCHG) return `${val} = ${narrow ? 'xchg32_32' : 'xchg_64'}(${addr}, ${val})`;
  if (imm === AtomicOp.CMPXCHG) {
    const r0 = s.reg(0, narrow);
    return `${r0} = ${narrow ? 'cmpxchg32_32' : 'cmpxchg_64'}(${addr}, ${r0}, ${val})`;
  }
  const rmw = ATOMIC_RMW_OPS.get(imm & ~AtomicOp.FETCH)!;
  if (imm & AtomicOp.FETCH) return `${val} = atomic_fetch_${rmw.name}((u${bits} *)(${addr}), ${val})`;
  // LLVM decodes a 32-bit `lock ... +=` without alu32 and prints it with an r register.
  const w = narrow && (s.alu32 || imm !== AtomicOp.ADD);
  return `lock *(u${bits} *)(${addr}) ${rmw.operator}= ${s.reg(insn.src, w)}`;
}
