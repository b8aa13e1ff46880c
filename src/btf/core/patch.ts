/**
 * Patching one instruction with a relocation result: libbpf's bpf_core_patch_insn() and
 * bpf_core_poison_insn() (relo_core.c). Supported forms, as in libbpf:
 *   rX = imm, rX op= imm               ALU/ALU64 with an immediate: imm is patched
 *   rX = *(T *)(rY + off)              LDX: off is patched, the size T may be adjusted
 *   *(T *)(rX + off) = rY / = imm      STX/ST: likewise
 *   rX = imm64 ll                      ld_imm64 (src 0): the 64-bit constant is patched
 * The instruction's current value must equal the value computed from the local BTF ("unexpected
 * insn value" otherwise) unless the relocation says it cannot be checked.
 *
 * The BPF constants below mirror include/uapi/linux/bpf_common.h and bpf.h; they are spelled out
 * here so that the btf layer only depends on the asm layer's Instruction *type*.
 */
import type { Instruction } from '../../asm/instruction.js';
import type { CoreReloRes } from './calc.js';
import { fail } from './errors.js';

const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_ALU64 = 0x07;
const BPF_JMP = 0x05;
const BPF_CALL = 0x80;
const BPF_X = 0x08;
/** BPF_LD | BPF_IMM | BPF_DW. */
const LD_IMM64 = 0x18;
/** BPF_B, BPF_H, BPF_W, BPF_DW by access size in bytes. */
const SIZE_CODE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
const SIZE_BYTES: Record<number, number> = { 0x10: 1, 0x08: 2, 0x00: 4, 0x18: 8 };

/**
 * libbpf's poison value: an invalid helper call, `call 0xbad2310` ("bad relo"). The verifier
 * only rejects it if it is reachable, so code guarded by an existence check stays loadable.
 */
export const CORE_POISON_IMM = 0xbad2310;

/** The instruction libbpf substitutes for each slot of a relocation that cannot be satisfied. */
export function poisonInstruction(): Instruction {
  return { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM };
}

/** What patchInstruction did. */
export interface PatchOutcome {
  /** The relocated instruction (a poison call when poisoned). */
  insn: Instruction;
  poisoned: boolean;
  /** The instruction was an ld_imm64, whose two slots both become poison calls. */
  wide: boolean;
  /**
   * The value the instruction held in the relocated field (imm, off or the 64-bit constant, as
   * an unsigned 64-bit number), i.e. what the compiler assumed; undefined for other forms.
   */
  current: bigint | undefined;
  /** New load/store size in bytes when it was adjusted. */
  resized?: { from: number; to: number };
  poisonReason?: string;
}

const fmt = (n: bigint): string => n.toString();

/** The relocatable field of `insn` as libbpf reads it (sign-extended to u64), if it has one. */
function currentValue(insn: Instruction): bigint | undefined {
  const u64 = (n: number | bigint): bigint => BigInt.asUintN(64, BigInt(n));
  switch (insn.code & 0x07) {
    case BPF_ALU:
    case BPF_ALU64:
      return (insn.code & BPF_X) === 0 ? u64(insn.imm) : undefined;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
      return u64(insn.off);
    case BPF_LD:
      return insn.code === LD_IMM64 ? (BigInt((insn.imm2 ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0) : undefined;
    default:
      return undefined;
  }
}

/**
 * Applies `res` to `insn` (not modified; the result is a new instruction). Throws a CoreFailure
 * for instructions libbpf refuses to patch.
 */
export function patchInstruction(insn: Instruction, res: CoreReloRes): PatchOutcome {
  const cls = insn.code & 0x07;
  const current = currentValue(insn);
  const poison = (reason: string | undefined): PatchOutcome => ({
    insn: poisonInstruction(),
    poisoned: true,
    wide: insn.code === LD_IMM64,
    current,
    poisonReason: reason,
  });
  // a poisoned relocation replaces any instruction, whatever its class
  if (res.poison) return poison(res.poisonReason);

  const { origVal, newVal } = res;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if ((insn.code & BPF_X) !== 0) fail('cannot relocate an ALU instruction with a register source');
      if (res.validate && BigInt.asUintN(64, BigInt(insn.imm)) !== origVal) {
        fail(`unexpected insn value (ALU/ALU64 imm): got ${insn.imm}, expected ${fmt(origVal)} -> ${fmt(newVal)}`);
      }
      return { insn: { ...insn, imm: Number(BigInt.asIntN(32, newVal)) }, poisoned: false, wide: false, current };
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && BigInt.asUintN(64, BigInt(insn.off)) !== origVal) {
        fail(`unexpected insn value (LDX/ST/STX off): got ${insn.off}, expected ${fmt(origVal)} -> ${fmt(newVal)}`);
      }
      if (newVal > 0x7fffn) fail(`value ${fmt(newVal)} is too big for the 16-bit offset of LDX/ST/STX`);
      if (res.failMemszAdjust) {
        return poison(
          `the field's size changes from ${res.origSz} to ${res.newSz} bytes, which a load or store can only follow for pointers and unsigned integers`,
        );
      }
      const out: Instruction = { ...insn, off: Number(newVal) };
      let resized: PatchOutcome['resized'];
      if (res.newSz !== res.origSz) {
        const bytes = SIZE_BYTES[insn.code & 0x18]!;
        if (bytes !== res.origSz) fail(`unexpected memory access size: the instruction accesses ${bytes} bytes, the field is ${res.origSz}`);
        const code = SIZE_CODE[res.newSz];
        if (code === undefined) fail(`the target field size ${res.newSz} is not a valid load/store size`);
        out.code = (insn.code & 0xe0) | code | cls;
        resized = { from: res.origSz, to: res.newSz };
      }
      return { insn: out, poisoned: false, wide: false, current, ...(resized ? { resized } : {}) };
    }
    case BPF_LD: {
      if (insn.code !== LD_IMM64 || insn.src !== 0 || insn.off !== 0) fail('only a plain ld_imm64 (src 0) can be relocated among LD instructions');
      if (res.validate && current !== origVal) {
        fail(`unexpected insn value (LDIMM64): got ${fmt(current!)}, expected ${fmt(origVal)} -> ${fmt(newVal)}`);
      }
      const u = BigInt.asUintN(64, newVal);
      return {
        insn: { ...insn, imm: Number(BigInt.asIntN(32, u)), imm2: Number(BigInt.asIntN(32, u >> 32n)) },
        poisoned: false,
        wide: false,
        current,
      };
    }
    default:
      fail(`cannot relocate instruction with opcode 0x${insn.code.toString(16).padStart(2, '0')} (class ${cls === BPF_JMP ? 'JMP' : 'JMP32'})`);
  }
}
