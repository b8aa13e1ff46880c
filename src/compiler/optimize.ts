/**
 * IR clean-ups before register allocation: constants folded into instruction immediates,
 * branches on constants decided, dead instructions removed, empty blocks jumped over and
 * unreachable blocks dropped. Each is small; together they remove most of what a direct
 * lowering leaves behind.
 */
import type { CondName } from '../asm/op-names.js';
import { defsOf, FIRST_VREG, hasSideEffects, isReg, successors, termUses, usesOf, type Block, type Inst, type IrFunction, type Value } from './ir.js';
import { liveness } from './liveness.js';

/** Runs every pass until nothing changes (bounded). */
export function optimize(fn: IrFunction): void {
  for (let round = 0; round < 6; round++) {
    let changed = propagateConstants(fn);
    changed = threadJumps(fn) || changed;
    changed = mergeReturns(fn) || changed;
    changed = removeUnreachable(fn) || changed;
    changed = removeDeadCode(fn) || changed;
    if (!changed) break;
  }
}

const fitsS32 = (v: bigint): boolean => v >= -0x80000000n && v <= 0x7fffffffn;
const low32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** The 64-bit register value a `mov` of an immediate leaves. */
function movValue(i: Extract<Inst, { op: 'mov' }>): bigint | undefined {
  if (isReg(i.src)) return undefined;
  return i.w === 32 ? BigInt.asUintN(32, i.src.imm) : BigInt.asIntN(64, i.src.imm);
}

/** Swapped-operand form of a comparison (a < b  <=>  b > a). */
const MIRROR: Record<CondName, CondName | undefined> = {
  jeq: 'jeq', jne: 'jne', jgt: 'jlt', jlt: 'jgt', jge: 'jle', jle: 'jge',
  jsgt: 'jslt', jslt: 'jsgt', jsge: 'jsle', jsle: 'jsge', jset: 'jset',
};

/** Evaluates a comparison of constants as the BPF jump does. */
export function evalCond(cond: CondName, a: bigint, b: bigint, w: 32 | 64): boolean {
  const ua = w === 32 ? BigInt.asUintN(32, a) : BigInt.asUintN(64, a);
  const ub = w === 32 ? BigInt.asUintN(32, b) : BigInt.asUintN(64, b);
  const sa = w === 32 ? BigInt.asIntN(32, a) : BigInt.asIntN(64, a);
  const sb = w === 32 ? BigInt.asIntN(32, b) : BigInt.asIntN(64, b);
  switch (cond) {
    case 'jeq': return ua === ub;
    case 'jne': return ua !== ub;
    case 'jgt': return ua > ub;
    case 'jge': return ua >= ub;
    case 'jlt': return ua < ub;
    case 'jle': return ua <= ub;
    case 'jsgt': return sa > sb;
    case 'jsge': return sa >= sb;
    case 'jslt': return sa < sb;
    case 'jsle': return sa <= sb;
    case 'jset': return (ua & ub) !== 0n;
  }
}

function propagateConstants(fn: IrFunction): boolean {
  const defs = new Map<number, number>();
  const value = new Map<number, bigint>();
  for (const b of fn.blocks) for (const i of b.insts) for (const d of defsOf(i)) defs.set(d, (defs.get(d) ?? 0) + 1);
  for (const b of fn.blocks) for (const i of b.insts) {
    if (i.op === 'mov' && i.dst >= FIRST_VREG && defs.get(i.dst) === 1) {
      const v = movValue(i);
      if (v !== undefined) value.set(i.dst, v);
    }
  }
  if (value.size === 0) return false;
  let changed = false;
  const asImm = (v: Value, ok: (c: bigint) => bigint | undefined): Value => {
    if (!isReg(v)) return v;
    const c = value.get(v.reg);
    if (c === undefined) return v;
    const r = ok(c);
    if (r === undefined) return v;
    changed = true;
    return { imm: r };
  };
  for (const b of fn.blocks) {
    for (let k = 0; k < b.insts.length; k++) {
      const i = b.insts[k]!;
      if (i.op === 'alu') {
        i.b = asImm(i.b, (c) => (i.w === 32 ? low32(c) : fitsS32(c) ? c : undefined));
      } else if (i.op === 'st') {
        i.src = asImm(i.src, (c) => (i.size < 8 ? low32(c) : fitsS32(c) ? c : undefined));
      } else if (i.op === 'mov' && isReg(i.src)) {
        const c = value.get(i.src.reg);
        if (c !== undefined) {
          changed = true;
          if (fitsS32(c)) b.insts[k] = { ...i, src: { imm: c }, w: 64 };
          else if (c >= 0n && c <= 0xffffffffn) b.insts[k] = { ...i, src: { imm: c }, w: 32 };
          else b.insts[k] = { ...i, src: { imm: c }, w: 64 };
        }
      }
    }
    const t = b.term;
    if (t?.op === 'br') {
      t.b = asImm(t.b, (c) => (t.w === 32 ? low32(c) : fitsS32(c) ? c : undefined));
      const ca = value.get(t.a);
      if (ca !== undefined) {
        if (!isReg(t.b)) {
          b.term = { op: 'jmp', target: evalCond(t.cond, ca, t.b.imm, t.w) ? t.t : t.f, at: t.at };
          changed = true;
        } else {
          const m = MIRROR[t.cond];
          const fits = t.w === 32 || fitsS32(ca);
          if (m && fits) {
            b.term = { ...t, cond: m, a: t.b.reg, b: { imm: t.w === 32 ? low32(ca) : ca } };
            changed = true;
          }
        }
      }
    }
  }
  return changed;
}

/** Removes instructions whose results nobody reads. */
function removeDeadCode(fn: IrFunction): boolean {
  let changed = false;
  for (;;) {
    const live = liveness(fn);
    let round = false;
    for (const b of fn.blocks) {
      const now = new Set(live.liveOut.get(b));
      if (b.term) for (const r of termUses(b.term)) now.add(r);
      const keep: Inst[] = [];
      for (let k = b.insts.length - 1; k >= 0; k--) {
        const i = b.insts[k]!;
        const defs = defsOf(i);
        const dead = !hasSideEffects(i) && defs.length > 0 && defs.every((d) => !now.has(d));
        const selfMove = i.op === 'mov' && isReg(i.src) && i.src.reg === i.dst;
        if (dead || selfMove) {
          round = true;
          continue;
        }
        keep.push(i);
        for (const d of defs) now.delete(d);
        for (const u of usesOf(i)) now.add(u);
      }
      keep.reverse();
      b.insts = keep;
    }
    if (!round) return changed;
    changed = true;
  }
}

/** Skips blocks that only jump, and turns branches to one place into jumps. */
function threadJumps(fn: IrFunction): boolean {
  let changed = false;
  const forward = (b: Block): Block => {
    const seen = new Set<Block>();
    let x = b;
    while (x.insts.length === 0 && x.term?.op === 'jmp' && !seen.has(x)) {
      seen.add(x);
      x = x.term.target;
    }
    return x;
  };
  for (const b of fn.blocks) {
    const t = b.term;
    if (!t) continue;
    if (t.op === 'jmp') {
      const x = forward(t.target);
      if (x !== t.target) {
        t.target = x;
        changed = true;
      }
    } else if (t.op === 'br') {
      const tt = forward(t.t);
      const ff = forward(t.f);
      if (tt !== t.t || ff !== t.f) changed = true;
      t.t = tt;
      t.f = ff;
      if (tt === ff) {
        b.term = { op: 'jmp', target: tt, at: t.at };
        changed = true;
      }
    }
  }
  return changed;
}

/**
 * Blocks that only set r0 (or nothing) and return are merged into the last of their kind, so
 * early returns branch to one shared exit, as clang lays them out.
 */
function mergeReturns(fn: IrFunction): boolean {
  const key = (b: Block): string | undefined => {
    if (b.term?.op !== 'ret' || b.insts.length > 1) return undefined;
    const i = b.insts[0];
    if (!i) return 'ret';
    if (i.op === 'mov' && i.dst === 0 && !isReg(i.src)) return `ret ${i.src.imm}`;
    return undefined;
  };
  const keep = new Map<string, Block>();
  for (const b of fn.blocks) {
    const k = key(b);
    if (k !== undefined) keep.set(k, b);
  }
  let changed = false;
  // A block that ends in "r0 = K; return" after other work shares its tail with the pure
  // return blocks of the same K: split the tail off (placed right after, so it falls through).
  for (let n = 0; n < fn.blocks.length; n++) {
    const b = fn.blocks[n]!;
    const last = b.insts[b.insts.length - 1];
    if (b.term?.op !== 'ret' || b.insts.length < 2 || !last || last.op !== 'mov' || last.dst !== 0 || isReg(last.src)) continue;
    const k = `ret ${last.src.imm}`;
    const other = keep.get(k);
    if (!other || other === b) continue;
    const tail = fn.newBlock();
    fn.blocks.pop();
    fn.blocks.splice(n + 1, 0, tail);
    tail.insts.push(b.insts.pop()!);
    tail.term = b.term;
    tail.depth = b.depth;
    b.term = { op: 'jmp', target: tail, at: last.at };
    keep.set(k, tail);
    changed = true;
  }
  const target = (b: Block): Block => {
    const k = key(b);
    const t = k === undefined ? b : keep.get(k)!;
    if (t !== b) changed = true;
    return t;
  };
  for (const b of fn.blocks) {
    const t = b.term;
    if (t?.op === 'jmp') t.target = target(t.target);
    else if (t?.op === 'br') {
      t.t = target(t.t);
      t.f = target(t.f);
    }
  }
  return changed;
}

function removeUnreachable(fn: IrFunction): boolean {
  const seen = new Set<Block>();
  const work = [fn.entry];
  while (work.length > 0) {
    const b = work.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    work.push(...successors(b));
  }
  if (seen.size === fn.blocks.length) return false;
  const keep = fn.blocks.filter((b) => seen.has(b));
  fn.blocks.length = 0;
  fn.blocks.push(...keep);
  return true;
}
