/**
 * The public face of the userspace VM: load a program with its maps, helpers and context,
 * run it, inspect what it did. Independent of ELF: the caller supplies instructions and the
 * map table that ld_imm64 map references index into.
 */
import type { Instruction } from '../asm/instruction.js';
import { AluOp, CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc, Source } from '../asm/opcodes.js';
import { imm64 } from '../asm/instruction.js';
import { VmError, VmErrorKind } from './errors.js';
import { type HelperEnvironment, type HelperHost, standardHelpers } from './helpers.js';
import { Interpreter } from './interpreter.js';
import { type CompiledProgram, compile } from './jit.js';
import { Machine, ProgramExit } from './machine.js';
import { ArrayMap } from './maps/array.js';
import type { MapModel } from './maps/types.js';
import { AddressSpace, type Region, RegionKind } from './memory.js';
import { Program } from './program.js';
import { type Helper, Runtime } from './runtime.js';

/** A helper function as the VM calls it: `(vm, r1, ..., r5) => r0`. */
export type VmHelper = Helper<Vm>;

/** Which engine runs the program. */
export const Engine = {
  /** The BigInt reference interpreter. */
  INTERPRETER: 'interpreter',
  /** BPF compiled to a JavaScript function (the fast path). */
  JIT: 'jit',
} as const;
export type Engine = (typeof Engine)[keyof typeof Engine];

/** Options of {@link Vm}. */
export interface VmOptions {
  /** Maps by index: the imm of ld_imm64 with a map source (fd, value, idx) indexes this table. */
  maps?: readonly MapModel[];
  /** Helpers by id (default: {@link standardHelpers}); give a Map to replace or extend them. */
  helpers?: ReadonlyMap<number, Helper<Vm>> | ReadonlyMap<number, Helper<HelperHost>>;
  /** kfuncs by BTF id, called by `call` with src = 2 (default: none). */
  kfuncs?: ReadonlyMap<number, Helper<Vm>> | ReadonlyMap<number, Helper<HelperHost>>;
  /** The context r1 points at (default: none, r1 = 0). Writable unless `contextReadOnly`. */
  context?: Uint8Array;
  contextReadOnly?: boolean;
  /** The packet that legacy ld_abs/ld_ind loads read (default: the context). */
  packet?: Uint8Array;
  /** Engine (default 'jit'). */
  engine?: Engine;
  /** Instructions one run may execute before it fails with a 'budget' VmError (default 10M). */
  budget?: number;
  /** may_goto iterations allowed per frame (default 8M, the kernel's BPF_MAX_LOOPS). */
  maxLoops?: number;
  /** The CPU the program runs on (get_smp_processor_id, per-CPU map slots; default 0). */
  cpu?: number;
  /** Clock, randomness, task identity and probe-able memory for the helpers. */
  env?: HelperEnvironment;
}

/** Options of one {@link Vm.run}. */
export interface RunOptions {
  /** A context for this run (replaces the VM's). */
  context?: Uint8Array;
  /** Initial r1-r5 (r1 defaults to the context pointer, the others to 0). */
  registers?: { r1?: bigint; r2?: bigint; r3?: bigint; r4?: bigint; r5?: bigint };
}

/**
 * Compiles, or returns undefined (the interpreter then runs everything) where generating code
 * from strings is forbidden (--disallow-code-generation-from-strings, a strict CSP).
 */
function compileOrFallBack(rt: Runtime): CompiledProgram | undefined {
  try {
    return compile(rt);
  } catch (e) {
    if (e instanceof EvalError) return undefined;
    throw e;
  }
}

/** Default instruction budget of one run. */
export const DEFAULT_BUDGET = 10_000_000;

/**
 * A loaded program, ready to run. Loading validates the program (FormatError, or VmError
 * 'invalid-program'), resolves ld_imm64 map references against `maps` and checks that every
 * helper it calls exists (VmError 'bad-map', 'unknown-helper', 'unsupported').
 *
 * @example
 * const counts = createMap({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
 * const vm = new Vm(parseUbpf(source), { maps: [counts], context: new Uint8Array(64) });
 * const r0 = vm.run();
 */
export class Vm implements HelperHost {
  /** The validated program. */
  readonly program: Program;
  /** The address space: stacks, context, map values, helper buffers. */
  readonly memory = new AddressSpace();
  readonly maps: readonly MapModel[];
  readonly cpu: number;
  readonly env: HelperEnvironment;
  readonly engine: Engine;
  /** bpf_trace_printk messages, one per call, across runs. */
  readonly trace: string[] = [];
  /** Instructions executed by the last run. */
  steps = 0;
  private readonly rt: Runtime;
  private readonly interpreter: Interpreter;
  private readonly compiled: CompiledProgram | undefined;
  private contextRegion: Region | undefined;
  private readonly mapRegions: Region[] = [];
  private seed: number;

  constructor(program: readonly Instruction[] | Uint8Array | Program, options: VmOptions = {}) {
    this.program = program instanceof Program ? program : Program.load(program);
    this.maps = options.maps ?? [];
    this.cpu = options.cpu ?? 0;
    this.env = options.env ?? {};
    this.engine = options.engine ?? Engine.JIT;
    this.seed = (this.env.seed ?? 1) >>> 0 || 1;
    this.memory.describe = (pc) => this.program.text(pc);
    for (const map of this.maps) {
      this.mapRegions.push(this.memory.map(new Uint8Array(0), { kind: RegionKind.MAP, name: `map ${map.name || '(unnamed)'}`, map }));
    }
    if (options.context) this.setContext(options.context, options.contextReadOnly ?? false);
    const packet = options.packet ? this.memory.map(options.packet, { name: 'packet', kind: RegionKind.USER }) : undefined;
    const code = this.memory.map(new Uint8Array(0), { kind: RegionKind.CODE, name: 'code' });
    const helpers = (options.helpers ?? standardHelpers()) as ReadonlyMap<number, Helper<never>>;
    const kfuncs = (options.kfuncs ?? new Map()) as ReadonlyMap<number, Helper<never>>;
    const constants = this.resolve(code, helpers, kfuncs);
    this.rt = new Runtime({
      program: this.program,
      space: this.memory,
      budget: options.budget ?? DEFAULT_BUDGET,
      maxLoops: options.maxLoops,
      helpers,
      kfuncs,
      owner: this,
      constants,
      code,
      packet: () => packet ?? this.contextRegion,
    });
    this.interpreter = new Interpreter(this.rt);
    this.compiled = this.engine === Engine.JIT ? compileOrFallBack(this.rt) : undefined;
  }

  private setContext(bytes: Uint8Array, readOnly: boolean): void {
    if (this.contextRegion) this.contextRegion.set(bytes);
    else this.contextRegion = this.memory.map(bytes, { kind: RegionKind.CONTEXT, name: 'context', writable: !readOnly });
  }

  /** Load-time checks that need the environment, and the value of every ld_imm64. */
  private resolve(code: Region, helpers: ReadonlyMap<number, unknown>, kfuncs: ReadonlyMap<number, unknown>): (bigint | undefined)[] {
    const constants: (bigint | undefined)[] = [];
    const fail: (kind: VmErrorKind, detail: string, pc: number) => never = (kind, detail, pc) => {
      throw new VmError(kind, detail, { pc, instruction: this.program.text(pc) });
    };
    this.program.slots.forEach((insn, pc) => {
      if (!insn) return;
      if (insn.code === (Class.JMP | JmpOp.CALL)) {
        if (insn.src === CallSrc.HELPER && !helpers.has(insn.imm)) fail(VmErrorKind.UNKNOWN_HELPER, `call to unknown helper ${insn.imm}`, pc);
        if (insn.src === CallSrc.KFUNC && !kfuncs.has(insn.imm)) fail(VmErrorKind.UNKNOWN_HELPER, `call to unknown kfunc ${insn.imm}`, pc);
      }
      if (insn.code === (Class.ALU64 | AluOp.MOV | Source.X) && insn.off === 1) {
        fail(VmErrorKind.UNSUPPORTED, 'addr_space_cast needs a BPF arena, which the VM does not model', pc);
      }
      if (insn.code !== LD_IMM64) return;
      switch (insn.src) {
        case PseudoSrc.IMM64:
          constants[pc] = imm64(insn);
          break;
        case PseudoSrc.MAP_FD:
        case PseudoSrc.MAP_IDX: {
          const region = this.mapRegions[insn.imm];
          if (!region) fail(VmErrorKind.BAD_MAP, `map index ${insn.imm} is not in the map table (${this.maps.length} maps)`, pc);
          constants[pc] = region.base;
          break;
        }
        case PseudoSrc.MAP_VALUE:
        case PseudoSrc.MAP_IDX_VALUE: {
          const map = this.maps[insn.imm];
          if (!map) fail(VmErrorKind.BAD_MAP, `map index ${insn.imm} is not in the map table (${this.maps.length} maps)`, pc);
          if (!(map instanceof ArrayMap) || map.perCpu) fail(VmErrorKind.BAD_MAP, 'direct value access needs a (non-per-CPU) array map', pc);
          const off = insn.imm2 ?? 0;
          if (off < 0 || off >= map.valueSize) fail(VmErrorKind.BAD_MAP, `value offset ${off} is outside the ${map.valueSize}-byte value`, pc);
          const element = map.element(0)!;
          const name = `value of map ${map.name || '(unnamed)'}`;
          constants[pc] = this.memory.addressOf(element, RegionKind.MAP_VALUE, name, true, false) + BigInt(off);
          break;
        }
        case PseudoSrc.FUNC:
          constants[pc] = code.base + BigInt((pc + 1 + insn.imm) * 8);
          break;
        default:
          fail(VmErrorKind.UNSUPPORTED, 'ld_imm64 of a BTF id (kernel variable) is not modelled by the VM', pc);
      }
    });
    return constants;
  }

  /**
   * Runs the program once and returns r0 (unsigned 64-bit). Each run starts with zeroed stack
   * frames; pointers handed out by helpers in an earlier run are invalid. Throws VmError for
   * bad memory accesses, an exhausted budget, too deep calls...
   */
  run(options: RunOptions = {}): bigint {
    this.memory.resetTransient();
    if (options.context) this.setContext(options.context, !(this.contextRegion?.writable ?? true));
    const m = new Machine();
    const rt = this.rt;
    rt.enterFrame(m, 0);
    const regs = options.registers ?? {};
    m.regs[1] = regs.r1 ?? this.contextRegion?.base ?? 0n;
    m.regs[2] = regs.r2 ?? 0n;
    m.regs[3] = regs.r3 ?? 0n;
    m.regs[4] = regs.r4 ?? 0n;
    m.regs[5] = regs.r5 ?? 0n;
    m.regs[10] = rt.framePointer(0);
    try {
      if (this.compiled && this.compiled(m) < 0) return m.regs[0]!;
      return this.interpreter.run(m);
    } catch (e) {
      if (e instanceof ProgramExit) return BigInt.asUintN(64, e.value);
      throw e;
    } finally {
      this.steps = m.steps;
    }
  }

  /** The address of the context of the next run (0n without one). */
  get contextAddress(): bigint {
    return this.contextRegion?.base ?? 0n;
  }

  /** The map a pointer from ld_imm64 (map fd) stands for; VmError 'bad-map' otherwise. */
  mapAt(pointer: bigint): MapModel {
    const region = this.memory.regionOf(pointer);
    if (region?.map && BigInt.asUintN(32, pointer) === 0n) return region.map;
    throw new VmError(VmErrorKind.BAD_MAP, `0x${pointer.toString(16)} is not a map pointer`, {
      pc: this.memory.pc,
      instruction: this.program.text(this.memory.pc),
    });
  }

  /** The address ld_imm64 gives for map `index` (what a helper's map argument must be). */
  mapAddress(index: number): bigint {
    const r = this.mapRegions[index];
    if (!r) throw new VmError(VmErrorKind.BAD_MAP, `no map at index ${index}`, { pc: 0 });
    return r.base;
  }

  /** xorshift32, seeded by env.seed: reproducible get_prandom_u32 values. */
  random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  /** Ends the program at once with `r0` (for helpers such as ubpf's `unwind`). */
  terminate(r0: bigint): never {
    throw new ProgramExit(r0);
  }
}
