/**
 * Register allocation by graph colouring (Chaitin/Briggs with conservative coalescing) onto
 * r0-r9. Calls define r0-r5, so a value live across a call interferes with them and lands in
 * r6-r9 or is spilled; argument and result moves to and from r0-r5 are coalesced away when
 * nothing else needs those registers. Spilled values get 8-byte stack slots (the verifier
 * tracks pointers and precise scalars only through full 8-byte spills) and allocation runs
 * again on the rewritten code.
 */
import { defsOf, FIRST_VREG, FP, isReg, termUses, usesOf, type Base, type Inst, type IrFunction, type Slot, type Value } from './ir.js';
import { liveness } from './liveness.js';

/** Number of allocatable registers: r0-r9. */
const K = 10;
const MAX_ROUNDS = 8;

class Graph {
  readonly adj = new Map<number, Set<number>>();
  node(r: number): Set<number> {
    let s = this.adj.get(r);
    if (!s) this.adj.set(r, (s = new Set()));
    return s;
  }
  edge(a: number, b: number): void {
    if (a === b || a === FP || b === FP) return;
    if (a < FIRST_VREG && b < FIRST_VREG) return;
    this.node(a).add(b);
    this.node(b).add(a);
  }
  interferes(a: number, b: number): boolean {
    return this.adj.get(a)?.has(b) ?? false;
  }
}

interface Move {
  dst: number;
  src: number;
  weight: number;
}

const precolored = (r: number): boolean => r < FIRST_VREG;

/** Allocates registers for `fn` in place: afterwards every register is r0-r10. */
export function allocateRegisters(fn: IrFunction): void {
  const noSpill = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const spilled = colour(fn, noSpill);
    if (!spilled) return;
    rewriteSpills(fn, spilled, noSpill);
  }
  throw new Error(`register allocation of ${fn.name} did not converge`);
}

/** One colouring attempt: rewrites registers and returns undefined, or returns the registers to spill. */
function colour(fn: IrFunction, noSpill: ReadonlySet<number>): Set<number> | undefined {
  const live = liveness(fn);
  const g = new Graph();
  const moves: Move[] = [];
  const cost = new Map<number, number>();
  const bump = (r: number, w: number): void => {
    if (!precolored(r)) cost.set(r, (cost.get(r) ?? 0) + w);
  };
  for (const b of fn.blocks) {
    const w = 10 ** Math.min(b.depth, 6);
    const now = new Set(live.liveOut.get(b));
    if (b.term) for (const r of termUses(b.term)) {
      now.add(r);
      bump(r, w);
    }
    for (let k = b.insts.length - 1; k >= 0; k--) {
      const i = b.insts[k]!;
      const uses = usesOf(i).filter((r) => r !== FP);
      const defs = defsOf(i);
      for (const r of [...uses, ...defs]) {
        g.node(r);
        bump(r, w);
      }
      if (i.op === 'mov' && isReg(i.src) && i.src.reg !== FP) {
        now.delete(i.src.reg);
        moves.push({ dst: i.dst, src: i.src.reg, weight: w });
      }
      for (const d of defs) for (const l of now) g.edge(d, l);
      for (const d of defs) now.delete(d);
      for (const u of uses) now.add(u);
    }
  }

  // Coalescing: merge move-related registers that do not interfere, when it cannot make the
  // graph harder to colour (Briggs for two virtual registers, George against a machine one).
  const alias = new Map<number, number>();
  const find = (r: number): number => {
    let x = r;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  const degree = (r: number): number => (precolored(r) ? Infinity : g.adj.get(r)?.size ?? 0);
  moves.sort((a, b) => b.weight - a.weight);
  for (const m of moves) {
    let u = find(m.dst);
    let v = find(m.src);
    if (u === v) continue;
    if (precolored(v)) [u, v] = [v, u];
    if (precolored(v) || g.interferes(u, v)) continue;
    const adjV = g.adj.get(v) ?? new Set<number>();
    let ok: boolean;
    if (precolored(u)) {
      ok = [...adjV].every((t) => degree(t) < K || g.interferes(t, u));
    } else {
      const both = new Set([...(g.adj.get(u) ?? []), ...adjV]);
      let significant = 0;
      for (const t of both) if (degree(t) >= K) significant++;
      ok = significant < K;
    }
    if (!ok) continue;
    alias.set(v, u);
    for (const t of adjV) {
      g.adj.get(t)?.delete(v);
      g.edge(u, t);
    }
    g.adj.delete(v);
    if (!precolored(u)) cost.set(u, (cost.get(u) ?? 0) + (cost.get(v) ?? 0));
  }

  // Simplify and select.
  const nodes = [...g.adj.keys()].filter((r) => !precolored(r));
  const removed = new Set<number>();
  const stack: number[] = [];
  const curDegree = (r: number): number => {
    let d = 0;
    for (const t of g.adj.get(r)!) if (precolored(t) || !removed.has(t)) d++;
    return d;
  };
  while (stack.length < nodes.length) {
    let pick: number | undefined;
    for (const r of nodes) if (!removed.has(r) && curDegree(r) < K) {
      pick = r;
      break;
    }
    if (pick === undefined) {
      let best = Infinity;
      for (const r of nodes) {
        if (removed.has(r)) continue;
        const c = noSpill.has(r) ? Infinity : (cost.get(r) ?? 0) / Math.max(1, curDegree(r));
        if (pick === undefined || c < best) {
          best = c;
          pick = r;
        }
      }
    }
    removed.add(pick!);
    stack.push(pick!);
  }
  const colourOf = new Map<number, number>();
  for (let r = 0; r < K; r++) colourOf.set(r, r);
  const partners = new Map<number, number[]>();
  for (const m of moves) {
    const a = find(m.dst);
    const b = find(m.src);
    if (a === b) continue;
    (partners.get(a) ?? partners.set(a, []).get(a)!).push(b);
    (partners.get(b) ?? partners.set(b, []).get(b)!).push(a);
  }
  const spills = new Set<number>();
  while (stack.length > 0) {
    const r = stack.pop()!;
    const forbidden = new Set<number>();
    for (const t of g.adj.get(r)!) {
      const c = colourOf.get(t);
      if (c !== undefined) forbidden.add(c);
    }
    let chosen: number | undefined;
    for (const p of partners.get(r) ?? []) {
      const c = colourOf.get(p);
      if (c !== undefined && !forbidden.has(c)) {
        chosen = c;
        break;
      }
    }
    if (chosen === undefined) for (let c = 0; c < K; c++) if (!forbidden.has(c)) {
      chosen = c;
      break;
    }
    if (chosen === undefined) spills.add(r);
    else colourOf.set(r, chosen);
  }
  if (spills.size > 0) {
    // Spill every register that was merged into a spilled one.
    const out = new Set<number>();
    for (let r = FIRST_VREG; r < fn.regCount; r++) if (spills.has(find(r))) out.add(r);
    return out;
  }
  const map = (r: number): number => (r === FP ? FP : precolored(r) ? r : colourOf.get(find(r)) ?? 0);
  rename(fn, map);
  return undefined;
}

/** Renames every register of `fn` through `map`. */
export function rename(fn: IrFunction, map: (r: number) => number): void {
  const v = (x: Value): Value => (isReg(x) ? { reg: map(x.reg) } : x);
  const base = (x: Base): Base => ('reg' in x ? { reg: map(x.reg) } : x);
  for (const b of fn.blocks) {
    b.insts = b.insts.map((i) => renameInst(i, map, v, base));
    const t = b.term;
    if (t?.op === 'br') {
      t.a = map(t.a);
      t.b = v(t.b);
    }
  }
}

function renameInst(i: Inst, map: (r: number) => number, v: (x: Value) => Value, base: (x: Base) => Base): Inst {
  switch (i.op) {
    case 'mov':
      return { ...i, dst: map(i.dst), src: v(i.src) };
    case 'zext':
      return { ...i, dst: map(i.dst), src: map(i.src) };
    case 'alu':
      return { ...i, dst: map(i.dst), b: v(i.b) };
    case 'neg':
    case 'endian':
    case 'frame':
    case 'ldmap':
    case 'ldmapval':
    case 'coreadd':
      return { ...i, dst: map(i.dst) };
    case 'ld':
      return { ...i, dst: map(i.dst), base: base(i.base) };
    case 'st':
      return { ...i, base: base(i.base), src: v(i.src) };
    case 'atomic':
      return { ...i, base: base(i.base), src: map(i.src) };
    default:
      return i;
  }
}

/** Puts each spilled register in its own 8-byte slot: loads before uses, stores after defs. */
function rewriteSpills(fn: IrFunction, spilled: Set<number>, noSpill: Set<number>): void {
  const slots = new Map<number, Slot>();
  const slotOf = (r: number): Slot => {
    let s = slots.get(r);
    if (!s) slots.set(r, (s = fn.newSlot(8, 8, `spill %${r}`)));
    return s;
  };
  for (const b of fn.blocks) {
    const out: Inst[] = [];
    for (const i of b.insts) {
      const uses = usesOf(i).filter((r) => spilled.has(r));
      const defs = defsOf(i).filter((r) => spilled.has(r));
      if (uses.length === 0 && defs.length === 0) {
        out.push(i);
        continue;
      }
      const temp = new Map<number, number>();
      const t = (r: number): number => {
        let x = temp.get(r);
        if (x === undefined) {
          x = fn.newReg();
          noSpill.add(x);
          temp.set(r, x);
        }
        return x;
      };
      for (const r of new Set(uses)) out.push({ op: 'ld', dst: t(r), base: { slot: slotOf(r) }, off: 0, size: 8, at: i.at });
      const map = (r: number): number => (spilled.has(r) ? t(r) : r);
      out.push(renameInst(i, map, (x) => (isReg(x) ? { reg: map(x.reg) } : x), (x) => ('reg' in x ? { reg: map(x.reg) } : x)));
      for (const r of new Set(defs)) out.push({ op: 'st', base: { slot: slotOf(r) }, off: 0, src: { reg: t(r) }, size: 8, at: i.at });
    }
    b.insts = out;
    const term = b.term;
    if (term?.op === 'br') {
      const before: Inst[] = [];
      const fix = (r: number): number => {
        if (!spilled.has(r)) return r;
        const x = fn.newReg();
        noSpill.add(x);
        before.push({ op: 'ld', dst: x, base: { slot: slotOf(r) }, off: 0, size: 8, at: term.at });
        return x;
      };
      term.a = fix(term.a);
      if (isReg(term.b)) term.b = { reg: fix(term.b.reg) };
      b.insts.push(...before);
    }
  }
}
