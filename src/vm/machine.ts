/**
 * The state both engines share: registers, the call stack and the instruction count. The
 * register file is one buffer seen as eleven u64 (by the interpreter) and as 22 i32 halves,
 * low word first (by the compiled code), so an engine can hand a half-finished run to the
 * other without converting anything.
 */

/** Frames of BPF-to-BPF calls, the main program included (kernel MAX_CALL_FRAMES). */
export const MAX_FRAMES = 8;
/** Bytes of stack per frame (kernel MAX_BPF_STACK). */
export const STACK_SIZE = 512;
/** may_goto iterations allowed per frame (kernel BPF_MAX_LOOPS). */
export const MAX_LOOPS = 8 * 1024 * 1024;
/** Callee-saved registers (r6-r9) plus the frame pointer r10, saved across a local call. */
export const SAVED_REGS = 5;

/** Registers, call frames and counters of one run. */
export class Machine {
  /** r0-r10 as unsigned 64-bit values. */
  readonly regs = new BigUint64Array(11);
  /** The same registers as (low, high) int32 pairs: r<i> is [2i] low, [2i+1] high. */
  readonly r32 = new Int32Array(this.regs.buffer);
  /** r6-r10 of each caller frame: frame d at [5d .. 5d+4]. */
  readonly saved = new BigUint64Array(MAX_FRAMES * SAVED_REGS);
  /** The same, as int32 halves. */
  readonly s32 = new Int32Array(this.saved.buffer);
  /** Return slot of each caller frame. */
  readonly ret = new Int32Array(MAX_FRAMES);
  /** may_goto budget left in each frame. */
  readonly mayGoto = new Float64Array(MAX_FRAMES);
  /** Slot of the next instruction. */
  pc = 0;
  /** Current frame (0 = main program). */
  depth = 0;
  /** Instructions executed so far in this run. */
  steps = 0;
}

/** Thrown (not an Error) by a helper that ends the program early with `value` in r0. */
export class ProgramExit {
  constructor(readonly value: bigint) {}
}
