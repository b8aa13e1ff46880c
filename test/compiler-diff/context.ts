/**
 * Program contexts of the network program types, for running them in the VM the way
 * BPF_PROG_TEST_RUN runs them in the kernel.
 *
 * The kernel's verifier rewrites loads of `struct xdp_md` and `struct __sk_buff` fields
 * (convert_ctx_access in net/core/filter.c): `data`, `data_end` and `data_meta` are declared
 * u32 but load 64-bit packet pointers. The VM runs instructions as written and has no such
 * rewrite (its pointers are 64-bit region:offset values), so this module does it before the
 * VM sees the program: a small data-flow pass finds which registers (and stack slots) hold the
 * context pointer at each instruction, and every 4-byte load of a pointer field through one of
 * them becomes an 8-byte load of a slot appended after the real structure ("shadow context").
 * The other fields stay where they are, filled with what the kernel's test run would put there.
 */
import type { Instruction } from '../../src/asm/instruction.js';
import { CallSrc, Class, JmpOp, LD_IMM64, Mode, Size, AluOp, Source } from '../../src/asm/opcodes.js';

/** Where a pointer field of a context structure lives in its shadow. */
export interface ContextLayout {
  /** sizeof the real structure. */
  size: number;
  /** Real field offset -> shadow offset of its 64-bit pointer slot. */
  pointers: ReadonlyMap<number, number>;
}

/** struct xdp_md: data, data_end, data_meta as 64-bit slots after its 24 bytes. */
export const XDP_MD: ContextLayout = { size: 24, pointers: new Map([[0, 24], [4, 32], [8, 40]]) };

/** struct __sk_buff offsets (include/uapi/linux/bpf.h, 192 bytes on 6.x). */
export const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  data: 76,
  data_end: 80,
  data_meta: 140,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 176,
  hwtstamp: 184,
  size: 192,
} as const;

/** struct __sk_buff: data, data_end, data_meta as 64-bit slots after its 192 bytes. */
export const SK_BUFF: ContextLayout = {
  size: SKB.size,
  pointers: new Map([
    [SKB.data, 192],
    [SKB.data_end, 200],
    [SKB.data_meta, 208],
  ]),
};

/** Bytes of a shadow context. */
export function shadowSize(layout: ContextLayout): number {
  return layout.size + 8 * layout.pointers.size;
}

interface State {
  regs: number; // bit i: register i may hold the context pointer
  stack: Set<number>; // frame offsets of 8-byte spills of it
}

const join = (a: State, b: State): State => ({ regs: a.regs | b.regs, stack: new Set([...a.stack, ...b.stack]) });
const same = (a: State, b: State): boolean => a.regs === b.regs && a.stack.size === b.stack.size && [...a.stack].every((o) => b.stack.has(o));
const has = (s: State, r: number): boolean => (s.regs & (1 << r)) !== 0;
const set = (s: State, r: number, on: boolean): State => ({ regs: on ? s.regs | (1 << r) : s.regs & ~(1 << r), stack: s.stack });

/**
 * Instruction indexes whose source register may hold the context pointer, for LDX
 * instructions: a forward may-analysis over the control flow graph from r1 = ctx at entry,
 * following register moves, 8-byte spills and fills through r10, and BPF-to-BPF calls (the
 * callee sees the caller's r1-r5).
 */
export function contextLoads(insns: readonly Instruction[]): Set<number> {
  const slotOf: number[] = [];
  const indexOfSlot = new Map<number, number>();
  let slot = 0;
  insns.forEach((insn, i) => {
    slotOf.push(slot);
    indexOfSlot.set(slot, i);
    slot += insn.code === LD_IMM64 ? 2 : 1;
  });
  const target = (i: number, off: number): number | undefined => indexOfSlot.get(slotOf[i]! + 1 + off);
  const states: (State | undefined)[] = new Array(insns.length);
  const work: number[] = [];
  const flow = (i: number | undefined, s: State): void => {
    if (i === undefined || i >= insns.length) return;
    const old = states[i];
    const next = old ? join(old, s) : s;
    if (old && same(old, next)) return;
    states[i] = next;
    work.push(i);
  };
  flow(0, { regs: 1 << 1, stack: new Set() });
  const loads = new Set<number>();
  while (work.length) {
    const i = work.pop()!;
    const insn = insns[i]!;
    let s = states[i]!;
    const cls = insn.code & 0x07;
    const op = insn.code & 0xf0;
    switch (cls) {
      case Class.ALU64:
      case Class.ALU:
        s = set(s, insn.dst, cls === Class.ALU64 && op === AluOp.MOV && (insn.code & Source.X) !== 0 && insn.off === 0 && has(s, insn.src));
        flow(i + 1, s);
        break;
      case Class.LDX:
        if (has(s, insn.src)) loads.add(i);
        s = set(s, insn.dst, insn.src === 10 && (insn.code & 0x18) === Size.DW && s.stack.has(insn.off));
        flow(i + 1, s);
        break;
      case Class.ST:
      case Class.STX:
        if (insn.dst === 10) {
          const stack = new Set(s.stack);
          for (let o = insn.off - 7; o <= insn.off + 7; o++) stack.delete(o);
          if (cls === Class.STX && (insn.code & 0xe0) === Mode.MEM && (insn.code & 0x18) === Size.DW && has(s, insn.src)) stack.add(insn.off);
          s = { regs: s.regs, stack };
        }
        if ((insn.code & 0xe0) === Mode.ATOMIC) s = set(set(s, 0, false), insn.src, false);
        flow(i + 1, s);
        break;
      case Class.LD:
        flow(i + 1, set(s, insn.dst, false));
        if (insn.code !== LD_IMM64) flow(i + 1, set(s, 0, false)); // ld_abs/ld_ind
        break;
      case Class.JMP:
      case Class.JMP32:
        if (op === JmpOp.EXIT) break;
        if (cls === Class.JMP && op === JmpOp.CALL) {
          if (insn.src === CallSrc.LOCAL) flow(target(i, insn.imm), { regs: s.regs & 0b111110, stack: new Set() });
          let after = s;
          for (let r = 0; r <= 5; r++) after = set(after, r, false);
          flow(i + 1, after);
          break;
        }
        if (op === JmpOp.JA) {
          flow(target(i, cls === Class.JMP32 ? insn.imm : insn.off), s);
          break;
        }
        flow(i + 1, s);
        flow(target(i, insn.off), s);
        break;
    }
  }
  return loads;
}

/**
 * The program with every 4-byte load of a pointer field of the context (per `layout`) turned
 * into an 8-byte load of the field's shadow slot. Same length and indexes, so the program's
 * references (by instruction index) stay valid.
 */
export function rewriteContextLoads(insns: readonly Instruction[], layout: ContextLayout): Instruction[] {
  const loads = contextLoads(insns);
  return insns.map((insn, i) => {
    if (!loads.has(i) || (insn.code & 0xe0) !== Mode.MEM || (insn.code & 0x18) !== Size.W) return { ...insn };
    const slot = layout.pointers.get(insn.off);
    return slot === undefined ? { ...insn } : { ...insn, code: Class.LDX | Mode.MEM | Size.DW, off: slot };
  });
}

/** Writes the 64-bit pointer slots of a shadow context. */
export function setPointers(shadow: Uint8Array, layout: ContextLayout, values: ReadonlyMap<number, bigint>): void {
  const view = new DataView(shadow.buffer, shadow.byteOffset, shadow.byteLength);
  for (const [field, value] of values) view.setBigUint64(layout.pointers.get(field)!, value, true);
}
