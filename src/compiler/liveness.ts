/**
 * Liveness of registers over an IR function (backward data flow to a fixed point), the basis
 * of dead-code elimination and of the register allocator's interference graph.
 */
import { defsOf, FP, isReg, successors, termUses, usesOf, type Block, type IrFunction } from './ir.js';

/** Registers live on entry to and exit from each block. */
export interface Liveness {
  liveIn: Map<Block, Set<number>>;
  liveOut: Map<Block, Set<number>>;
}

/** Computes live-in/live-out sets (r10 is never tracked). */
export function liveness(fn: IrFunction): Liveness {
  const use = new Map<Block, Set<number>>();
  const def = new Map<Block, Set<number>>();
  for (const b of fn.blocks) {
    const u = new Set<number>();
    const d = new Set<number>();
    for (const i of b.insts) {
      for (const r of usesOf(i)) if (r !== FP && !d.has(r)) u.add(r);
      for (const r of defsOf(i)) d.add(r);
    }
    if (b.term) for (const r of termUses(b.term)) if (r !== FP && !d.has(r)) u.add(r);
    use.set(b, u);
    def.set(b, d);
  }
  const liveIn = new Map<Block, Set<number>>();
  const liveOut = new Map<Block, Set<number>>();
  for (const b of fn.blocks) {
    liveIn.set(b, new Set());
    liveOut.set(b, new Set());
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = fn.blocks.length - 1; k >= 0; k--) {
      const b = fn.blocks[k]!;
      const out = liveOut.get(b)!;
      for (const s of successors(b)) for (const r of liveIn.get(s)!) if (!out.has(r)) {
        out.add(r);
        changed = true;
      }
      const inn = liveIn.get(b)!;
      const d = def.get(b)!;
      for (const r of use.get(b)!) if (!inn.has(r)) {
        inn.add(r);
        changed = true;
      }
      for (const r of out) if (!d.has(r) && !inn.has(r)) {
        inn.add(r);
        changed = true;
      }
    }
  }
  return { liveIn, liveOut };
}

/** Whether a value operand is the register `r`. */
export function valueIs(v: { reg: number } | { imm: bigint }, r: number): boolean {
  return isReg(v) && v.reg === r;
}
