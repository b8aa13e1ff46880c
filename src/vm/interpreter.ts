/**
 * The reference interpreter: one instruction at a time on BigInt registers, written for
 * clarity and exactness (RFC 9669 semantics plus the Linux extensions). The compiled engine
 * is checked against it.
 */
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, Size, Source } from '../asm/opcodes.js';
import { VmErrorKind } from './errors.js';
import { MAX_FRAMES, type Machine, SAVED_REGS } from './machine.js';
import type { Runtime } from './runtime.js';

const M32 = 0xffffffffn;

function bswap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i += 8) out = (out << 8n) | ((v >> BigInt(i)) & 0xffn);
  return out;
}

/** 64-bit ALU operation on unsigned values; the caller's BigUint64Array store wraps the result. */
function alu64(op: number, a: bigint, b: bigint, off: number): bigint {
  switch (op) {
    case AluOp.ADD:
      return a + b;
    case AluOp.SUB:
      return a - b;
    case AluOp.MUL:
      return a * b;
    case AluOp.DIV:
      if (b === 0n) return 0n;
      return off === 1 ? BigInt.asIntN(64, a) / BigInt.asIntN(64, b) : a / b;
    case AluOp.MOD:
      if (b === 0n) return a;
      return off === 1 ? BigInt.asIntN(64, a) % BigInt.asIntN(64, b) : a % b;
    case AluOp.OR:
      return a | b;
    case AluOp.AND:
      return a & b;
    case AluOp.XOR:
      return a ^ b;
    case AluOp.LSH:
      return a << (b & 63n);
    case AluOp.RSH:
      return a >> (b & 63n);
    case AluOp.ARSH:
      return BigInt.asIntN(64, a) >> (b & 63n);
    case AluOp.NEG:
      return -a;
    case AluOp.MOV:
      return off === 0 ? b : BigInt.asIntN(off, b);
    default:
      throw new Error(`unreachable ALU op ${op}`);
  }
}

/** 32-bit ALU operation on the low halves; returns the zero-extended result. */
function alu32(op: number, a: bigint, b: bigint, off: number): bigint {
  a &= M32;
  b &= M32;
  let r: bigint;
  switch (op) {
    case AluOp.DIV:
      if (b === 0n) r = 0n;
      else r = off === 1 ? BigInt.asIntN(32, a) / BigInt.asIntN(32, b) : a / b;
      break;
    case AluOp.MOD:
      if (b === 0n) r = a;
      else r = off === 1 ? BigInt.asIntN(32, a) % BigInt.asIntN(32, b) : a % b;
      break;
    case AluOp.LSH:
      r = a << (b & 31n);
      break;
    case AluOp.RSH:
      r = a >> (b & 31n);
      break;
    case AluOp.ARSH:
      r = BigInt.asIntN(32, a) >> (b & 31n);
      break;
    default:
      r = alu64(op, a, b, off);
  }
  return r & M32;
}

function compare(op: number, a: bigint, b: bigint, bits: 32 | 64): boolean {
  if (bits === 32) {
    a &= M32;
    b &= M32;
  }
  switch (op) {
    case JmpOp.JEQ:
      return a === b;
    case JmpOp.JNE:
      return a !== b;
    case JmpOp.JGT:
      return a > b;
    case JmpOp.JGE:
      return a >= b;
    case JmpOp.JLT:
      return a < b;
    case JmpOp.JLE:
      return a <= b;
    case JmpOp.JSET:
      return (a & b) !== 0n;
    case JmpOp.JSGT:
      return BigInt.asIntN(bits, a) > BigInt.asIntN(bits, b);
    case JmpOp.JSGE:
      return BigInt.asIntN(bits, a) >= BigInt.asIntN(bits, b);
    case JmpOp.JSLT:
      return BigInt.asIntN(bits, a) < BigInt.asIntN(bits, b);
    default:
      return BigInt.asIntN(bits, a) <= BigInt.asIntN(bits, b);
  }
}

const SIZE_BYTES = { [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 8 } as Record<number, number>;

/** Runs programs of one Runtime instruction by instruction. */
export class Interpreter {
  private readonly code: Uint8Array;
  private readonly dst: Uint8Array;
  private readonly src: Uint8Array;
  private readonly off: Int16Array;
  private readonly imm: Int32Array;
  /** imm sign-extended to 64 bits, as unsigned. */
  private readonly k64: BigUint64Array;
  /** imm as an unsigned 32-bit value. */
  private readonly k32: BigUint64Array;

  constructor(private readonly rt: Runtime) {
    const n = rt.program.length;
    this.code = new Uint8Array(n);
    this.dst = new Uint8Array(n);
    this.src = new Uint8Array(n);
    this.off = new Int16Array(n);
    this.imm = new Int32Array(n);
    this.k64 = new BigUint64Array(n);
    this.k32 = new BigUint64Array(n);
    rt.program.slots.forEach((insn, pc) => {
      if (!insn) return;
      this.code[pc] = insn.code;
      this.dst[pc] = insn.dst;
      this.src[pc] = insn.src;
      this.off[pc] = insn.off;
      this.imm[pc] = insn.imm;
      this.k64[pc] = BigInt(insn.imm);
      this.k32[pc] = BigInt(insn.imm >>> 0);
    });
  }

  /** Continues the run in `m` from m.pc until the main program exits; returns r0. */
  run(m: Machine): bigint {
    const rt = this.rt;
    const space = rt.space;
    const R = m.regs;
    const { code, dst, src, off, imm, k64, k32 } = this;
    const budget = rt.budget;
    let pc = m.pc;
    for (;;) {
      if (++m.steps > budget) {
        m.steps--;
        m.pc = pc;
        throw rt.budgetError(pc);
      }
      const c = code[pc]!;
      const d = dst[pc]!;
      const s = src[pc]!;
      const cls = c & 0x07;
      switch (cls) {
        case Class.ALU64:
        case Class.ALU: {
          const op = c & 0xf0;
          const x = (c & Source.X) !== 0;
          if (op === AluOp.END) {
            const bits = imm[pc]!;
            const v = R[d]!;
            if (cls === Class.ALU64 || x) R[d] = bswap(v, bits);
            else R[d] = bits === 64 ? v : v & ((1n << BigInt(bits)) - 1n);
          } else if (cls === Class.ALU64) {
            R[d] = alu64(op, R[d]!, x ? R[s]! : k64[pc]!, off[pc]!);
          } else {
            R[d] = alu32(op, R[d]!, x ? R[s]! : k32[pc]!, off[pc]!);
          }
          pc++;
          break;
        }
        case Class.JMP:
        case Class.JMP32: {
          const op = c & 0xf0;
          if (op === JmpOp.JA) {
            pc += 1 + (cls === Class.JMP32 ? imm[pc]! : off[pc]!);
          } else if (op === JmpOp.EXIT) {
            if (m.depth === 0) {
              m.pc = pc;
              return R[0]!;
            }
            const depth = --m.depth;
            for (let i = 0; i < SAVED_REGS; i++) R[6 + i] = m.saved[depth * SAVED_REGS + i]!;
            pc = m.ret[depth]!;
          } else if (op === JmpOp.CALL) {
            let target: number;
            if (c & Source.X) {
              target = rt.callTarget(R[d]!, pc);
            } else if (s === CallSrc.LOCAL) {
              target = pc + 1 + imm[pc]!;
            } else if (s === CallSrc.KFUNC) {
              R[0] = rt.kfunc(imm[pc]!, pc, R[1]!, R[2]!, R[3]!, R[4]!, R[5]!);
              pc++;
              break;
            } else {
              target = -1 - imm[pc]!;
            }
            if (target < 0) {
              R[0] = rt.helper(-1 - target, pc, R[1]!, R[2]!, R[3]!, R[4]!, R[5]!);
              pc++;
              break;
            }
            const depth = m.depth;
            if (depth + 1 >= MAX_FRAMES) throw rt.depthError(pc);
            for (let i = 0; i < SAVED_REGS; i++) m.saved[depth * SAVED_REGS + i] = R[6 + i]!;
            m.ret[depth] = pc + 1;
            m.depth = depth + 1;
            rt.enterFrame(m, depth + 1);
            R[10] = rt.framePointer(depth + 1);
            pc = target;
          } else if (op === JmpOp.JCOND) {
            // may_goto: jump once the frame's loop budget is spent, else count down.
            if (m.mayGoto[m.depth] === 0) pc += 1 + off[pc]!;
            else {
              m.mayGoto[m.depth]--;
              pc++;
            }
          } else {
            const b = c & Source.X ? R[s]! : k64[pc]!;
            pc += compare(op, R[d]!, b, cls === Class.JMP32 ? 32 : 64) ? 1 + off[pc]! : 1;
          }
          break;
        }
        case Class.LDX: {
          const size = SIZE_BYTES[c & 0x18]!;
          const v = space.load(R[s]! + k64OfOff(off[pc]!), size, pc);
          R[d] = (c & 0xe0) === Mode.MEMSX ? BigInt.asIntN(size * 8, v) : v;
          pc++;
          break;
        }
        case Class.ST: {
          space.store(R[d]! + k64OfOff(off[pc]!), SIZE_BYTES[c & 0x18]!, k64[pc]!, pc);
          pc++;
          break;
        }
        case Class.STX: {
          const size = SIZE_BYTES[c & 0x18]!;
          if ((c & 0xe0) === Mode.MEM) {
            space.store(R[d]! + k64OfOff(off[pc]!), size, R[s]!, pc);
          } else {
            this.atomic(m, pc, size);
          }
          pc++;
          break;
        }
        default: {
          // Class.LD: ld_imm64 or a legacy packet load.
          if (c === LD_IMM64) {
            R[d] = rt.constants[pc]!;
            pc += 2;
            break;
          }
          const size = SIZE_BYTES[c & 0x18]!;
          let offset = imm[pc]!;
          if ((c & 0xe0) === Mode.IND) offset = (offset + Number(R[s]! & M32)) | 0;
          const v = rt.loadPacket(offset, size);
          if (v < 0) {
            m.pc = pc;
            R[0] = 0n;
            return 0n;
          }
          R[0] = BigInt(v);
          pc++;
        }
      }
    }
  }

  private atomic(m: Machine, pc: number, size: number): void {
    const R = m.regs;
    const space = this.rt.space;
    const d = this.dst[pc]!;
    const s = this.src[pc]!;
    const op = this.imm[pc]!;
    const addr = R[d]! + k64OfOff(this.off[pc]!);
    if (op === AtomicOp.LOAD_ACQ) {
      // load-acquire: dst = *(size *)(src + off), zero-extended.
      R[d] = space.load(R[s]! + k64OfOff(this.off[pc]!), size, pc);
      return;
    }
    if (op === AtomicOp.STORE_REL) {
      space.store(addr, size, R[s]!, pc);
      return;
    }
    // Read-modify-write: faults are reported as writes.
    space.require(addr, size, true, pc);
    const old = space.load(addr, size, pc);
    const mask = size === 4 ? M32 : 0xffffffffffffffffn;
    const v = R[s]! & mask;
    switch (op & ~AtomicOp.FETCH) {
      case AtomicOp.ADD:
        space.store(addr, size, old + v, pc);
        break;
      case AtomicOp.OR:
        space.store(addr, size, old | v, pc);
        break;
      case AtomicOp.AND:
        space.store(addr, size, old & v, pc);
        break;
      case AtomicOp.XOR:
        space.store(addr, size, old ^ v, pc);
        break;
      case AtomicOp.XCHG & ~AtomicOp.FETCH:
        space.store(addr, size, v, pc);
        break;
      case AtomicOp.CMPXCHG & ~AtomicOp.FETCH:
        if ((R[0]! & mask) === old) space.store(addr, size, v, pc);
        R[0] = old;
        return;
      default:
        throw this.rt.error(VmErrorKind.UNSUPPORTED, `unknown atomic operation ${op}`, pc);
    }
    if (op & AtomicOp.FETCH) R[s] = old;
  }
}

const OFF_CACHE = new Map<number, bigint>();
/** A 16-bit offset as a bigint (cached: offsets repeat). */
function k64OfOff(off: number): bigint {
  let v = OFF_CACHE.get(off);
  if (v === undefined) {
    v = BigInt(off);
    OFF_CACHE.set(off, v);
  }
  return v;
}
