/**
 * How the printer spells numbers, registers and operands: decimal or hex immediates (LLVM 14
 * versus LLVM 19 defaults), r or w registers for narrow memory accesses (LLVM's alu32 feature).
 */
import type { Instruction } from './instruction.js';

/**
 * The spelling choices of one printer run, with the operand formatters that depend on them.
 *
 * @example
 * const s = new TextStyle(true, false);
 * s.num(-16);      // '-0x10'
 * s.mem(10, -8);   // 'r10 - 0x8'
 * s.branch(3);     // '+0x3'
 */
export class TextStyle {
  constructor(
    /** Hex immediates (LLVM 19's default). */
    readonly hex: boolean,
    /** w registers for 8/16/32-bit memory accesses (LLVM's alu32 feature). */
    readonly alu32: boolean,
  ) {}

  /** A signed number as LLVM's formatImm prints it: `-5` or `-0x5`. */
  num(value: number | bigint): string {
    if (!this.hex) return value.toString();
    return value < 0 ? `-0x${(-BigInt(value)).toString(16)}` : `0x${value.toString(16)}`;
  }

  /** A register: `w3` for a 32-bit operand, else `r3`. */
  reg(n: number, w: boolean): string {
    return `${w ? 'w' : 'r'}${n}`;
  }

  /** A memory operand without parentheses: `r10 - 8`, `r1 + 0x10`. */
  mem(base: number, off: number): string {
    return `r${base} ${off >= 0 ? '+' : '-'} ${this.num(Math.abs(off))}`;
  }

  /** A relative branch target: `+3`, `-0x2`. */
  branch(distance: number): string {
    return `${distance >= 0 ? '+' : ''}${this.num(distance)}`;
  }

  /** `r1, 2, 7`: destination, pseudo source and lower 32 bits (unsigned) of an ld_pseudo. */
  ldPseudo(insn: Instruction): string {
    return `r${insn.dst}, ${this.num(insn.src)}, ${this.num(insn.imm >>> 0)}`;
  }
}
