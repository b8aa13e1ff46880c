/**
 * Emission: register-allocated IR -> BPF instructions. Lays out the stack frame, orders the
 * blocks so that most branches fall through, runs the machine-level peephole pass, then
 * resolves jumps and records what the object needs: map and global references, local calls,
 * CO-RE relocations and the source offset of each instruction (for line_info).
 */
import type { Instruction } from '../asm/instruction.js';
import { ALU_OPS, ATOMIC_OPS, JUMP_OPS, type CondName } from '../asm/op-names.js';
import { AluOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from '../asm/opcodes.js';
import { fail } from './diagnostics.js';
import { FP, isReg, successors, type Block, type CoreRef, type Inst, type IrFunction, type Slot } from './ir.js';
import { peephole, type MInst } from './peephole.js';

/** The kernel's limit on a program's stack (MAX_BPF_STACK). */
export const MAX_STACK = 512;

/** One function's code and what refers outside it. */
export interface EmittedFunction {
  name: string;
  instructions: Instruction[];
  /** ld_imm64 of a map (`map`) or of an address in a global data map (`map_value`). */
  refs: Array<{ index: number; kind: 'map' | 'map_value'; map: string; offset: number }>;
  /** Local calls to resolve when functions are linked into a program. */
  calls: Array<{ index: number; fn: string }>;
  cores: Array<{ index: number; relo: CoreRef }>;
  /** Source offset of each instruction that starts a new source position. */
  lines: Array<{ index: number; at: number }>;
  /** Bytes of stack used. */
  stackSize: number;
}

const SIZE: Record<number, number> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };

const INVERSE: Record<CondName, CondName | undefined> = {
  jeq: 'jne', jne: 'jeq', jgt: 'jle', jle: 'jgt', jge: 'jlt', jlt: 'jge',
  jsgt: 'jsle', jsle: 'jsgt', jsge: 'jslt', jslt: 'jsge', jset: undefined,
};

/** Assigns stack offsets to the slots the code uses; returns the frame size. */
function layoutFrame(fn: IrFunction): number {
  const used = new Set<Slot>();
  for (const b of fn.blocks) for (const i of b.insts) {
    if ((i.op === 'ld' || i.op === 'st' || i.op === 'atomic') && 'slot' in i.base) used.add(i.base.slot);
    if (i.op === 'frame') used.add(i.slot);
  }
  const slots = [...used].sort((a, b) => b.align - a.align || a.id - b.id);
  let depth = 0;
  for (const s of slots) {
    depth = Math.ceil((depth + s.size) / s.align) * s.align;
    s.offset = -depth;
  }
  return Math.ceil(depth / 8) * 8;
}

const imm32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const fitsS32 = (v: bigint): boolean => v >= -0x80000000n && v <= 0x7fffffffn;

/**
 * Orders blocks so that most edges fall through: from the entry, each block is followed by
 * its unplaced false successor (or jump target), else by the next unplaced block in
 * creation order (which follows the source).
 */
function layout(fn: IrFunction): Block[] {
  const preds = new Map<Block, number>();
  for (const b of fn.blocks) for (const s of successors(b)) preds.set(s, (preds.get(s) ?? 0) + 1);
  // A shared exit goes last, where the paths that end in it can fall into it.
  const sharedExit = (b: Block): boolean => b.term?.op === 'ret' && (preds.get(b) ?? 0) > 1;
  const placed = new Set<Block>();
  const order: Block[] = [];
  let next: Block | undefined = fn.entry;
  let scan = 0;
  while (order.length < fn.blocks.length) {
    if (!next || placed.has(next)) {
      while (scan < fn.blocks.length && placed.has(fn.blocks[scan]!)) scan++;
      next = fn.blocks[scan];
      if (!next) break;
    }
    const b: Block = next;
    placed.add(b);
    order.push(b);
    const t = b.term;
    if (t?.op === 'br') {
      // if (c) { x } : place x before the join it falls into (the branch is inverted).
      const triangle = !placed.has(t.t) && t.t.term?.op === 'jmp' && t.t.term.target === t.f && !placed.has(t.f);
      next = triangle || placed.has(t.f) || (sharedExit(t.f) && !placed.has(t.t)) ? t.t : t.f;
    } else next = t?.op === 'jmp' ? t.target : undefined;
    if (next && sharedExit(next) && order.length + 1 < fn.blocks.length) {
      // Place it only when nothing else is left to place.
      const other = fn.blocks.find((x) => !placed.has(x) && x !== next);
      if (other) next = t?.op === 'br' && !placed.has(t.t) && t.t !== next ? t.t : undefined;
    }
    if (next && placed.has(next)) next = undefined;
  }
  return order;
}

/** Emits an allocated function. Throws a Problem when the stack is over 512 bytes. */
export function emitFunction(fn: IrFunction): EmittedFunction {
  const stackSize = layoutFrame(fn);
  if (stackSize > MAX_STACK) {
    const used = fn.slots.filter((s) => s.offset !== undefined).sort((a, b) => b.size - a.size);
    const list = used.map((s) => `${s.name}: ${s.size}`).join(', ');
    const at = used.find((s) => s.at !== undefined)?.at ?? fn.at;
    fail({ start: at, end: at }, `'${fn.name}' needs ${stackSize} bytes of stack, over the kernel's limit of ${MAX_STACK} (${list})`, 'keep large structs in a map value (e.g. a PerCpuArrayMap with one entry) instead of on the stack');
  }
  const out: MInst[] = [];
  const push = (insn: Instruction, extra: Partial<MInst> = {}, at?: number): void => {
    out.push({ kind: 'insn', insn, ...extra, ...(at !== undefined ? { at } : {}) });
  };
  const baseOf = (i: { base: { reg: number } | { slot: Slot }; off: number }): { reg: number; off: number } =>
    'reg' in i.base ? { reg: i.base.reg, off: i.off } : { reg: FP, off: i.base.slot.offset! + i.off };
  const order = layout(fn);
  order.forEach((b, k) => {
    out.push({ kind: 'label', block: b });
    for (const i of b.insts) emitInst(i, push, baseOf);
    const t = b.term;
    const next: Block | undefined = order[k + 1];
    if (!t) return;
    if (t.op === 'ret') push({ code: Class.JMP | JmpOp.EXIT, dst: 0, src: 0, off: 0, imm: 0 }, {}, t.at);
    else if (t.op === 'jmp') {
      if (t.target !== next) push({ code: Class.JMP | JmpOp.JA, dst: 0, src: 0, off: 0, imm: 0 }, { target: t.target }, t.at);
    } else {
      let { cond, t: yes, f: no } = t;
      const inv = INVERSE[cond];
      if (yes === next && inv) {
        cond = inv;
        [yes, no] = [no, yes];
      }
      const cls = t.w === 32 ? Class.JMP32 : Class.JMP;
      if (isReg(t.b)) push({ code: cls | JUMP_OPS[cond] | Source.X, dst: t.a, src: t.b.reg, off: 0, imm: 0 }, { target: yes }, t.at);
      else push({ code: cls | JUMP_OPS[cond] | Source.K, dst: t.a, src: 0, off: 0, imm: imm32(t.b.imm) }, { target: yes }, t.at);
      if (no !== next) push({ code: Class.JMP | JmpOp.JA, dst: 0, src: 0, off: 0, imm: 0 }, { target: no }, t.at);
    }
  });
  const code = peephole(out);
  return resolve(fn, code, stackSize);
}

function emitInst(i: Inst, push: (insn: Instruction, extra?: Partial<MInst>, at?: number) => void, baseOf: (i: { base: { reg: number } | { slot: Slot }; off: number }) => { reg: number; off: number }): void {
  const at = i.at;
  const p = (insn: Instruction, extra: Partial<MInst> = {}): void => push(insn, extra, at);
  switch (i.op) {
    case 'mov':
      if (isReg(i.src)) {
        if (i.src.reg !== i.dst) p({ code: Class.ALU64 | AluOp.MOV | Source.X, dst: i.dst, src: i.src.reg, off: 0, imm: 0 });
      } else if (i.w === 32) p({ code: Class.ALU | AluOp.MOV | Source.K, dst: i.dst, src: 0, off: 0, imm: imm32(i.src.imm) });
      else if (fitsS32(i.src.imm)) p({ code: Class.ALU64 | AluOp.MOV | Source.K, dst: i.dst, src: 0, off: 0, imm: imm32(i.src.imm) });
      else if (i.src.imm >= 0n && i.src.imm <= 0xffffffffn) p({ code: Class.ALU | AluOp.MOV | Source.K, dst: i.dst, src: 0, off: 0, imm: imm32(i.src.imm) });
      else {
        const u = BigInt.asUintN(64, i.src.imm);
        p({ code: LD_IMM64, dst: i.dst, src: PseudoSrc.IMM64, off: 0, imm: imm32(u), imm2: imm32(u >> 32n) });
      }
      return;
    case 'zext':
      p({ code: Class.ALU | AluOp.MOV | Source.X, dst: i.dst, src: i.src, off: 0, imm: 0 });
      return;
    case 'alu': {
      const { op, off } = ALU_OPS[i.alu];
      const cls = i.w === 32 ? Class.ALU : Class.ALU64;
      if (isReg(i.b)) p({ code: cls | op | Source.X, dst: i.dst, src: i.b.reg, off, imm: 0 });
      else p({ code: cls | op | Source.K, dst: i.dst, src: 0, off, imm: imm32(i.b.imm) });
      return;
    }
    case 'neg':
      p({ code: (i.w === 32 ? Class.ALU : Class.ALU64) | AluOp.NEG, dst: i.dst, src: 0, off: 0, imm: 0 });
      return;
    case 'endian':
      p({ code: Class.ALU | AluOp.END | (i.kind === 'be' ? Source.X : Source.K), dst: i.dst, src: 0, off: 0, imm: i.bits });
      return;
    case 'ld': {
      const m = baseOf(i);
      p({ code: Class.LDX | Mode.MEM | SIZE[i.size]!, dst: i.dst, src: m.reg, off: m.off, imm: 0 }, i.core ? { core: i.core } : {});
      return;
    }
    case 'st': {
      const m = baseOf(i);
      if (isReg(i.src)) p({ code: Class.STX | Mode.MEM | SIZE[i.size]!, dst: m.reg, src: i.src.reg, off: m.off, imm: 0 });
      else p({ code: Class.ST | Mode.MEM | SIZE[i.size]!, dst: m.reg, src: 0, off: m.off, imm: imm32(i.src.imm) });
      return;
    }
    case 'atomic': {
      const m = baseOf(i);
      p({ code: Class.STX | Mode.ATOMIC | SIZE[i.size]!, dst: m.reg, src: i.src, off: m.off, imm: ATOMIC_OPS[i.aop] });
      return;
    }
    case 'frame':
      p({ code: Class.ALU64 | AluOp.MOV | Source.X, dst: i.dst, src: FP, off: 0, imm: 0 });
      p({ code: Class.ALU64 | AluOp.ADD | Source.K, dst: i.dst, src: 0, off: 0, imm: i.slot.offset! + i.off });
      return;
    case 'ldmap':
      p({ code: LD_IMM64, dst: i.dst, src: PseudoSrc.MAP_FD, off: 0, imm: 0, imm2: 0 }, { ref: { kind: 'map', map: i.map, offset: 0 } });
      return;
    case 'ldmapval':
      p({ code: LD_IMM64, dst: i.dst, src: PseudoSrc.MAP_VALUE, off: 0, imm: 0, imm2: i.off }, { ref: { kind: 'map_value', map: i.map, offset: i.off } });
      return;
    case 'coreadd':
      p({ code: Class.ALU64 | AluOp.ADD | Source.K, dst: i.dst, src: 0, off: 0, imm: i.local }, { core: i.core });
      return;
    case 'call':
      p({ code: Class.JMP | JmpOp.CALL, dst: 0, src: CallSrc.HELPER, off: 0, imm: i.helper });
      return;
    case 'callfn':
      p({ code: Class.JMP | JmpOp.CALL, dst: 0, src: CallSrc.LOCAL, off: 0, imm: -1 }, { call: i.fn });
      return;
    case 'params':
      return;
  }
}

/** Turns labels into jump offsets and collects the side tables. */
function resolve(fn: IrFunction, code: MInst[], stackSize: number): EmittedFunction {
  const slotOfLabel = new Map<Block, number>();
  let slot = 0;
  for (const m of code) {
    if (m.kind === 'label') slotOfLabel.set(m.block!, slot);
    else slot += m.insn!.code === LD_IMM64 ? 2 : 1;
  }
  const res: EmittedFunction = { name: fn.name, instructions: [], refs: [], calls: [], cores: [], lines: [], stackSize };
  slot = 0;
  let lastAt: number | undefined;
  for (const m of code) {
    if (m.kind === 'label') continue;
    const insn = { ...m.insn! };
    const index = res.instructions.length;
    if (m.target) {
      const dist = slotOfLabel.get(m.target)! - slot - 1;
      if (dist < -0x8000 || dist > 0x7fff) fail({ start: fn.at, end: fn.at }, `'${fn.name}' is too large: a jump spans ${dist} instructions, beyond the 16-bit range`, 'split the function into smaller functions');
      insn.off = dist;
    }
    if (m.ref) res.refs.push({ index, ...m.ref });
    if (m.call) res.calls.push({ index, fn: m.call });
    if (m.core) res.cores.push({ index, relo: m.core });
    const at = m.at ?? lastAt ?? fn.at;
    if (index === 0 || at !== lastAt) res.lines.push({ index, at });
    lastAt = at;
    res.instructions.push(insn);
    slot += insn.code === LD_IMM64 ? 2 : 1;
  }
  return res;
}
