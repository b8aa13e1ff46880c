/**
 * Operation names shared by the ways of writing instructions by name (the builder DSL and the
 * ubpf-dialect assembler): `add`, `sdiv`, `jsgt`, `cmpxchg`, ... and their opcode fields.
 */
import { AluOp, AtomicOp, JmpOp } from './opcodes.js';

/** ALU operations by name; sdiv/smod are DIV/MOD with offset 1 (ISA v4). */
export const ALU_OPS = {
  add: { op: AluOp.ADD, off: 0 },
  sub: { op: AluOp.SUB, off: 0 },
  mul: { op: AluOp.MUL, off: 0 },
  div: { op: AluOp.DIV, off: 0 },
  sdiv: { op: AluOp.DIV, off: 1 },
  or: { op: AluOp.OR, off: 0 },
  and: { op: AluOp.AND, off: 0 },
  lsh: { op: AluOp.LSH, off: 0 },
  rsh: { op: AluOp.RSH, off: 0 },
  mod: { op: AluOp.MOD, off: 0 },
  smod: { op: AluOp.MOD, off: 1 },
  xor: { op: AluOp.XOR, off: 0 },
  mov: { op: AluOp.MOV, off: 0 },
  arsh: { op: AluOp.ARSH, off: 0 },
} as const satisfies Record<string, { op: number; off: number }>;
/** An ALU operation name. */
export type AluName = keyof typeof ALU_OPS;

/** Conditional jumps by name. */
export const JUMP_OPS = {
  jeq: JmpOp.JEQ,
  jgt: JmpOp.JGT,
  jge: JmpOp.JGE,
  jset: JmpOp.JSET,
  jne: JmpOp.JNE,
  jsgt: JmpOp.JSGT,
  jsge: JmpOp.JSGE,
  jlt: JmpOp.JLT,
  jle: JmpOp.JLE,
  jslt: JmpOp.JSLT,
  jsle: JmpOp.JSLE,
} as const satisfies Record<string, number>;
/** A conditional jump name. */
export type CondName = keyof typeof JUMP_OPS;

/** Atomic read-modify-write operations by name (without the FETCH flag). */
export const ATOMIC_OPS = {
  add: AtomicOp.ADD,
  or: AtomicOp.OR,
  and: AtomicOp.AND,
  xor: AtomicOp.XOR,
  xchg: AtomicOp.XCHG,
  cmpxchg: AtomicOp.CMPXCHG,
} as const satisfies Record<string, number>;
