/**
 * A validated program laid out by slot, as both engines execute it. Loading checks everything
 * that can be checked before running: strict encoding (checkInstruction), jump and call
 * targets inside the program and never into the second slot of an ld_imm64, jumps staying in
 * their subprogram, and every subprogram ending in `exit` or an unconditional jump, so control
 * can never fall off the end.
 */
import { decode, encode } from '../asm/codec.js';
import { type Instruction, isJump, jumpDistance } from '../asm/instruction.js';
import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc, Source } from '../asm/opcodes.js';
import { formatUbpf } from '../asm/ubpf.js';
import { FormatError } from '../errors.js';
import { VmError, VmErrorKind } from './errors.js';

/** A program ready to run: instructions by slot plus the facts both engines need. */
export class Program {
  /** Instruction at each slot; undefined for the second slot of an ld_imm64. */
  readonly slots: readonly (Instruction | undefined)[];
  /** Number of slots. */
  readonly length: number;
  /** Slots where a subprogram starts: 0, local call targets, ld_imm64 function references. */
  readonly functions: ReadonlySet<number>;
  /** Slots where a basic block starts (for the compiler). */
  readonly leaders: ReadonlySet<number>;

  private constructor(readonly instructions: readonly Instruction[]) {
    const slots: (Instruction | undefined)[] = [];
    for (const insn of instructions) {
      slots.push(insn);
      if (insn.code === LD_IMM64) slots.push(undefined);
    }
    this.slots = slots;
    this.length = slots.length;
    const functions = new Set<number>([0]);
    const leaders = new Set<number>([0]);
    const fail = (pc: number, detail: string): never => {
      throw new VmError(VmErrorKind.INVALID_PROGRAM, detail, { pc, instruction: this.text(pc) });
    };
    const target = (pc: number, distance: number, what: string): number => {
      const t = pc + 1 + distance;
      if (t < 0 || t >= this.length) fail(pc, `${what} target ${t} is outside the program (0..${this.length - 1})`);
      if (slots[t] === undefined) fail(pc, `${what} target ${t} is the second slot of an ld_imm64`);
      return t;
    };
    for (let pc = 0; pc < this.length; pc++) {
      const insn = slots[pc];
      if (!insn) continue;
      const cls = insn.code & 0x07;
      const op = insn.code & 0xf0;
      if (isJump(insn)) {
        const t = target(pc, jumpDistance(insn), 'jump');
        leaders.add(t);
        leaders.add(pc + 1);
      } else if (cls === Class.JMP && op === JmpOp.CALL) {
        if (insn.src === CallSrc.LOCAL && (insn.code & Source.X) === 0) {
          const t = target(pc, insn.imm, 'call');
          functions.add(t);
          leaders.add(t);
        }
        leaders.add(pc + 1);
      } else if (cls === Class.JMP && op === JmpOp.EXIT) {
        leaders.add(pc + 1);
      } else if (insn.code === LD_IMM64 && insn.src === PseudoSrc.FUNC) {
        const t = target(pc, insn.imm, 'function reference');
        functions.add(t);
        leaders.add(t);
      }
    }
    leaders.delete(this.length);
    this.functions = functions;
    this.leaders = leaders;
    // Subprogram structure: jumps stay inside, and each one ends with exit or goto.
    const starts = [...functions].sort((a, b) => a - b);
    starts.forEach((start, i) => {
      const end = i + 1 < starts.length ? starts[i + 1]! : this.length;
      let last = end - 1;
      if (slots[last] === undefined) last--;
      const insn = slots[last]!;
      const unconditional =
        insn.code === (Class.JMP | JmpOp.EXIT) || insn.code === (Class.JMP | JmpOp.JA) || insn.code === (Class.JMP32 | JmpOp.JA);
      if (!unconditional) fail(last, 'the last instruction of a function must be exit or an unconditional jump (control would fall off the end)');
      for (let pc = start; pc < end; pc++) {
        const j = slots[pc];
        if (j && isJump(j)) {
          const t = pc + 1 + jumpDistance(j);
          if (t < start || t >= end) fail(pc, `jump target ${t} is outside its function (${start}..${end - 1})`);
        }
      }
    });
  }

  /**
   * Validates instructions or little-endian bytecode. Throws FormatError for bytes or fields
   * that do not encode a valid instruction, VmError ('invalid-program') for bad control flow.
   */
  static load(input: readonly Instruction[] | Uint8Array): Program {
    let insns: Instruction[];
    if (input instanceof Uint8Array) {
      insns = decode(input);
    } else {
      encode(input); // validates field ranges and checkInstruction, naming the instruction index
      insns = input.map((i) => {
        const copy: Instruction = { code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm | 0 };
        if (i.code === LD_IMM64) copy.imm2 = (i.imm2 ?? 0) | 0;
        return copy;
      });
    }
    if (insns.length === 0) throw new FormatError('bytecode', 0, 'the program has no instructions', 'instruction');
    return new Program(insns);
  }

  /** The instruction at `pc` in the ubpf dialect (for error messages). */
  text(pc: number): string | undefined {
    const insn = this.slots[pc];
    return insn ? formatUbpf(insn) : undefined;
  }
}
