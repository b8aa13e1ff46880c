/**
 * The spellings of LLVM's BPF assembly syntax (llvm/lib/Target/BPF/BPFInstrInfo.td), shared by
 * the printer and the assembler so that both directions use one table.
 */
import { AluOp, AtomicOp, JmpOp, Size } from './opcodes.js';

/**
 * Compound-assignment operator of each ALU operation that takes a source operand. NEG, END and
 * the signed variants of DIV/MOD (offset 1) are spelled separately.
 *
 * @example
 * ALU_OPERATORS.get(AluOp.ADD); // '+='
 */
export const ALU_OPERATORS: ReadonlyMap<number, string> = new Map([
  [AluOp.ADD, '+='],
  [AluOp.SUB, '-='],
  [AluOp.MUL, '*='],
  [AluOp.DIV, '/='],
  [AluOp.OR, '|='],
  [AluOp.AND, '&='],
  [AluOp.LSH, '<<='],
  [AluOp.RSH, '>>='],
  [AluOp.MOD, '%='],
  [AluOp.XOR, '^='],
  [AluOp.MOV, '='],
  [AluOp.ARSH, 's>>='],
]);

/**
 * Operators of the signed division and modulo (ISA v4: DIV/MOD with offset 1).
 *
 * @example
 * SIGNED_ALU_OPERATORS.get(AluOp.DIV); // 's/='
 */
export const SIGNED_ALU_OPERATORS: ReadonlyMap<number, string> = new Map([
  [AluOp.DIV, 's/='],
  [AluOp.MOD, 's%='],
]);

/**
 * Comparison operator of each conditional jump, as in `if r1 s> r2 goto +1`.
 *
 * @example
 * JUMP_CONDITIONS.get(JmpOp.JSGT); // 's>'
 */
export const JUMP_CONDITIONS: ReadonlyMap<number, string> = new Map([
  [JmpOp.JEQ, '=='],
  [JmpOp.JGT, '>'],
  [JmpOp.JGE, '>='],
  [JmpOp.JSET, '&'],
  [JmpOp.JNE, '!='],
  [JmpOp.JSGT, 's>'],
  [JmpOp.JSGE, 's>='],
  [JmpOp.JLT, '<'],
  [JmpOp.JLE, '<='],
  [JmpOp.JSLT, 's<'],
  [JmpOp.JSLE, 's<='],
]);

/**
 * Width in bits of each load/store size field, as in `*(u32 *)` or `*(s16 *)`.
 *
 * @example
 * SIZE_BITS.get(Size.H); // 16
 */
export const SIZE_BITS: ReadonlyMap<number, 8 | 16 | 32 | 64> = new Map([
  [Size.B, 8],
  [Size.H, 16],
  [Size.W, 32],
  [Size.DW, 64],
] as const);

/**
 * Operation name and operator of the read-modify-write atomics (the imm field without FETCH),
 * as in `lock *(u64 *)(r1 + 0) |= r2` and `r2 = atomic_fetch_or(...)`.
 *
 * @example
 * ATOMIC_RMW_OPS.get(AtomicOp.XOR); // { name: 'xor', operator: '^' }
 */
export const ATOMIC_RMW_OPS: ReadonlyMap<number, { name: string; operator: string }> = new Map([
  [AtomicOp.ADD, { name: 'add', operator: '+' }],
  [AtomicOp.OR, { name: 'or', operator: '|' }],
  [AtomicOp.AND, { name: 'and', operator: '&' }],
  [AtomicOp.XOR, { name: 'xor', operator: '^' }],
]);

/**
 * Inverts one of these tables, giving the code of each spelling.
 *
 * @example
 * invert(ALU_OPERATORS, (s) => s).get('+='); // AluOp.ADD
 */
export function invert<V>(table: ReadonlyMap<number, V>, key: (value: V) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [code, value] of table) out.set(key(value), code);
  return out;
}
