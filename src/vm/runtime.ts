/**
 * What an engine needs besides the program: the address space, the stack frames, the
 * resolved ld_imm64 constants, helper dispatch and the limits. One Runtime per Vm; both
 * engines call into it, so helpers, frames and errors behave identically in both.
 */
import { VmError, VmErrorKind } from './errors.js';
import { MAX_FRAMES, MAX_LOOPS, type Machine, STACK_SIZE } from './machine.js';
import { type AddressSpace, type Region, RegionKind } from './memory.js';
import type { Program } from './program.js';

/**
 * A helper function: receives the VM (for memory, maps and the environment) and r1-r5, and
 * returns the new r0. Throw a VmError (kind 'helper') to reject arguments.
 */
export type Helper<V = unknown> = (vm: V, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;

/** Construction parameters of a {@link Runtime}. */
export interface RuntimeOptions {
  program: Program;
  space: AddressSpace;
  /** Instructions allowed per run. */
  budget: number;
  /** may_goto iterations allowed per frame. */
  maxLoops?: number;
  helpers: ReadonlyMap<number, Helper<never>>;
  kfuncs: ReadonlyMap<number, Helper<never>>;
  /** Passed to helpers as their first argument. */
  owner: unknown;
  /** Resolved value of each ld_imm64, by slot. */
  constants: readonly (bigint | undefined)[];
  /** The region of the program's code, for function pointers. */
  code: Region;
  /** The packet of legacy ld_abs/ld_ind loads. */
  packet: () => Region | undefined;
}

/** Shared run-time services of both engines. */
export class Runtime {
  readonly program: Program;
  readonly space: AddressSpace;
  readonly budget: number;
  readonly maxLoops: number;
  /** One stack region per frame depth. */
  readonly stacks: Region[] = [];
  /** Upper address half of each frame's stack. */
  readonly stackHi = new Int32Array(MAX_FRAMES);
  readonly constants: readonly (bigint | undefined)[];
  readonly code: Region;
  readonly packet: () => Region | undefined;
  private readonly helpers: ReadonlyMap<number, Helper<unknown>>;
  private readonly kfuncs: ReadonlyMap<number, Helper<unknown>>;
  private readonly owner: unknown;

  constructor(o: RuntimeOptions) {
    this.program = o.program;
    this.space = o.space;
    this.budget = o.budget;
    this.maxLoops = o.maxLoops ?? MAX_LOOPS;
    this.helpers = o.helpers as ReadonlyMap<number, Helper<unknown>>;
    this.kfuncs = o.kfuncs as ReadonlyMap<number, Helper<unknown>>;
    this.owner = o.owner;
    this.constants = o.constants;
    this.code = o.code;
    this.packet = o.packet;
    for (let d = 0; d < MAX_FRAMES; d++) {
      const r = this.space.map(new Uint8Array(STACK_SIZE), { kind: RegionKind.STACK, name: `stack frame ${d}` });
      this.stacks.push(r);
      this.stackHi[d] = r.hi;
    }
  }

  /** The r10 value of frame `depth`: the top of its stack. */
  framePointer(depth: number): bigint {
    return this.stacks[depth]!.base + BigInt(STACK_SIZE);
  }

  /** Starts frame `depth`: a zeroed stack and a fresh may_goto budget. */
  enterFrame(m: Machine, depth: number): void {
    this.stacks[depth]!.bytes.fill(0);
    m.mayGoto[depth] = this.maxLoops;
  }

  /** True when a helper with this id exists. */
  hasHelper(id: number): boolean {
    return this.helpers.has(id);
  }

  /** True when a kfunc with this BTF id exists. */
  hasKfunc(id: number): boolean {
    return this.kfuncs.has(id);
  }

  /** Calls helper `id` for the instruction at `pc`; returns r0. */
  helper(id: number, pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint {
    const fn = this.helpers.get(id);
    if (fn === undefined) throw this.error(VmErrorKind.UNKNOWN_HELPER, `call to unknown helper ${id}`, pc);
    this.space.pc = pc;
    return BigInt.asUintN(64, fn(this.owner, a1, a2, a3, a4, a5));
  }

  /** Calls kfunc `id` (a BTF id) for the instruction at `pc`; returns r0. */
  kfunc(id: number, pc: number, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint {
    const fn = this.kfuncs.get(id);
    if (fn === undefined) throw this.error(VmErrorKind.UNKNOWN_HELPER, `call to unknown kfunc ${id}`, pc);
    this.space.pc = pc;
    return BigInt.asUintN(64, fn(this.owner, a1, a2, a3, a4, a5));
  }

  /**
   * Where callx goes: a function of the program (the value is a function pointer from
   * ld_imm64 with BPF_PSEUDO_FUNC; returns its slot, >= 0) or a helper (the value is its id;
   * returns -1 - id). Anything else is a VmError.
   */
  callTarget(value: bigint, pc: number): number {
    const hi = Number(value >> 32n);
    const lo = Number(value & 0xffffffffn);
    if (hi === this.code.hi && lo % 8 === 0 && this.program.functions.has(lo / 8)) return lo / 8;
    if (hi === 0 && this.helpers.has(lo)) return -1 - lo;
    throw this.error(VmErrorKind.BAD_CALL_TARGET, `callx to 0x${value.toString(16)}, which is neither a function nor a helper id`, pc);
  }

  /**
   * A legacy packet load (ld_abs/ld_ind): `size` bytes at `offset`, big-endian. Returns -1 when
   * the access is outside the packet, which ends the program with r0 = 0.
   */
  loadPacket(offset: number, size: number): number {
    const p = this.packet();
    if (p === undefined || offset < 0 || offset + size > p.length) return -1;
    return size === 1 ? p.view.getUint8(offset) : size === 2 ? p.view.getUint16(offset, false) : p.view.getUint32(offset, false);
  }

  /** A VmError naming the instruction at `pc`. */
  error(kind: VmErrorKind, detail: string, pc: number): VmError {
    return new VmError(kind, detail, { pc, instruction: this.program.text(pc) });
  }

  /** The error for running out of instructions. */
  budgetError(pc: number): VmError {
    return this.error(VmErrorKind.BUDGET, `instruction budget of ${this.budget} exhausted`, pc);
  }

  /** The error for a call past the last frame. */
  depthError(pc: number): VmError {
    return this.error(VmErrorKind.CALL_DEPTH, `call stack overflow: more than ${MAX_FRAMES} frames`, pc);
  }
}
