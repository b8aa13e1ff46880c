import { TsbpfError } from '../errors.js';

/** What went wrong while loading or running a program in the VM. */
export const VmErrorKind = {
  /** An access outside every mapped region (including small addresses: null pointers). */
  UNMAPPED: 'unmapped',
  /** An access that starts inside a region but runs past its end. */
  OUT_OF_BOUNDS: 'out-of-bounds',
  /** A write to a read-only region. */
  READ_ONLY: 'read-only',
  /** The instruction budget of one run is spent (an endless or too long loop). */
  BUDGET: 'budget',
  /** A BPF-to-BPF call past the maximum number of frames. */
  CALL_DEPTH: 'call-depth',
  /** A call to a helper (or kfunc) id the VM has no implementation for. */
  UNKNOWN_HELPER: 'unknown-helper',
  /** callx to a value that is neither a helper id nor the address of a function. */
  BAD_CALL_TARGET: 'bad-call-target',
  /** A map reference (ld_imm64 with a map source, or a helper's map argument) that names no map. */
  BAD_MAP: 'bad-map',
  /** A helper rejected its arguments. */
  HELPER: 'helper',
  /** An instruction the VM does not model (e.g. addr_space_cast, BTF-id loads). */
  UNSUPPORTED: 'unsupported',
  /** A structurally invalid program: jump out of range or into an ld_imm64, falls off the end. */
  INVALID_PROGRAM: 'invalid-program',
} as const;
export type VmErrorKind = (typeof VmErrorKind)[keyof typeof VmErrorKind];

/** Fields of a {@link VmError} besides its kind and message. */
export interface VmErrorDetails {
  /** Slot index of the faulting instruction (ld_imm64 counts two slots, as jumps do). */
  pc: number;
  /** The instruction, printed in the ubpf dialect. */
  instruction?: string;
  /** The address of a faulting memory access. */
  address?: bigint;
  /** The size in bytes of a faulting memory access. */
  size?: number;
}

/**
 * An error raised by the userspace VM: a rejected program, or a run that went wrong (bad
 * memory access, budget exhausted, call stack too deep...). It always names the instruction.
 */
export class VmError extends TsbpfError {
  override name = 'VmError';
  /** Slot index of the faulting instruction. */
  readonly pc: number;
  /** The faulting instruction in the ubpf dialect, when known. */
  readonly instruction: string | undefined;
  /** Faulting address for memory errors. */
  readonly address: bigint | undefined;
  /** Access size for memory errors. */
  readonly size: number | undefined;

  constructor(
    /** The category of the problem. */
    readonly kind: VmErrorKind,
    /** What happened, without the location (which `message` adds). */
    readonly detail: string,
    details: VmErrorDetails,
  ) {
    super(`${detail} at pc ${details.pc}${details.instruction ? ` (${details.instruction})` : ''}`);
    this.pc = details.pc;
    this.instruction = details.instruction;
    this.address = details.address;
    this.size = details.size;
  }
}
