import { TsbpfError } from '../errors.js';
import { checkInstruction, splitImm64, type Instruction } from './instruction.js';
import { ALU_OPS, ATOMIC_OPS, JUMP_OPS, type AluName, type CondName } from './op-names.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from './opcodes.js';

export type { AluName, CondName } from './op-names.js';

/** A register number r0-r10. */
export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
/** The read-only frame pointer, r10. */
export const FP = R10;

/** A memory access width. */
export type Width = 8 | 16 | 32 | 64;
/** An atomic read-modify-write operation accepted by `atomic`. */
export type AtomicName = keyof typeof ATOMIC_OPS | 'fetch_add' | 'fetch_or' | 'fetch_and' | 'fetch_xor';

function atomicImm(op: AtomicName): number {
  return op.startsWith('fetch_') ? ATOMIC_OPS[op.slice(6) as 'add'] | AtomicOp.FETCH : ATOMIC_OPS[op as keyof typeof ATOMIC_OPS];
}

const SIZE: Record<Width, number> = { 8: Size.B, 16: Size.H, 32: Size.W, 64: Size.DW };

/**
 * A reference from an instruction to something outside the program, which a loader or object
 * writer resolves: a map (ld_imm64 src=1/2) or a global function (call src=1 across sections).
 */
export interface SymbolReference {
  /** Index into `instructions` of the referring instruction. */
  index: number;
  /** Name of the map or function referred to. */
  symbol: string;
  kind: 'map' | 'map_value' | 'call';
}

/** What `ProgramBuilder.build()` returns. */
export interface BuiltProgram {
  instructions: Instruction[];
  /** Slot (8-byte unit) of each label, as a jump counts. */
  labels: Map<string, number>;
  /** Map and function references a loader must patch. */
  references: SymbolReference[];
}

/** A program the builder cannot produce: an unknown or duplicate label, a jump out of range. */
export class ProgramBuildError extends TsbpfError {
  override name = 'ProgramBuildError';
  constructor(
    /** Index of the instruction at fault (or -1 when it is about the whole program). */
    readonly index: number,
    readonly detail: string,
  ) {
    super(index >= 0 ? `instruction ${index}: ${detail}` : detail);
  }
}

/** A source operand: a register from `reg(n)`, or an immediate. */
export type Operand = { reg: Reg } | number | bigint;
interface PendingJump {
  index: number;
  label: string;
  wide: boolean;
}

/**
 * Writes BPF programs in TypeScript: one method per instruction form, labels for jumps and
 * local calls, resolved by `build()`, which also validates every instruction.
 *
 * A register operand is passed with `reg(n)`; a plain number is an immediate.
 *
 * @example
 * const p = new ProgramBuilder()
 *   .mov(R0, 0)
 *   .label('loop')
 *   .alu('add', R0, 3)
 *   .jump('jlt', R0, 30, 'loop')
 *   .exit()
 *   .build();
 * // p.instructions: r0 = 0; r0 += 3; if r0 < 30 goto -2; exit
 */
export class ProgramBuilder {
  private readonly insns: Instruction[] = [];
  private readonly labelSlots = new Map<string, number>();
  private readonly jumps: PendingJump[] = [];
  private readonly localCalls: PendingJump[] = [];
  private readonly refs: SymbolReference[] = [];
  private slot = 0;

  private push(insn: Instruction): this {
    this.insns.push(insn);
    this.slot += insn.code === LD_IMM64 ? 2 : 1;
    return this;
  }

  /** Marks the next instruction with a name that jumps and local calls can target. */
  label(name: string): this {
    if (this.labelSlots.has(name)) throw new ProgramBuildError(this.insns.length, `label '${name}' is defined twice`);
    this.labelSlots.set(name, this.slot);
    return this;
  }

  /** 64-bit ALU operation `dst op= src` (src a `reg(n)` or an immediate). */
  alu(op: AluName, dst: Reg, src: Operand): this {
    return this.aluOp(Class.ALU64, op, dst, src);
  }

  /** 32-bit ALU operation on the lower halves (`w` registers); the upper half becomes zero. */
  alu32(op: AluName, dst: Reg, src: Operand): this {
    return this.aluOp(Class.ALU, op, dst, src);
  }

  private aluOp(cls: number, op: AluName, dst: Reg, src: Operand): this {
    const { op: code, off } = ALU_OPS[op];
    if (isReg(src)) return this.push({ code: cls | code | Source.X, dst, src: src.reg, off, imm: 0 });
    return this.push({ code: cls | code | Source.K, dst, src: 0, off, imm: imm32(src, this.insns.length) });
  }

  /** `dst = src` (64-bit). A 64-bit constant that does not fit in 32 bits needs `lddw`. */
  mov(dst: Reg, src: Operand): this {
    return this.alu('mov', dst, src);
  }

  /** `dst = (s8|s16|s32) src`: sign-extending move (ISA v4). */
  movsx(dst: Reg, src: Reg, fromBits: 8 | 16 | 32, is64 = true): this {
    return this.push({ code: (is64 ? Class.ALU64 : Class.ALU) | AluOp.MOV | Source.X, dst, src, off: fromBits, imm: 0 });
  }

  /** `dst = -dst`. */
  neg(dst: Reg, is64 = true): this {
    return this.push({ code: (is64 ? Class.ALU64 : Class.ALU) | AluOp.NEG, dst, src: 0, off: 0, imm: 0 });
  }

  /** Byte order conversion: `le`/`be` to the given width, or `bswap` (ISA v4) unconditionally. */
  endian(kind: 'le' | 'be' | 'bswap', dst: Reg, bits: 16 | 32 | 64): this {
    const code = kind === 'bswap' ? Class.ALU64 | AluOp.END : Class.ALU | AluOp.END | (kind === 'be' ? Source.X : Source.K);
    return this.push({ code, dst, src: 0, off: 0, imm: bits });
  }

  /** 64-bit constant load (ld_imm64, two slots). */
  lddw(dst: Reg, value: bigint | number): this {
    return this.push({ code: LD_IMM64, dst, src: PseudoSrc.IMM64, off: 0, ...splitImm64(BigInt(value)) });
  }

  /** `dst = &map` — a map reference the loader patches (ld_imm64 with src = BPF_PSEUDO_MAP_FD). */
  ldMap(dst: Reg, map: string): this {
    this.refs.push({ index: this.insns.length, symbol: map, kind: 'map' });
    return this.push({ code: LD_IMM64, dst, src: PseudoSrc.MAP_FD, off: 0, imm: 0, imm2: 0 });
  }

  /** `dst = &map.value + offset` — a pointer into an array map's value (BPF_PSEUDO_MAP_VALUE). */
  ldMapValue(dst: Reg, map: string, offset = 0): this {
    this.refs.push({ index: this.insns.length, symbol: map, kind: 'map_value' });
    return this.push({ code: LD_IMM64, dst, src: PseudoSrc.MAP_VALUE, off: 0, imm: 0, imm2: offset });
  }

  /** `dst = *(uN *)(src + off)`; `signed` gives the sign-extending load (ISA v4). */
  load(width: Width, dst: Reg, src: Reg, off: number, signed = false): this {
    const mode = signed ? Mode.MEMSX : Mode.MEM;
    return this.push({ code: Class.LDX | mode | SIZE[width], dst, src, off, imm: 0 });
  }

  /** `*(uN *)(dst + off) = src` where src is a register (`reg(n)`) or an immediate. */
  store(width: Width, dst: Reg, off: number, src: Operand): this {
    if (isReg(src)) return this.push({ code: Class.STX | Mode.MEM | SIZE[width], dst, src: src.reg, off, imm: 0 });
    return this.push({ code: Class.ST | Mode.MEM | SIZE[width], dst, src: 0, off, imm: imm32(src, this.insns.length) });
  }

  /** Atomic operation on `*(uN *)(dst + off)` with `src` (32 or 64 bits). */
  atomic(op: AtomicName, width: 32 | 64, dst: Reg, off: number, src: Reg): this {
    return this.push({ code: Class.STX | Mode.ATOMIC | SIZE[width], dst, src, off, imm: atomicImm(op) });
  }

  /** Conditional jump to a label, comparing 64-bit (or with `is32`, 32-bit) values. */
  jump(cond: CondName, dst: Reg, src: Operand, label: string, is32 = false): this {
    const cls = is32 ? Class.JMP32 : Class.JMP;
    this.jumps.push({ index: this.insns.length, label, wide: false });
    if (isReg(src)) return this.push({ code: cls | JUMP_OPS[cond] | Source.X, dst, src: src.reg, off: 0, imm: 0 });
    return this.push({ code: cls | JUMP_OPS[cond] | Source.K, dst, src: 0, off: 0, imm: imm32(src, this.insns.length) });
  }

  /** Unconditional jump to a label (`goto`; `gotol`, whose range is 32 bits, when `wide`). */
  goto(label: string, wide = false): this {
    this.jumps.push({ index: this.insns.length, label, wide });
    return this.push({ code: wide ? Class.JMP32 | JmpOp.JA : Class.JMP | JmpOp.JA, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** Calls helper function `id` (see include/uapi/linux/bpf.h, `___BPF_FUNC_MAPPER`). */
  call(id: number): this {
    return this.push({ code: Class.JMP | JmpOp.CALL, dst: 0, src: CallSrc.HELPER, off: 0, imm: id });
  }

  /** BPF-to-BPF call to a label in this program, or to an external function by symbol. */
  callLocal(label: string, external = false): this {
    if (external) this.refs.push({ index: this.insns.length, symbol: label, kind: 'call' });
    else this.localCalls.push({ index: this.insns.length, label, wide: true });
    return this.push({ code: Class.JMP | JmpOp.CALL, dst: 0, src: CallSrc.LOCAL, off: 0, imm: -1 });
  }

  /** Calls kernel function `btfId` (a kfunc, by its id in vmlinux BTF). */
  callKfunc(btfId: number): this {
    return this.push({ code: Class.JMP | JmpOp.CALL, dst: 0, src: CallSrc.KFUNC, off: 0, imm: btfId });
  }

  /** Returns r0 to the caller. */
  exit(): this {
    return this.push({ code: Class.JMP | JmpOp.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** Appends an already-encoded instruction. */
  raw(insn: Instruction): this {
    return this.push({ ...insn });
  }

  /** Resolves labels, validates every instruction and returns the program. */
  build(): BuiltProgram {
    const slots: number[] = [];
    let s = 0;
    for (const insn of this.insns) {
      slots.push(s);
      s += insn.code === LD_IMM64 ? 2 : 1;
    }
    const target = (j: PendingJump): number => {
      const at = this.labelSlots.get(j.label);
      if (at === undefined) throw new ProgramBuildError(j.index, `jump to unknown label '${j.label}'`);
      return at - slots[j.index]! - 1;
    };
    const insns = this.insns.map((i) => ({ ...i }));
    for (const j of this.jumps) {
      const distance = target(j);
      if (j.wide) insns[j.index]!.imm = distance;
      else if (distance < -0x8000 || distance > 0x7fff) {
        throw new ProgramBuildError(j.index, `jump to '${j.label}' is ${distance} slots away, beyond goto's 16-bit range; use goto(label, true) (gotol)`);
      } else insns[j.index]!.off = distance;
    }
    for (const c of this.localCalls) insns[c.index]!.imm = target(c);
    insns.forEach((insn, index) => {
      const problem = checkInstruction(insn);
      if (problem) throw new ProgramBuildError(index, problem);
    });
    return { instructions: insns, labels: new Map(this.labelSlots), references: [...this.refs] };
  }
}

/** Marks a register as the source operand (a bare number is an immediate). */
export function reg(n: Reg): { reg: Reg } {
  return { reg: n };
}

function isReg(x: Operand): x is { reg: Reg } {
  return typeof x === 'object' && x !== null && 'reg' in x;
}

function imm32(v: number | bigint, index: number): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) {
    throw new ProgramBuildError(index, `immediate ${v} does not fit in 32 bits; use lddw for 64-bit constants`);
  }
  return n | 0;
}
