/**
 * The IR: a control-flow graph of basic blocks over virtual registers, close to BPF so that
 * lowering decides the instruction shapes and the register allocator only names registers.
 * Register numbers 0-10 are the machine registers r0-r10 (r1-r5 at calls, r0 at returns, r10
 * the frame pointer); virtual registers start at FIRST_VREG. ALU operations are two-address
 * (`dst op= b`, as in BPF): lowering copies the left operand first and coalescing removes the
 * copy when it can. Memory bases are a register or a stack slot, whose offset is fixed after
 * register allocation (spill slots are added late).
 */
import type { AluName, CondName } from '../asm/op-names.js';
import type { StructType } from './types.js';

/** First virtual register number; 0-10 are r0-r10. */
export const FIRST_VREG = 16;
/** The frame pointer. */
export const FP = 10;

/** A stack slot: a local aggregate, a temporary for a helper argument, or a spill. */
export interface Slot {
  id: number;
  size: number;
  align: number;
  /** Offset from r10 (negative), set by frame layout. */
  offset?: number;
  /** What it holds, for --explain-ir. */
  name: string;
  /** Source offset of what made it (for stack-size errors). */
  at?: number;
}

/** An operand: a register or an immediate. */
export type Value = { reg: number } | { imm: bigint };

export const reg = (r: number): Value => ({ reg: r });
export const imm = (v: bigint | number): Value => ({ imm: BigInt(v) });
export const isReg = (v: Value): v is { reg: number } => 'reg' in v;

/** Where a memory operand is: base register or stack slot, plus a byte offset. */
export type Base = { reg: number } | { slot: Slot };

/** One step of a CO-RE access path: a member of a kernel struct, or an array element. */
export type CoreStep = { struct: StructType; member: string } | { index: number };

/**
 * A CO-RE relocation to attach to the emitted instruction (FIELD_BYTE_OFFSET). The access
 * string is made when the object is written, once the local copies of kernel structs have all
 * their members (in offset order, as the kernel's BTF check wants them).
 */
export interface CoreRef {
  /** Local BTF type id of the root struct. */
  typeId: number;
  path: CoreStep[];
  kind: number;
}

/** A readable access path, e.g. task_struct::real_parent.tgid. */
export function describeCore(c: CoreRef): string {
  return c.path.map((s) => ('member' in s ? `${s.struct.cName ?? s.struct.name}::${s.member}` : `[${s.index}]`)).join(' ');
}

export type Size = 1 | 2 | 4 | 8;

/** One IR instruction. `at` is the source offset it came from (for line info). */
export type Inst = (
  | { op: 'mov'; dst: number; src: Value; w: 32 | 64 }
  /** dst = (u32) src: zero-extends the low half (a truncation, never coalesced). */
  | { op: 'zext'; dst: number; src: number }
  | { op: 'alu'; alu: AluName; dst: number; b: Value; w: 32 | 64 }
  | { op: 'neg'; dst: number; w: 32 | 64 }
  | { op: 'endian'; dst: number; kind: 'be' | 'le'; bits: 16 | 32 | 64 }
  | { op: 'ld'; dst: number; base: Base; off: number; size: Size; core?: CoreRef }
  | { op: 'st'; base: Base; off: number; src: Value; size: Size }
  | { op: 'atomic'; aop: 'add' | 'or' | 'and' | 'xor'; base: Base; off: number; src: number; size: 4 | 8 }
  /** dst = address of slot + off. */
  | { op: 'frame'; dst: number; slot: Slot; off: number }
  | { op: 'ldmap'; dst: number; map: string }
  /** dst = address of byte `off` of global data map `map`. */
  | { op: 'ldmapval'; dst: number; map: string; off: number }
  /** dst += relocated field offset (bpf_core FIELD_BYTE_OFFSET on an ALU immediate). */
  | { op: 'coreadd'; dst: number; core: CoreRef; local: number }
  /** Helper call: uses r1..r(nargs), defines r0..r5. */
  | { op: 'call'; helper: number; nargs: number }
  /** BPF-to-BPF call of function `fn`. */
  | { op: 'callfn'; fn: string; nargs: number }
  /** Function entry: defines r1..r(n). */
  | { op: 'params'; n: number }
) & { at?: number };

/** How a block ends. */
export type Terminator = (
  | { op: 'jmp'; target: Block }
  | { op: 'br'; cond: CondName; a: number; b: Value; w: 32 | 64; t: Block; f: Block }
  /** Returns r0. */
  | { op: 'ret' }
) & { at?: number };

export interface Block {
  id: number;
  insts: Inst[];
  term: Terminator | undefined;
  /** Loop nesting depth (weights spill costs). */
  depth: number;
}

/** One function: a program entry or a subprogram. */
export class IrFunction {
  readonly blocks: Block[] = [];
  readonly slots: Slot[] = [];
  private nextReg = FIRST_VREG;
  private nextBlock = 0;
  /** Virtual registers whose value is a pointer (spilled as 8 bytes like all, noted for dumps). */
  readonly entry: Block;

  constructor(
    readonly name: string,
    /** Source offset of the declaration (for stack-size errors and the first line info). */
    readonly at: number,
  ) {
    this.entry = this.newBlock();
  }

  newReg(): number {
    return this.nextReg++;
  }

  get regCount(): number {
    return this.nextReg;
  }

  newBlock(): Block {
    const b: Block = { id: this.nextBlock++, insts: [], term: undefined, depth: 0 };
    this.blocks.push(b);
    return b;
  }

  newSlot(size: number, align: number, name: string, at?: number): Slot {
    const s: Slot = { id: this.slots.length, size, align: Math.min(8, Math.max(1, align)), name, ...(at !== undefined ? { at } : {}) };
    this.slots.push(s);
    return s;
  }
}

/** Registers an instruction reads. */
export function usesOf(i: Inst): number[] {
  const out: number[] = [];
  const v = (x: Value): void => {
    if (isReg(x)) out.push(x.reg);
  };
  const b = (x: Base): void => {
    if ('reg' in x) out.push(x.reg);
  };
  switch (i.op) {
    case 'mov':
      v(i.src);
      break;
    case 'zext':
      out.push(i.src);
      break;
    case 'alu':
      out.push(i.dst);
      v(i.b);
      break;
    case 'neg':
    case 'endian':
    case 'coreadd':
      out.push(i.dst);
      break;
    case 'ld':
      b(i.base);
      break;
    case 'st':
      b(i.base);
      v(i.src);
      break;
    case 'atomic':
      b(i.base);
      out.push(i.src);
      break;
    case 'call':
    case 'callfn':
      for (let r = 1; r <= i.nargs; r++) out.push(r);
      break;
    default:
      break;
  }
  return out;
}

/** Registers an instruction writes. */
export function defsOf(i: Inst): number[] {
  switch (i.op) {
    case 'mov':
    case 'zext':
    case 'alu':
    case 'neg':
    case 'endian':
    case 'ld':
    case 'frame':
    case 'ldmap':
    case 'ldmapval':
    case 'coreadd':
      return [i.dst];
    case 'call':
    case 'callfn':
      return [0, 1, 2, 3, 4, 5];
    case 'params':
      return Array.from({ length: i.n }, (_, k) => k + 1);
    default:
      return [];
  }
}

/** Registers a terminator reads. */
export function termUses(t: Terminator): number[] {
  if (t.op === 'br') return isReg(t.b) ? [t.a, t.b.reg] : [t.a];
  if (t.op === 'ret') return [0];
  return [];
}

/** Successor blocks. */
export function successors(b: Block): Block[] {
  const t = b.term;
  if (!t) return [];
  if (t.op === 'jmp') return [t.target];
  if (t.op === 'br') return t.t === t.f ? [t.t] : [t.t, t.f];
  return [];
}

/** Whether an instruction has effects beyond its defined registers (so it is never dead). */
export function hasSideEffects(i: Inst): boolean {
  return i.op === 'st' || i.op === 'atomic' || i.op === 'call' || i.op === 'callfn' || i.op === 'params';
}

function fmtValue(v: Value): string {
  return isReg(v) ? regName(v.reg) : String(v.imm);
}
function fmtBase(b: Base): string {
  return 'reg' in b ? regName(b.reg) : `slot${b.slot.id}(${b.slot.name})`;
}
/** r0-r10, or %N for virtual registers. */
export function regName(r: number): string {
  return r < FIRST_VREG ? `r${r}` : `%${r}`;
}

/** A readable listing of a function (for --explain-ir and tests). */
export function formatIr(fn: IrFunction): string {
  const lines = [`function ${fn.name}:`];
  for (const s of fn.slots) lines.push(`  slot${s.id}: ${s.size} bytes align ${s.align} (${s.name})${s.offset !== undefined ? ` at r10${s.offset}` : ''}`);
  for (const b of fn.blocks) {
    lines.push(`b${b.id}:`);
    for (const i of b.insts) lines.push(`    ${formatInst(i)}`);
    const t = b.term;
    if (t) lines.push(`    ${t.op === 'jmp' ? `jmp b${t.target.id}` : t.op === 'br' ? `br${t.w === 32 ? '32' : ''} ${t.cond} ${regName(t.a)}, ${fmtValue(t.b)} ? b${t.t.id} : b${t.f.id}` : 'ret r0'}`);
  }
  return lines.join('\n');
}

export function formatInst(i: Inst): string {
  switch (i.op) {
    case 'mov':
      return `${regName(i.dst)} = ${fmtValue(i.src)}${i.w === 32 ? ' (32)' : ''}`;
    case 'zext':
      return `${regName(i.dst)} = (u32) ${regName(i.src)}`;
    case 'alu':
      return `${regName(i.dst)} ${i.alu}${i.w === 32 ? '32' : ''}= ${fmtValue(i.b)}`;
    case 'neg':
      return `${regName(i.dst)} = -${regName(i.dst)}${i.w === 32 ? ' (32)' : ''}`;
    case 'endian':
      return `${regName(i.dst)} = ${i.kind}${i.bits} ${regName(i.dst)}`;
    case 'ld':
      return `${regName(i.dst)} = *(u${i.size * 8} *)(${fmtBase(i.base)} + ${i.off})${i.core ? ` [CO-RE ${describeCore(i.core)}]` : ''}`;
    case 'st':
      return `*(u${i.size * 8} *)(${fmtBase(i.base)} + ${i.off}) = ${fmtValue(i.src)}`;
    case 'atomic':
      return `lock *(u${i.size * 8} *)(${fmtBase(i.base)} + ${i.off}) ${i.aop}= ${regName(i.src)}`;
    case 'frame':
      return `${regName(i.dst)} = &slot${i.slot.id}(${i.slot.name}) + ${i.off}`;
    case 'ldmap':
      return `${regName(i.dst)} = map ${i.map}`;
    case 'ldmapval':
      return `${regName(i.dst)} = &${i.map}[${i.off}]`;
    case 'coreadd':
      return `${regName(i.dst)} += ${i.local} [CO-RE ${describeCore(i.core)}]`;
    case 'call':
      return `call helper ${i.helper} (${i.nargs} args)`;
    case 'callfn':
      return `call ${i.fn} (${i.nargs} args)`;
    case 'params':
      return `params r1..r${i.n}`;
  }
}
