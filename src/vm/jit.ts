/**
 * The fast engine: compiles a program to one JavaScript function. Each 64-bit register lives
 * in two int32 locals (`hN`, `lN`), so arithmetic stays in V8's small-integer fast paths
 * instead of BigInt; basic blocks are cases of a `switch` inside a loop, and blocks that follow
 * each other fall through. The instruction budget is charged once per block; when a block no
 * longer fits, the compiled code stores its state in the Machine and hands the run to the
 * interpreter, which finishes it instruction by instruction, so budget errors are exact.
 * Helpers, memory faults and frames go through the same Runtime as the interpreter's.
 */
import type { Instruction } from '../asm/instruction.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, Size, Source } from '../asm/opcodes.js';
import { MAX_FRAMES, type Machine, SAVED_REGS, STACK_SIZE } from './machine.js';
import type { Runtime } from './runtime.js';

/**
 * A compiled program: runs `m` from m.pc; returns -1 when the program exited (r0 in m.regs),
 * or the slot where the interpreter must take over (budget nearly spent).
 */
export type CompiledProgram = (m: Machine) => number;

/** Runtime functions the generated code calls; defined once, closed over the Runtime. */
const PRELUDE = `
"use strict";
const T = rt.space.table;
const SH = rt.stackHi;
let RH = 0;
function fault(pc, h, l, n, w) { rt.space.fault(pc, h, l, n, w); }
function big(h, l) { return (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0); }
function split(v) { RH = Number(v >> 32n) | 0; return Number(v & 0xffffffffn) | 0; }
function helper(id, pc, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5) {
  return split(rt.helper(id, pc, big(h1, l1), big(h2, l2), big(h3, l3), big(h4, l4), big(h5, l5)));
}
function kfunc(id, pc, h1, l1, h2, l2, h3, l3, h4, l4, h5, l5) {
  return split(rt.kfunc(id, pc, big(h1, l1), big(h2, l2), big(h3, l3), big(h4, l4), big(h5, l5)));
}
function mulhu(a, b) {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w = (t & 0xffff) + a0 * b1;
  return (a1 * b1 + (t >>> 16) + (w >>> 16)) | 0;
}
function bswap32(x) {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
// kind: 0 udiv, 1 sdiv, 2 umod, 3 smod (64-bit); division by zero gives 0, modulo keeps dst.
function div64(kind, ah, al, bh, bl) {
  // Both below 2^32: non-negative as signed values too, and exact in doubles.
  if (ah === 0 && bh === 0) {
    const a = al >>> 0, b = bl >>> 0;
    RH = 0;
    if (b === 0) return kind < 2 ? 0 : al;
    return (kind < 2 ? Math.floor(a / b) : a % b) | 0;
  }
  const a = big(ah, al), b = big(bh, bl);
  let r;
  if (b === 0n) r = kind < 2 ? 0n : a;
  else if (kind === 0) r = a / b;
  else if (kind === 2) r = a % b;
  else if (kind === 1) r = BigInt.asIntN(64, a) / BigInt.asIntN(64, b);
  else r = BigInt.asIntN(64, a) % BigInt.asIntN(64, b);
  return split(BigInt.asUintN(64, r));
}
function ld1(h, l, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) >= g.length) fault(pc, h, l, 1, false);
  return g.bytes[l >>> 0];
}
function ld2(h, l, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 2) fault(pc, h, l, 2, false);
  return g.view.getUint16(l >>> 0, true);
}
function ld4(h, l, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 4) fault(pc, h, l, 4, false);
  return g.view.getInt32(l >>> 0, true);
}
function ld8(h, l, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 8) fault(pc, h, l, 8, false);
  const o = l >>> 0;
  RH = g.view.getInt32(o + 4, true);
  return g.view.getInt32(o, true);
}
function st1(h, l, v, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) >= g.length || !g.writable) fault(pc, h, l, 1, true);
  g.bytes[l >>> 0] = v;
}
function st2(h, l, v, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 2 || !g.writable) fault(pc, h, l, 2, true);
  g.view.setUint16(l >>> 0, v, true);
}
function st4(h, l, v, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 4 || !g.writable) fault(pc, h, l, 4, true);
  g.view.setInt32(l >>> 0, v, true);
}
function st8(h, l, vh, vl, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 8 || !g.writable) fault(pc, h, l, 8, true);
  const o = l >>> 0;
  g.view.setInt32(o, vl, true);
  g.view.setInt32(o + 4, vh, true);
}
// Atomic read-modify-write; op is the imm without the fetch bit; returns the old value.
function at4(op, h, l, v, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 4 || !g.writable) fault(pc, h, l, 4, true);
  const o = l >>> 0, old = g.view.getInt32(o, true);
  g.view.setInt32(o, op === 0x00 ? (old + v) | 0 : op === 0x40 ? old | v : op === 0x50 ? old & v : op === 0xa0 ? old ^ v : v, true);
  return old;
}
function at8(op, h, l, vh, vl, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 8 || !g.writable) fault(pc, h, l, 8, true);
  const o = l >>> 0, oh = g.view.getInt32(o + 4, true), ol = g.view.getInt32(o, true);
  let nh = vh, nl = vl;
  if (op === 0x00) { nl = (ol + vl) | 0; nh = (oh + vh + ((nl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0; }
  else if (op === 0x40) { nh = oh | vh; nl = ol | vl; }
  else if (op === 0x50) { nh = oh & vh; nl = ol & vl; }
  else if (op === 0xa0) { nh = oh ^ vh; nl = ol ^ vl; }
  g.view.setInt32(o, nl, true);
  g.view.setInt32(o + 4, nh, true);
  RH = oh;
  return ol;
}
function cx4(h, l, expected, v, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 4 || !g.writable) fault(pc, h, l, 4, true);
  const o = l >>> 0, old = g.view.getInt32(o, true);
  if (old === expected) g.view.setInt32(o, v, true);
  return old;
}
function cx8(h, l, eh, el, vh, vl, pc) {
  const g = T[h];
  if (g === undefined || (l >>> 0) > g.length - 8 || !g.writable) fault(pc, h, l, 8, true);
  const o = l >>> 0, oh = g.view.getInt32(o + 4, true), ol = g.view.getInt32(o, true);
  if (oh === eh && ol === el) { g.view.setInt32(o, vl, true); g.view.setInt32(o + 4, vh, true); }
  RH = oh;
  return ol;
}
`;

const lit = (n: number): string => (n < 0 ? `(${n})` : String(n));
const H = (r: number): string => `h${r}`;
const L = (r: number): string => `l${r}`;

/** Source operand of an ALU or jump: a register or the immediate (sign-extended for 64 bits). */
function operand(i: Instruction): [string, string] {
  if (i.code & Source.X) return [H(i.src), L(i.src)];
  return [i.imm < 0 ? '(-1)' : '0', lit(i.imm | 0)];
}

function alu64(i: Instruction): string {
  const op = i.code & 0xf0;
  const dh = H(i.dst);
  const dl = L(i.dst);
  const [sh, sl] = operand(i);
  const x = (i.code & Source.X) !== 0;
  switch (op) {
    case AluOp.ADD:
      return `t0 = (${dl} + ${sl}) | 0; ${dh} = (${dh} + ${sh} + ((t0 >>> 0) < (${dl} >>> 0) ? 1 : 0)) | 0; ${dl} = t0;`;
    case AluOp.SUB:
      return `t0 = (${dl} - ${sl}) | 0; ${dh} = (${dh} - ${sh} - ((${dl} >>> 0) < (${sl} >>> 0) ? 1 : 0)) | 0; ${dl} = t0;`;
    case AluOp.MUL:
      return `t0 = (mulhu(${dl}, ${sl}) + Math.imul(${dl}, ${sh}) + Math.imul(${dh}, ${sl})) | 0; ${dl} = Math.imul(${dl}, ${sl}); ${dh} = t0;`;
    case AluOp.DIV:
    case AluOp.MOD: {
      const kind = (op === AluOp.MOD ? 2 : 0) + (i.off === 1 ? 1 : 0);
      return `t0 = div64(${kind}, ${dh}, ${dl}, ${sh}, ${sl}); ${dh} = RH; ${dl} = t0;`;
    }
    case AluOp.OR:
      return `${dh} = ${dh} | ${sh}; ${dl} = ${dl} | ${sl};`;
    case AluOp.AND:
      return `${dh} = ${dh} & ${sh}; ${dl} = ${dl} & ${sl};`;
    case AluOp.XOR:
      return `${dh} = ${dh} ^ ${sh}; ${dl} = ${dl} ^ ${sl};`;
    case AluOp.LSH:
    case AluOp.RSH:
    case AluOp.ARSH:
      return x ? shiftVar(op, dh, dl, sl) : shiftConst(op, dh, dl, i.imm & 63);
    case AluOp.NEG:
      return `t0 = (-${dl}) | 0; ${dh} = (~${dh} + (${dl} === 0 ? 1 : 0)) | 0; ${dl} = t0;`;
    case AluOp.MOV:
      if (i.off === 8) return `${dl} = (${sl} << 24) >> 24; ${dh} = ${dl} >> 31;`;
      if (i.off === 16) return `${dl} = (${sl} << 16) >> 16; ${dh} = ${dl} >> 31;`;
      if (i.off === 32) return `${dl} = ${sl}; ${dh} = ${dl} >> 31;`;
      return `${dh} = ${sh}; ${dl} = ${sl};`;
    default:
      // END in ALU64: unconditional byte swap.
      return bswap(i.imm, dh, dl);
  }
}

function bswap(bits: number, dh: string, dl: string): string {
  if (bits === 16) return `${dl} = ((${dl} & 0xff) << 8) | ((${dl} >>> 8) & 0xff); ${dh} = 0;`;
  if (bits === 32) return `${dl} = bswap32(${dl}); ${dh} = 0;`;
  return `t0 = bswap32(${dl}); ${dl} = bswap32(${dh}); ${dh} = t0;`;
}

function shiftConst(op: number, dh: string, dl: string, k: number): string {
  if (k === 0) return '';
  if (op === AluOp.LSH) {
    if (k < 32) return `${dh} = (${dh} << ${k}) | (${dl} >>> ${32 - k}); ${dl} = ${dl} << ${k};`;
    return `${dh} = ${dl} << ${k - 32}; ${dl} = 0;`;
  }
  if (op === AluOp.RSH) {
    if (k < 32) return `${dl} = (${dl} >>> ${k}) | (${dh} << ${32 - k}); ${dh} = (${dh} >>> ${k}) | 0;`;
    return `${dl} = (${dh} >>> ${k - 32}) | 0; ${dh} = 0;`;
  }
  if (k < 32) return `${dl} = (${dl} >>> ${k}) | (${dh} << ${32 - k}); ${dh} = ${dh} >> ${k};`;
  return `${dl} = ${dh} >> ${k - 32}; ${dh} = ${dh} >> 31;`;
}

function shiftVar(op: number, dh: string, dl: string, sl: string): string {
  const head = `t0 = ${sl} & 63; `;
  if (op === AluOp.LSH) {
    return `${head}if (t0 >= 32) { ${dh} = ${dl} << (t0 - 32); ${dl} = 0; } else if (t0 !== 0) { ${dh} = (${dh} << t0) | (${dl} >>> (32 - t0)); ${dl} = ${dl} << t0; }`;
  }
  if (op === AluOp.RSH) {
    return `${head}if (t0 >= 32) { ${dl} = (${dh} >>> (t0 - 32)) | 0; ${dh} = 0; } else if (t0 !== 0) { ${dl} = (${dl} >>> t0) | (${dh} << (32 - t0)); ${dh} = (${dh} >>> t0) | 0; }`;
  }
  return `${head}if (t0 >= 32) { ${dl} = ${dh} >> (t0 - 32); ${dh} = ${dh} >> 31; } else if (t0 !== 0) { ${dl} = (${dl} >>> t0) | (${dh} << (32 - t0)); ${dh} = ${dh} >> t0; }`;
}

function alu32(i: Instruction): string {
  const op = i.code & 0xf0;
  const dh = H(i.dst);
  const dl = L(i.dst);
  const sl = operand(i)[1];
  const signed = i.off === 1;
  let e: string;
  switch (op) {
    case AluOp.ADD:
      e = `(${dl} + ${sl}) | 0`;
      break;
    case AluOp.SUB:
      e = `(${dl} - ${sl}) | 0`;
      break;
    case AluOp.MUL:
      e = `Math.imul(${dl}, ${sl})`;
      break;
    case AluOp.DIV:
      e = signed ? `${sl} === 0 ? 0 : (${dl} / ${sl}) | 0` : `${sl} === 0 ? 0 : ((${dl} >>> 0) / (${sl} >>> 0)) | 0`;
      break;
    case AluOp.MOD:
      e = signed ? `${sl} === 0 ? ${dl} : (${dl} % ${sl}) | 0` : `${sl} === 0 ? ${dl} : ((${dl} >>> 0) % (${sl} >>> 0)) | 0`;
      break;
    case AluOp.OR:
      e = `${dl} | ${sl}`;
      break;
    case AluOp.AND:
      e = `${dl} & ${sl}`;
      break;
    case AluOp.XOR:
      e = `${dl} ^ ${sl}`;
      break;
    case AluOp.LSH:
      e = `${dl} << ${sl}`;
      break;
    case AluOp.RSH:
      e = `(${dl} >>> ${sl}) | 0`;
      break;
    case AluOp.ARSH:
      e = `${dl} >> ${sl}`;
      break;
    case AluOp.NEG:
      e = `(-${dl}) | 0`;
      break;
    case AluOp.MOV:
      e = i.off === 8 ? `(${sl} << 24) >> 24` : i.off === 16 ? `(${sl} << 16) >> 16` : sl;
      break;
    default: {
      // END: to little endian (truncate) or to big endian (swap).
      if (i.code & Source.X) return bswap(i.imm, dh, dl);
      if (i.imm === 16) return `${dl} = ${dl} & 0xffff; ${dh} = 0;`;
      return i.imm === 32 ? `${dh} = 0;` : '';
    }
  }
  return `${dl} = ${e}; ${dh} = 0;`;
}

function condition(i: Instruction): string {
  const op = i.code & 0xf0;
  const dh = H(i.dst);
  const dl = L(i.dst);
  const [sh, sl] = operand(i);
  const u = (a: string): string => `(${a} >>> 0)`;
  if ((i.code & 0x07) === Class.JMP32) {
    switch (op) {
      case JmpOp.JEQ:
        return `${dl} === ${sl}`;
      case JmpOp.JNE:
        return `${dl} !== ${sl}`;
      case JmpOp.JSET:
        return `(${dl} & ${sl}) !== 0`;
      case JmpOp.JGT:
        return `${u(dl)} > ${u(sl)}`;
      case JmpOp.JGE:
        return `${u(dl)} >= ${u(sl)}`;
      case JmpOp.JLT:
        return `${u(dl)} < ${u(sl)}`;
      case JmpOp.JLE:
        return `${u(dl)} <= ${u(sl)}`;
      case JmpOp.JSGT:
        return `${dl} > ${sl}`;
      case JmpOp.JSGE:
        return `${dl} >= ${sl}`;
      case JmpOp.JSLT:
        return `${dl} < ${sl}`;
      default:
        return `${dl} <= ${sl}`;
    }
  }
  const lower = (cmp: string): string => `(${dh} === ${sh} && ${u(dl)} ${cmp} ${u(sl)})`;
  switch (op) {
    case JmpOp.JEQ:
      return `${dl} === ${sl} && ${dh} === ${sh}`;
    case JmpOp.JNE:
      return `${dl} !== ${sl} || ${dh} !== ${sh}`;
    case JmpOp.JSET:
      return `(${dl} & ${sl}) !== 0 || (${dh} & ${sh}) !== 0`;
    case JmpOp.JGT:
      return `${u(dh)} > ${u(sh)} || ${lower('>')}`;
    case JmpOp.JGE:
      return `${u(dh)} > ${u(sh)} || ${lower('>=')}`;
    case JmpOp.JLT:
      return `${u(dh)} < ${u(sh)} || ${lower('<')}`;
    case JmpOp.JLE:
      return `${u(dh)} < ${u(sh)} || ${lower('<=')}`;
    case JmpOp.JSGT:
      return `${dh} > ${sh} || ${lower('>')}`;
    case JmpOp.JSGE:
      return `${dh} > ${sh} || ${lower('>=')}`;
    case JmpOp.JSLT:
      return `${dh} < ${sh} || ${lower('<')}`;
    default:
      return `${dh} < ${sh} || ${lower('<=')}`;
  }
}

const SIZES: Record<number, number> = { [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 8 };

/** Code computing base register + off into (t3, t2); returns [code, hi, lo]. */
function address(reg: number, off: number): [string, string, string] {
  if (off === 0) return ['', H(reg), L(reg)];
  const carry = off > 0 ? `((t2 >>> 0) < (${L(reg)} >>> 0) ? 1 : 0)` : `((t2 >>> 0) > (${L(reg)} >>> 0) ? -1 : 0)`;
  return [`t2 = (${L(reg)} + ${lit(off)}) | 0; t3 = (${H(reg)} + ${carry}) | 0; `, 't3', 't2'];
}

function load(dst: number, base: number, off: number, size: number, signed: boolean, pc: number): string {
  const [pre, ah, al] = address(base, off);
  const dh = H(dst);
  const dl = L(dst);
  const call = (n: number): string => `ld${n}(${ah}, ${al}, ${pc})`;
  if (size === 8) return `${pre}${dl} = ${call(8)}; ${dh} = RH;`;
  if (!signed) return `${pre}${dl} = ${call(size)}; ${dh} = 0;`;
  if (size === 4) return `${pre}${dl} = ${call(4)}; ${dh} = ${dl} >> 31;`;
  const sh = size === 1 ? 24 : 16;
  return `${pre}${dl} = (${call(size)} << ${sh}) >> ${sh}; ${dh} = ${dl} >> 31;`;
}

function store(base: number, off: number, size: number, vh: string, vl: string, pc: number): string {
  const [pre, ah, al] = address(base, off);
  if (size === 8) return `${pre}st8(${ah}, ${al}, ${vh}, ${vl}, ${pc});`;
  return `${pre}st${size}(${ah}, ${al}, ${vl}, ${pc});`;
}

function atomic(i: Instruction, pc: number): string {
  const size = SIZES[i.code & 0x18]!;
  if (i.imm === AtomicOp.LOAD_ACQ) return load(i.dst, i.src, i.off, size, false, pc);
  if (i.imm === AtomicOp.STORE_REL) return store(i.dst, i.off, size, H(i.src), L(i.src), pc);
  const [pre, ah, al] = address(i.dst, i.off);
  const sh = H(i.src);
  const sl = L(i.src);
  if (i.imm === AtomicOp.CMPXCHG) {
    if (size === 4) return `${pre}t0 = cx4(${ah}, ${al}, l0, ${sl}, ${pc}); l0 = t0; h0 = 0;`;
    return `${pre}t0 = cx8(${ah}, ${al}, h0, l0, ${sh}, ${sl}, ${pc}); l0 = t0; h0 = RH;`;
  }
  const op = i.imm === AtomicOp.XCHG ? 0xe0 : i.imm & ~AtomicOp.FETCH;
  const fetch = (i.imm & AtomicOp.FETCH) !== 0;
  if (size === 4) {
    const call = `at4(${op}, ${ah}, ${al}, ${sl}, ${pc})`;
    return fetch ? `${pre}${sl} = ${call}; ${sh} = 0;` : `${pre}${call};`;
  }
  const call = `at8(${op}, ${ah}, ${al}, ${sh}, ${sl}, ${pc})`;
  return fetch ? `${pre}${sl} = ${call}; ${sh} = RH;` : `${pre}${call};`;
}

/** A conditional jump (JMP/JMP32 comparison, not goto, call, exit or may_goto). */
function isConditional(i: Instruction): boolean {
  const cls = i.code & 0x07;
  const op = i.code & 0xf0;
  return (cls === Class.JMP || cls === Class.JMP32) && op !== JmpOp.JA && op !== JmpOp.CALL && op !== JmpOp.EXIT && op !== JmpOp.JCOND;
}

const ARGS = 'h1, l1, h2, l2, h3, l3, h4, l4, h5, l5';

/** Saving r6-r10 into the caller's frame and entering a new one. */
function pushFrame(pc: number): string {
  const save = [6, 7, 8, 9, 10].map((r, k) => `S[o + ${2 * k}] = l${r}; S[o + ${2 * k + 1}] = h${r};`).join(' ');
  return (
    `if (depth + 1 >= ${MAX_FRAMES}) throw rt.depthError(${pc}); ` +
    `{ const o = depth * ${2 * SAVED_REGS}; ${save} } ` +
    `RET[depth] = ${pc + 1}; depth++; rt.enterFrame(m, depth); h10 = SH[depth]; l10 = ${STACK_SIZE};`
  );
}

function popFrame(): string {
  const restore = [6, 7, 8, 9, 10].map((r, k) => `l${r} = S[o + ${2 * k}]; h${r} = S[o + ${2 * k + 1}];`).join(' ');
  return `depth--; { const o = depth * ${2 * SAVED_REGS}; ${restore} }`;
}

/** Generates the JavaScript source of a program's function. */
export function generate(rt: Runtime): string {
  const program = rt.program;
  const leaders = [...program.leaders].sort((a, b) => a - b);
  const blockOf = new Map<number, number>();
  leaders.forEach((pc, i) => blockOf.set(pc, i));
  const blk = (pc: number): number => blockOf.get(pc)!;
  const out: string[] = [];
  out.push(PRELUDE);
  out.push(`const BLK = new Int32Array(${program.length + 1}).fill(-1);`);
  out.push(leaders.map((pc, i) => `BLK[${pc}] = ${i};`).join(' '));
  out.push('return function run(m) {');
  out.push('const r = m.r32, S = m.s32, RET = m.ret, MG = m.mayGoto;');
  const regs = Array.from({ length: 11 }, (_, i) => `l${i} = r[${2 * i}], h${i} = r[${2 * i + 1}]`);
  out.push(`let ${regs.join(', ')};`);
  out.push(`let t0 = 0, t2 = 0, t3 = 0, depth = m.depth, steps = m.steps, bail = -1;`);
  out.push(`const limit = ${rt.budget};`);
  out.push('let b = BLK[m.pc];');
  out.push('outer: for (;;) {');
  out.push('switch (b) {');
  leaders.forEach((start, bi) => {
    const end = bi + 1 < leaders.length ? leaders[bi + 1]! : program.length;
    let n = 0;
    for (let pc = start; pc < end; pc++) if (program.slots[pc]) n++;
    // A block that ends by branching back to its own start becomes a loop of its own,
    // saving the trip through the switch on every iteration.
    let last = end - 1;
    if (!program.slots[last]) last--;
    const tail = program.slots[last]!;
    const selfLoop = isConditional(tail) && last + 1 + tail.off === start;
    out.push(selfLoop ? `case ${bi}: for (;;) {` : `case ${bi}: {`);
    out.push(`if ((steps += ${n}) > limit) { steps -= ${n}; bail = ${start}; break outer; }`);
    for (let pc = start; pc < end; pc++) {
      const i = program.slots[pc];
      if (!i) continue;
      if (selfLoop && pc === last) out.push(`if (${condition(i)}) continue; break;`);
      else out.push(instruction(rt, i, pc, blk, bi));
    }
    out.push('}');
  });
  out.push('default: throw new Error("compiled BPF: bad block " + b);');
  out.push('}');
  out.push('}');
  out.push(Array.from({ length: 11 }, (_, i) => `r[${2 * i}] = l${i}; r[${2 * i + 1}] = h${i};`).join(' '));
  out.push('m.depth = depth; m.steps = steps; if (bail >= 0) m.pc = bail;');
  out.push('return bail;');
  out.push('};');
  return out.join('\n');
}

function instruction(rt: Runtime, i: Instruction, pc: number, blk: (pc: number) => number, self: number): string {
  const cls = i.code & 0x07;
  const jump = (target: number): string => (blk(target) === self + 1 && target === pc + 1 ? '' : `b = ${blk(target)}; continue outer;`);
  switch (cls) {
    case Class.ALU64:
      return alu64(i);
    case Class.ALU:
      return alu32(i);
    case Class.JMP:
    case Class.JMP32: {
      const op = i.code & 0xf0;
      if (op === JmpOp.JA) {
        const target = pc + 1 + (cls === Class.JMP32 ? i.imm : i.off);
        return target === pc + 1 ? '' : `b = ${blk(target)}; continue outer;`;
      }
      if (op === JmpOp.EXIT) {
        return `if (depth === 0) { bail = -1; break outer; } ${popFrame()} b = BLK[RET[depth]]; continue outer;`;
      }
      if (op === JmpOp.CALL) {
        if (i.code & Source.X) {
          return (
            `t0 = rt.callTarget(big(h${i.dst}, l${i.dst}), ${pc}); ` +
            `if (t0 < 0) { l0 = helper(-1 - t0, ${pc}, ${ARGS}); h0 = RH; } ` +
            `else { t2 = t0; ${pushFrame(pc)} b = BLK[t2]; continue outer; }`
          );
        }
        if (i.src === CallSrc.LOCAL) return `${pushFrame(pc)} b = ${blk(pc + 1 + i.imm)}; continue outer;`;
        if (i.src === CallSrc.KFUNC) return `l0 = kfunc(${i.imm}, ${pc}, ${ARGS}); h0 = RH;`;
        return `l0 = helper(${i.imm}, ${pc}, ${ARGS}); h0 = RH;`;
      }
      const target = pc + 1 + i.off;
      if (op === JmpOp.JCOND) return `if (MG[depth] === 0) { ${jump(target)} } else MG[depth]--;`;
      if (target === pc + 1) return '';
      return `if (${condition(i)}) { b = ${blk(target)}; continue outer; }`;
    }
    case Class.LDX:
      return load(i.dst, i.src, i.off, SIZES[i.code & 0x18]!, (i.code & 0xe0) === Mode.MEMSX, pc);
    case Class.ST: {
      const size = SIZES[i.code & 0x18]!;
      return store(i.dst, i.off, size, i.imm < 0 ? '(-1)' : '0', lit(i.imm | 0), pc);
    }
    case Class.STX: {
      if ((i.code & 0xe0) === Mode.MEM) return store(i.dst, i.off, SIZES[i.code & 0x18]!, H(i.src), L(i.src), pc);
      return atomic(i, pc);
    }
    default: {
      if (i.code === LD_IMM64) {
        const v = rt.constants[pc]!;
        const hi = Number(BigInt.asIntN(32, v >> 32n));
        const lo = Number(BigInt.asIntN(32, v));
        return `l${i.dst} = ${lit(lo)}; h${i.dst} = ${lit(hi)};`;
      }
      const size = SIZES[i.code & 0x18]!;
      const offset = (i.code & 0xe0) === Mode.IND ? `(${lit(i.imm)} + l${i.src}) | 0` : lit(i.imm);
      return `t0 = rt.loadPacket(${offset}, ${size}); if (t0 < 0) { l0 = 0; h0 = 0; bail = -1; break outer; } l0 = t0 | 0; h0 = 0;`;
    }
  }
}

/** Compiles the program of `rt` into a JavaScript function. */
export function compile(rt: Runtime): CompiledProgram {
  const source = generate(rt);
  const factory = new Function('rt', source) as (rt: Runtime) => CompiledProgram;
  return factory(rt);
}
