import { FormatError } from '../errors.js';
import { checkInstruction, type Instruction } from './instruction.js';
import { INSN_SIZE, LD_IMM64 } from './opcodes.js';

export interface CodecOptions {
  /** Byte order of the object (bpfel, the default, or bpfeb). */
  littleEndian?: boolean;
  /**
   * Reject instructions with unknown opcodes, bad registers or non-zero reserved fields
   * (default true). With false, decoding only fails on truncation, as a disassembler needs;
   * the reserved fields of ld_imm64's second slot are then dropped, so only strict decoding
   * round-trips every input exactly.
   */
  strict?: boolean;
}

/**
 * Decodes bytecode into instructions. Throws a FormatError naming the instruction index for
 * truncated input and, when strict, for any instruction RFC 9669 does not define.
 *
 * @example
 * decode(new Uint8Array([0xb7, 0, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]));
 * // [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 42 }, { code: 0x95, ... }]
 */
export function decode(bytes: Uint8Array, options: CodecOptions = {}): Instruction[] {
  const le = options.littleEndian ?? true;
  const strict = options.strict ?? true;
  if (bytes.byteLength % INSN_SIZE !== 0) {
    throw new FormatError(
      'bytecode',
      Math.floor(bytes.byteLength / INSN_SIZE),
      `length ${bytes.byteLength} is not a multiple of ${INSN_SIZE} bytes`,
      'instruction',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots = bytes.byteLength / INSN_SIZE;
  const out: Instruction[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const insn = readSlot(view, slot * INSN_SIZE, le);
    if (insn.code === LD_IMM64) {
      if (slot + 1 >= slots) {
        throw new FormatError('bytecode', slot, 'ld_imm64 is missing its second slot', 'instruction');
      }
      const next = readSlot(view, (slot + 1) * INSN_SIZE, le);
      if (strict && (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0)) {
        throw new FormatError(
          'bytecode',
          slot + 1,
          'second slot of ld_imm64 must have opcode, registers and offset all 0',
          'instruction',
        );
      }
      insn.imm2 = next.imm;
      slot++;
    }
    if (strict) {
      const problem = checkInstruction(insn);
      if (problem) throw new FormatError('bytecode', insn.imm2 === undefined ? slot : slot - 1, problem, 'instruction');
    }
    out.push(insn);
  }
  return out;
}

function readSlot(view: DataView, at: number, le: boolean): Instruction {
  const regs = view.getUint8(at + 1);
  return {
    code: view.getUint8(at),
    dst: le ? regs & 0x0f : regs >> 4,
    src: le ? regs >> 4 : regs & 0x0f,
    off: view.getInt16(at + 2, le),
    imm: view.getInt32(at + 4, le),
  };
}

/**
 * Encodes instructions to bytecode. Throws a FormatError naming the instruction index when a
 * field does not fit its width and, when strict (the default), when the instruction is invalid.
 */
export function encode(insns: readonly Instruction[], options: CodecOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const strict = options.strict ?? true;
  let slots = 0;
  for (const insn of insns) slots += insn.code === LD_IMM64 ? 2 : 1;
  const bytes = new Uint8Array(slots * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  let at = 0;
  insns.forEach((insn, index) => {
    const problem = fieldRangeProblem(insn) ?? (strict ? checkInstruction(insn) : undefined);
    if (problem) throw new FormatError('bytecode', index, problem, 'instruction');
    writeSlot(view, at, insn.code, insn.dst, insn.src, insn.off, insn.imm, le);
    at += INSN_SIZE;
    if (insn.code === LD_IMM64) {
      writeSlot(view, at, 0, 0, 0, 0, insn.imm2 ?? 0, le);
      at += INSN_SIZE;
    }
  });
  return bytes;
}

function fieldRangeProblem(insn: Instruction): string | undefined {
  const within = (v: number | undefined, lo: number, hi: number) => v === undefined || (Number.isInteger(v) && v >= lo && v <= hi);
  if (!within(insn.code, 0, 0xff)) return `opcode ${insn.code} does not fit in 8 bits`;
  if (!within(insn.dst, 0, 15)) return `dst ${insn.dst} does not fit in 4 bits`;
  if (!within(insn.src, 0, 15)) return `src ${insn.src} does not fit in 4 bits`;
  if (!within(insn.off, -0x8000, 0x7fff)) return `offset ${insn.off} does not fit in a signed 16-bit field`;
  if (!within(insn.imm, -0x80000000, 0xffffffff)) return `immediate ${insn.imm} does not fit in 32 bits`;
  if (!within(insn.imm2, -0x80000000, 0xffffffff)) return `upper immediate ${insn.imm2} does not fit in 32 bits`;
  return undefined;
}

function writeSlot(view: DataView, at: number, code: number, dst: number, src: number, off: number, imm: number, le: boolean): void {
  view.setUint8(at, code);
  view.setUint8(at + 1, le ? (src << 4) | dst : (dst << 4) | src);
  view.setInt16(at + 2, off, le);
  view.setUint32(at + 4, imm >>> 0, le);
}
