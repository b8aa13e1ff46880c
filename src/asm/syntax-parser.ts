/**
 * Parses one statement of LLVM BPF assembly (one instruction, labels already removed) into an
 * Instruction. Jumps and calls to labels come back with a fixup that the assembler resolves
 * once every label is known.
 */
import { checkInstruction, splitImm64, type Instruction } from './instruction.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, Size, Source } from './opcodes.js';
import type { Cursor, Register, Target } from './syntax-cursor.js';
import type { Token } from './syntax-lexer.js';
import { ALU_OPERATORS, ATOMIC_RMW_OPS, JUMP_CONDITIONS, SIGNED_ALU_OPERATORS, invert } from './syntax-tables.js';

/**
 * A parsed statement: the instruction and, for a jump or call to a label, what to patch.
 *
 * @example
 * parseStatement(new Cursor(tokenize('goto out', 1), 1));
 * // { insn: { code: 0x05, dst: 0, src: 0, off: 0, imm: 0 }, fixup: { label: 'out', field: 'off', ... } }
 */
export interface Draft {
  insn: Instruction;
  /** A label whose distance (in slots, from the next slot) goes into `insn[field]`. */
  fixup?: { label: string; token: Token; field: 'off' | 'imm' };
}

const CONDITIONS = invert(JUMP_CONDITIONS, (s) => s);
const COMPOUND = new Map<string, { op: number; off: number }>();
for (const [op, text] of ALU_OPERATORS) if (text !== '=') COMPOUND.set(text, { op, off: 0 });
for (const [op, text] of SIGNED_ALU_OPERATORS) COMPOUND.set(text, { op, off: 1 });
const LOCK_OPS = invert(ATOMIC_RMW_OPS, (v) => `${v.operator}=`);
const FETCH_OPS = invert(ATOMIC_RMW_OPS, (v) => `atomic_fetch_${v.name}`);
const MOVSX_BITS = new Map([
  ['s8', 8],
  ['s16', 16],
  ['s32', 32],
]);
const SIZES = new Map<number, number>([
  [8, Size.B],
  [16, Size.H],
  [32, Size.W],
  [64, Size.DW],
]);

/**
 * Parses the statement at the cursor, which must cover the rest of the line.
 *
 * @example
 * parseStatement(new Cursor(tokenize('r1 += 5', 1), 1)).insn; // { code: 0x07, dst: 1, src: 0, off: 0, imm: 5 }
 */
export function parseStatement(c: Cursor): Draft {
  const first = c.peek();
  const draft = statement(c);
  c.end();
  const problem = checkInstruction(draft.insn);
  if (problem !== undefined) c.error(first, problem);
  return draft;
}

function statement(c: Cursor): Draft {
  const first = c.peek();
  if (first.kind === 'name' && !c.atRegister()) {
    const keyword = first.text.toLowerCase();
    c.next();
    switch (keyword) {
      case 'exit':
        return draft(Class.JMP | JmpOp.EXIT);
      case 'goto':
        return jump(c, draft(Class.JMP | JmpOp.JA), 'off');
      case 'gotol':
        return jump(c, draft(Class.JMP32 | JmpOp.JA), 'imm');
      case 'may_goto':
        return jump(c, draft(Class.JMP | JmpOp.JCOND), 'off');
      case 'call':
        return call(c);
      case 'callx':
        return draft(Class.JMP | JmpOp.CALL | Source.X, { dst: c.register('r').n });
      case 'if':
        return conditional(c);
      case 'lock':
        return lock(c);
      case 'store_release':
        return storeRelease(c);
      case 'ld_pseudo':
        return ldPseudo(c);
      default:
        if (keyword.startsWith('.')) c.error(first, `assembler directives such as '${first.text}' are not supported`);
        c.error(first, `unknown instruction '${first.text}'`);
    }
  }
  if (c.atRegister()) return assignment(c);
  if (c.at('*')) return store(c);
  if (c.at('<') && c.at('unknown', 1) && c.at('>', 2)) {
    c.error(first, "'<unknown>' marks bytes llvm-objdump could not decode; it cannot be assembled");
  }
  c.fail(first, 'expected an instruction');
}

function draft(code: number, fields: Partial<Instruction> = {}): Draft {
  return { insn: { code, dst: 0, src: 0, off: 0, imm: 0, ...fields } };
}

/** Reads the target of goto/gotol/may_goto into `off` (16-bit) or `imm` (32-bit). */
function jump(c: Cursor, d: Draft, field: 'off' | 'imm'): Draft {
  return withTarget(c, d, c.target(), field);
}

function withTarget(c: Cursor, d: Draft, target: Target, field: 'off' | 'imm'): Draft {
  if ('label' in target) return { ...d, fixup: { label: target.label, token: target.token, field } };
  d.insn[field] =
    field === 'off'
      ? c.fit16(target.distance, target.token, 'jump distance')
      : c.fitSigned32(target.distance, target.token, 'jump distance');
  return d;
}

/** `call 14` (helper), `call pc+4` / `call label` (BPF-to-BPF), `call kfunc 1234`. */
function call(c: Cursor): Draft {
  const code = Class.JMP | JmpOp.CALL;
  if (c.at('pc') && (c.at('+', 1) || c.at('-', 1))) {
    c.next();
    return withTarget(c, draft(code, { src: CallSrc.LOCAL }), c.target(), 'imm');
  }
  if (c.at('kfunc') && c.atNumber(1)) {
    c.next();
    return draft(code, { src: CallSrc.KFUNC, imm: c.imm32('kfunc BTF id') });
  }
  if (c.atNumber()) return draft(code, { imm: c.imm32('helper id') });
  const target = c.target();
  return withTarget(c, draft(code, { src: CallSrc.LOCAL }), target, 'imm');
}

/** `if r1 s> r2 goto +3`, `if w1 & 0x10 goto label`. */
function conditional(c: Cursor): Draft {
  const left = c.register();
  const opToken = c.peek();
  const op = opToken.kind === 'punct' ? CONDITIONS.get(opToken.text) : undefined;
  if (op === undefined) c.fail(opToken, 'expected a comparison: ==, !=, >, >=, <, <=, s>, s>=, s<, s<= or &');
  c.next();
  const cls = left.w ? Class.JMP32 : Class.JMP;
  let d: Draft;
  if (c.atRegister()) d = draft(cls | op | Source.X, { dst: left.n, src: c.sameWidth(left).n });
  else if (c.atNumber()) d = draft(cls | op | Source.K, { dst: left.n, imm: c.imm32() });
  else c.fail(c.peek(), 'expected a register or a number to compare with');
  c.punct('goto');
  return withTarget(c, d, c.target(), 'off');
}

/** `lock *(u64 *)(r1 + 0) += r2`. */
function lock(c: Cursor): Draft {
  c.punct('*');
  const m = c.typedMemory();
  if (m.signed || m.bits < 32) c.error(m.typeToken, 'atomic operations are u32 or u64 wide');
  const opToken = c.peek();
  const op = opToken.kind === 'punct' ? LOCK_OPS.get(opToken.text) : undefined;
  if (op === undefined) c.fail(opToken, "expected '+=', '|=', '&=' or '^='");
  c.next();
  const val = c.register(m.bits === 64 ? 'r' : 'any');
  return draft(Class.STX | Mode.ATOMIC | SIZES.get(m.bits)!, { dst: m.base, src: val.n, off: m.off, imm: op });
}

/** `*(u32 *)(r10 - 4) = w1` or `= 7`. */
function store(c: Cursor): Draft {
  c.punct('*');
  const m = c.typedMemory();
  if (m.signed) c.error(m.typeToken, 'stores are written with u8, u16, u32 or u64');
  c.punct('=');
  const size = SIZES.get(m.bits)!;
  if (c.atRegister()) {
    const val = c.register(m.bits === 64 ? 'r' : 'any');
    return draft(Class.STX | Mode.MEM | size, { dst: m.base, src: val.n, off: m.off });
  }
  if (c.atNumber()) return draft(Class.ST | Mode.MEM | size, { dst: m.base, off: m.off, imm: c.imm32() });
  c.fail(c.peek(), 'expected a register or a number to store');
}

/** `store_release((u16 *)(r1 + 0), w2)`. */
function storeRelease(c: Cursor): Draft {
  c.punct('(');
  const m = c.typedMemory();
  if (m.signed) c.error(m.typeToken, 'store_release is written with u8, u16, u32 or u64');
  c.punct(',');
  const val = c.register(m.bits === 64 ? 'r' : 'any');
  c.punct(')');
  const code = Class.STX | Mode.ATOMIC | SIZES.get(m.bits)!;
  return draft(code, { dst: m.base, src: val.n, off: m.off, imm: AtomicOp.STORE_REL });
}

/** `ld_pseudo r1, 2, 7` and our extension with the upper half: `ld_pseudo r1, 2, 7, 16`. */
function ldPseudo(c: Cursor): Draft {
  const dst = c.register('r').n;
  c.punct(',');
  const { value, token } = c.signed();
  if (value < 0n || value > 6n) {
    c.error(token, `pseudo source ${value} is not 0-6 (BPF_PSEUDO_MAP_FD ... BPF_PSEUDO_MAP_IDX_VALUE)`);
  }
  c.punct(',');
  const imm = c.imm32();
  const imm2 = c.accept(',') ? c.imm32('upper immediate') : 0;
  return draft(LD_IMM64, { dst, src: Number(value), imm, imm2 });
}

/** Statements that start with a register: `r1 = ...` and `r1 += ...`. */
function assignment(c: Cursor): Draft {
  const dst = c.register();
  if (c.accept('=')) return assignValue(c, dst);
  const opToken = c.peek();
  const op = opToken.kind === 'punct' ? COMPOUND.get(opToken.text) : undefined;
  if (op === undefined) c.fail(opToken, "expected '=' or a compound assignment such as '+='");
  c.next();
  const cls = dst.w ? Class.ALU : Class.ALU64;
  if (c.atRegister()) return draft(cls | op.op | Source.X, { dst: dst.n, src: c.sameWidth(dst).n, off: op.off });
  if (c.atNumber()) return draft(cls | op.op | Source.K, { dst: dst.n, off: op.off, imm: c.imm32() });
  c.fail(c.peek(), 'expected a register or a number');
}

function assignValue(c: Cursor, dst: Register): Draft {
  const cls = dst.w ? Class.ALU : Class.ALU64;
  if (c.at('-') && c.atRegister(1)) {
    c.next();
    c.same(dst, 'neg negates a register in place');
    return draft(cls | AluOp.NEG, { dst: dst.n });
  }
  if (c.atNumber()) return immediate(c, dst);
  if (c.atRegister()) return draft(cls | AluOp.MOV | Source.X, { dst: dst.n, src: c.sameWidth(dst).n });
  if (c.accept('(')) {
    const type = c.peek();
    const bits = type.kind === 'name' ? MOVSX_BITS.get(type.text.toLowerCase()) : undefined;
    if (bits === undefined || (dst.w && bits === 32)) c.fail(type, dst.w ? 'expected s8 or s16' : 'expected s8, s16 or s32');
    c.next();
    c.punct(')');
    return draft(cls | AluOp.MOV | Source.X, { dst: dst.n, src: c.sameWidth(dst).n, off: bits });
  }
  if (c.at('*')) return load(c, dst);
  const name = c.peek();
  if (name.kind === 'name') {
    const fn = name.text.toLowerCase();
    const swap = /^(le|be|bswap)(16|32|64)$/.exec(fn);
    if (swap) return byteSwap(c, dst, swap[1]!, Number(swap[2]));
    if (FETCH_OPS.has(fn)) return fetch(c, dst, FETCH_OPS.get(fn)!);
    if (fn === 'xchg_64' || fn === 'xchg32_32') return exchange(c, dst, fn === 'xchg_64' ? 64 : 32);
    if (fn === 'cmpxchg_64' || fn === 'cmpxchg32_32') return compareExchange(c, dst, fn === 'cmpxchg_64' ? 64 : 32);
    if (fn === 'load_acquire') return loadAcquire(c, dst);
    if (fn === 'addr_space_cast') return addrSpaceCast(c, dst);
  }
  c.fail(name, 'expected a value: a number, a register, -reg, (s8)reg, a load or an atomic operation');
}

/** `r1 = -5` (mov) or `r1 = 0x1234 ll` (ld_imm64). */
function immediate(c: Cursor, dst: Register): Draft {
  const { value, token } = c.signed();
  if (c.accept('ll')) {
    if (dst.w) c.error(dst.token, 'ld_imm64 loads a 64-bit register: write r, not w');
    if (value < -(1n << 63n) || value >= 1n << 64n) c.error(token, `immediate ${value} does not fit in 64 bits`);
    return draft(LD_IMM64, { dst: dst.n, ...splitImm64(value) });
  }
  const cls = dst.w ? Class.ALU : Class.ALU64;
  return draft(cls | AluOp.MOV | Source.K, { dst: dst.n, imm: c.fit32(value, token) });
}

/** `r1 = *(u32 *)(r2 + 8)`, `r1 = *(s8 *)(r2 + 0)`, `r0 = *(u16 *)skb[4]`. */
function load(c: Cursor, dst: Register): Draft {
  c.punct('*');
  const type = c.pointerType();
  const size = SIZES.get(type.bits)!;
  if (c.accept('skb')) {
    if (type.signed || type.bits > 32) c.error(type.typeToken, 'legacy packet loads are u8, u16 or u32');
    if (dst.w || dst.n !== 0) c.error(dst.token, 'legacy packet loads always write r0');
    c.punct('[');
    let d: Draft;
    if (c.atRegister()) {
      const index = c.register('r').n;
      let imm = 0;
      const sign = c.peek();
      if (c.accept('+') || c.accept('-')) {
        const { value, token } = c.unsigned('a packet offset');
        imm = c.fitSigned32(sign.text === '-' ? -value : value, token, 'packet offset');
      }
      d = draft(Class.LD | Mode.IND | size, { src: index, imm });
    } else {
      d = draft(Class.LD | Mode.ABS | size, { imm: c.imm32('packet offset') });
    }
    c.punct(']');
    return d;
  }
  c.punct('(');
  const { base, off } = c.address();
  c.punct(')');
  if (type.signed && dst.w) c.error(dst.token, 'sign-extending loads write a 64-bit register: write r, not w');
  if (type.bits === 64 && dst.w) c.error(dst.token, 'a u64 load writes a 64-bit register: write r, not w');
  return draft(Class.LDX | (type.signed ? Mode.MEMSX : Mode.MEM) | size, { dst: dst.n, src: base, off });
}

/** `r1 = be16 r1` (ALU, to big/little endian) and `r1 = bswap32 r1` (ALU64, unconditional). */
function byteSwap(c: Cursor, dst: Register, kind: string, bits: number): Draft {
  c.next();
  if (dst.w) c.error(dst.token, `byte swaps are written with r registers: r${dst.n} = ${kind}${bits} r${dst.n}`);
  c.same(dst, 'byte swaps work in place');
  const code = kind === 'bswap' ? Class.ALU64 | AluOp.END : Class.ALU | AluOp.END | (kind === 'be' ? Source.X : Source.K);
  return draft(code, { dst: dst.n, imm: bits });
}

/** `w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)`. */
function fetch(c: Cursor, dst: Register, op: number): Draft {
  c.next();
  c.punct('(');
  const m = c.typedMemory();
  if (m.signed || m.bits < 32) c.error(m.typeToken, 'atomic operations are u32 or u64 wide');
  if (m.bits === 64 && dst.w) c.error(dst.token, 'a 64-bit atomic needs r registers');
  c.punct(',');
  c.same(dst, 'the old value replaces the operand register');
  c.punct(')');
  const code = Class.STX | Mode.ATOMIC | SIZES.get(m.bits)!;
  return draft(code, { dst: m.base, src: dst.n, off: m.off, imm: op | AtomicOp.FETCH });
}

/** `r2 = xchg_64(r1 + 0, r2)`, `w2 = xchg32_32(r1 + 0, w2)`. */
function exchange(c: Cursor, dst: Register, bits: 32 | 64): Draft {
  c.next();
  if (bits === 64 && dst.w) c.error(dst.token, 'xchg_64 needs r registers');
  c.punct('(');
  const { base, off } = c.address();
  c.punct(',');
  c.same(dst, 'the old value replaces the operand register');
  c.punct(')');
  const code = Class.STX | Mode.ATOMIC | SIZES.get(bits)!;
  return draft(code, { dst: base, src: dst.n, off, imm: AtomicOp.XCHG });
}

/** `r0 = cmpxchg_64(r1 + 0, r0, r2)`, `w0 = cmpxchg32_32(r1 + 0, w0, w2)`. */
function compareExchange(c: Cursor, dst: Register, bits: 32 | 64): Draft {
  c.next();
  if (dst.n !== 0) c.error(dst.token, 'cmpxchg compares with and writes r0 (w0)');
  if (bits === 64 && dst.w) c.error(dst.token, 'cmpxchg_64 needs r registers');
  c.punct('(');
  const { base, off } = c.address();
  c.punct(',');
  c.same(dst, 'cmpxchg compares with r0');
  c.punct(',');
  const val = c.sameWidth(dst);
  c.punct(')');
  const code = Class.STX | Mode.ATOMIC | SIZES.get(bits)!;
  return draft(code, { dst: base, src: val.n, off, imm: AtomicOp.CMPXCHG });
}

/** `w1 = load_acquire((u8 *)(r2 + 0))`: dst is the value, src the base. */
function loadAcquire(c: Cursor, dst: Register): Draft {
  c.next();
  c.punct('(');
  const m = c.typedMemory();
  if (m.signed) c.error(m.typeToken, 'load_acquire is written with u8, u16, u32 or u64');
  if (m.bits === 64 && dst.w) c.error(dst.token, 'a u64 load_acquire writes a 64-bit register: write r, not w');
  c.punct(')');
  const code = Class.STX | Mode.ATOMIC | SIZES.get(m.bits)!;
  return draft(code, { dst: dst.n, src: m.base, off: m.off, imm: AtomicOp.LOAD_ACQ });
}

/** `r1 = addr_space_cast(r2, 1, 0)`: imm holds the destination and source address spaces. */
function addrSpaceCast(c: Cursor, dst: Register): Draft {
  c.next();
  if (dst.w) c.error(dst.token, 'addr_space_cast needs r registers');
  c.punct('(');
  const src = c.register('r').n;
  const space = (): number => {
    c.punct(',');
    const { value, token } = c.signed();
    if (value < 0n || value > 0xffffn) c.error(token, `address space ${value} is not 0-65535`);
    return Number(value);
  };
  const to = space();
  const from = space();
  c.punct(')');
  return draft(Class.ALU64 | AluOp.MOV | Source.X, { dst: dst.n, src, off: 1, imm: ((to << 16) | from) | 0 });
}
