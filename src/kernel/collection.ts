/**
 * Loading a whole object into the kernel, in libbpf's order (bpf_object__load): resolve
 * externs (.kconfig values, kernel symbols), load the object's BTF (fixed up and sanitised for
 * this kernel), create the maps (pinned ones reused), write and freeze global data, relocate
 * and load every program, then fill prog arrays and maps of maps. Everything created is owned
 * by the Collection; if any step fails, what was created so far is closed (and new pins
 * removed) before the error propagates, so a failed load leaks nothing.
 */
import { slotCount, type Instruction } from '../asm/instruction.js';
import { BtfFuncLinkage, BtfKind, type Btf } from '../btf/index.js';
import { NotSupportedError, TsbpfError } from '../errors.js';
import { weakExterns, type MapSpec, type ObjectSpec, type ProgramSpec } from '../object/index.js';
import { Errno, Fd, HOST_LE, SyscallError } from '../sys/index.js';
import { attachTarget } from './attach-target.js';
import { ALL_BTF_FEATURES, prepareObjectBtf, type BtfFeatures } from './btf-fixup.js';
import { BtfLoadError, loadBtf } from './btf-load.js';
import { createMap, initDataMap, type CreatedMap } from './collection-maps.js';
import { relocateCore } from './core.js';
import { btfFeatures, probeHelper, probeMisc, probeProgramType } from './features.js';
import { btfCodec, type BtfValue } from './codec-btf.js';
import type { Codec } from './codec.js';
import { applyConstants, DataMapStore, Variable } from './globals.js';
import { kconfigData, kernelVersionCode, type KconfigEnvironment } from './kconfig.js';
import { KsymResolver } from './ksym.js';
import type { BpfMap } from './map.js';
import { MapTypeError } from './map-view.js';
import { objectMap } from './map-object.js';
import { moduleBtfFd } from './btf-info.js';
import { BPFFS_ROOT, unpinPath } from './pin.js';
import { Program, VerifierError, type ProgTypeName, type AttachTypeName } from './program.js';
import { applyReferences, POISON_CALL_KFUNC_BASE } from './relocate.js';
import { kernelBtf } from './vmlinux.js';

/** Options of {@link Collection.load}. */
export interface CollectionOptions {
  /**
   * Values for `const volatile` globals (.rodata), set before the programs are verified: the
   * values the BTF codec decodes to (numbers, bigints, booleans, strings for char arrays,
   * arrays, objects) or a Uint8Array of the variable's size; an object may name only some
   * members, the others keep their initial values (see patchBtfValue).
   */
  constants?: Readonly<Record<string, BtfValue>>;
  /** Directory on bpffs for maps declared with LIBBPF_PIN_BY_NAME; default /sys/fs/bpf. */
  pinPath?: string;
  /** The kernel BTF CO-RE, ksyms and attach targets resolve against; default /sys/kernel/btf/vmlinux. */
  kernelBtf?: Btf;
  /** Prefix of global data map names as libbpf makes them ('features' -> 'features.rodata'). */
  objectName?: string;
  /**
   * More externs to treat as declared __weak, besides those the spec marks `weak` (the reader
   * marks them from the ELF symbol binding).
   */
  weakExterns?: Iterable<string>;
  /** Overrides for .kconfig values (kernel release, CONFIG_* map), e.g. for tests. */
  kconfig?: KconfigEnvironment;
  /** BTF features to sanitise for instead of probing the kernel (tests force old kernels this way). */
  btfFeatures?: Partial<BtfFeatures>;
  /** Verifier log level for a failed program (2 logs every state). */
  logLevel?: 1 | 2;
  /** Load only these programs (libbpf's autoload); default all. */
  programs?: readonly string[];
  /**
   * The record type of each ring buffer and perf event array, by map name, for
   * {@link Collection.events}: a BTF type name of the object ('exec_event') or a codec. BTF
   * says nothing about what a program writes into such a map; loading a TypeScript source
   * fills this in from its `RingBuf<T>` declarations.
   */
  records?: Readonly<Record<string, string | Codec<unknown>>>;
}

/**
 * What a collection holds, by name, as types: the maps (BpfMaps; keyed ones are ObjectMaps at
 * run time), programs, and the records of each ring buffer or perf event array. load<M>()
 * computes it from a kernel module's declarations (src/load-types.ts); untyped it is
 * {@link UntypedShape}.
 */
export interface CollectionShape {
  maps: Record<string, BpfMap>;
  programs: Record<string, Program>;
  events: Record<string, unknown>;
}

/** The shape of a collection loaded without types: anything by name, records as BTF values. */
export interface UntypedShape extends CollectionShape {
  maps: Record<string, BpfMap>;
  programs: Record<string, Program>;
  events: Record<string, BtfValue>;
}

/** Options of {@link Collection.events}. */
export interface EventsOptions {
  /** Ends the iteration (cleanly) when aborted. */
  signal?: AbortSignal;
  /**
   * Called when the kernel reports samples a perf event array could not store (its ring on
   * `cpu` was full): `count` records that never arrive. The kernel reports them with that CPU's
   * next sample. Without onLost each report is a process warning (PerfBufLostWarning). Ring
   * buffers report nothing here: their program sees the failed reserve or output.
   */
  onLost?: (count: number, cpu: number) => void;
}

/**
 * Reads decoded records of a ring buffer or perf event array (the events layer registers
 * one). Disposing of the iterator stops it at once and unmaps its rings; `ended` is called
 * when it stops, however it stops.
 */
export type RecordReader = (map: BpfMap, codec: Codec<unknown>, options: EventsOptions & { ended: () => void }) => AsyncIterableIterator<unknown> & Disposable;

let recordReader: RecordReader | undefined;

/**
 * Installs the reader {@link Collection.events} uses: the events layer (src/events) registers
 * it, keeping the layers' arrows pointing down, as the link layer does for attachAll.
 */
export function registerRecordReader(reader: RecordReader | undefined): void {
  recordReader = reader;
}

/** A collection has no map by that name (or none of the kind asked for). */
export class CollectionMapError extends TsbpfError {
  override name = 'CollectionMapError';
  constructor(
    readonly map: string,
    readonly available: readonly string[],
    readonly detail: string,
  ) {
    super(`map '${map}': ${detail}; the object's ${available.length ? `are: ${available.join(', ')}` : 'has none'}`);
  }
}

/** Attaches one program of a collection; returns what to close to detach it, or undefined to skip. */
export type AutoAttacher = (program: Program, spec: ProgramSpec) => Disposable | undefined;

let defaultAttacher: AutoAttacher | undefined;

/**
 * Installs the function {@link Collection.attachAll} uses when given none: the link layer
 * (src/link) registers its attach dispatcher here, keeping the layers' arrows pointing down.
 */
export function registerAutoAttacher(attacher: AutoAttacher | undefined): void {
  defaultAttacher = attacher;
}

/** Closes resources in reverse order of creation; reports (does not throw) failures. */
class Cleanup {
  private readonly items: Array<() => void> = [];
  add(fn: () => void): void {
    this.items.push(fn);
  }
  run(): void {
    for (const fn of this.items.reverse()) {
      try {
        fn();
      } catch {
        // closing is best effort: the error that caused the cleanup is the one to report
      }
    }
    this.items.length = 0;
  }
}

/** BPF_F_SLEEPABLE and BPF_F_XDP_HAS_FRAGS (include/uapi/linux/bpf.h). */
const F_SLEEPABLE = 1 << 4;
const F_XDP_HAS_FRAGS = 1 << 5;

/** Whether the object cannot load without its BTF: global subprograms, kernel symbols by BTF id. */
function needsBtf(spec: ObjectSpec): string | undefined {
  const btf = spec.btf;
  if (!btf) return undefined;
  for (const p of spec.programs) {
    if (p.references.some((r) => r.kind === 'kfunc')) return `program '${p.name}' calls kernel functions`;
    for (const f of p.funcInfos.slice(1)) {
      if (btf.kindOf(f.typeId) === BtfKind.FUNC && (btf.info(f.typeId) & 0xffff) === BtfFuncLinkage.GLOBAL) return `program '${p.name}' calls global function '${btf.nameOf(f.typeId)}'`;
    }
  }
  return undefined;
}

/**
 * A loaded object: its maps, programs and global variables, by name. Closing it closes them
 * all (programs stay loaded while links or pins hold them; pinned maps stay pinned).
 *
 * Minimum kernel: 5.2 for global data (.rodata, .data, .bss), 4.18 for BTF; a kernel without
 * BTF support loads objects whose programs do not need it.
 *
 * @example
 * using coll = Collection.load(readObject(readFileSync('exec.bpf.o')), { constants: { target_pid: 42 } });
 * coll.programs.on_exec.testRun({ data: new Uint8Array(64) });
 * coll.variables.seen.get();
 */
export class Collection<S extends CollectionShape = UntypedShape> implements Disposable, AsyncDisposable {
  private closed = false;
  private readonly links: Disposable[] = [];

  private constructor(
    /** The object this collection was loaded from. */
    readonly spec: ObjectSpec,
    /**
     * Maps by name as the object names them ('counts', '.rodata', '.bss', '.kconfig'). Keyed
     * maps are ObjectMaps: BpfMaps with lookup/update/delete through the object's BTF.
     */
    readonly maps: S['maps'],
    /** Programs by function name. */
    readonly programs: S['programs'],
    /** Global variables of .data, .bss, .rodata (and .kconfig values) by name. */
    readonly variables: Record<string, Variable>,
    /** The object's BTF in the kernel (func_info, line_info and map types refer to it). */
    readonly btfFd: Fd | undefined,
    /** Things that went differently than asked, e.g. BTF the kernel refused. */
    readonly warnings: readonly string[],
    private readonly stores: readonly DataMapStore[],
    /** Maps this load pinned (kept pinned after close; see {@link unpinMaps}). */
    readonly pinnedPaths: readonly string[],
    private readonly records: Readonly<Record<string, string | Codec<unknown>>>,
  ) {}

  /**
   * Loads every map and program of `spec` into the kernel (see the module comment for the
   * steps). Errors: a VerifierError (with the C source line) when a program is rejected, an
   * AttachTargetError for a missing tp_btf/fentry/LSM/iter target, KconfigError/KsymError for
   * unsatisfiable externs, VariableError for bad constants, PinnedMapMismatchError for an
   * incompatible pin, NotSupportedError for program types or features this kernel lacks.
   *
   * @example
   * using coll = Collection.load(spec, { constants: { target_pid: process.pid } });
   */
  static load(spec: ObjectSpec, options: CollectionOptions = {}): Collection {
    if (spec.littleEndian !== HOST_LE) {
      throw new NotSupportedError(`a ${spec.littleEndian ? 'little' : 'big'}-endian object`, `this host is ${HOST_LE ? 'little' : 'big'}-endian; build the object for the host (-target bpf)`);
    }
    const wanted = options.programs ? new Set(options.programs) : undefined;
    const progSpecs = spec.programs.filter((p) => !wanted || wanted.has(p.name));
    for (const name of wanted ?? []) if (!spec.programs.some((p) => p.name === name)) throw new TsbpfError(`the object has no program '${name}'`);
    for (const p of progSpecs) {
      if (p.progType === 'UNSPEC') throw new NotSupportedError(`section '${p.section}' of program '${p.name}'`, 'not one of libbpf\'s SEC() names, so the program type is unknown (see libbpf\'s program_types documentation)');
      if (p.progType === 'STRUCT_OPS') throw new NotSupportedError(`struct_ops program '${p.name}'`, 'tsbpf\'s loader does not load struct_ops yet');
    }

    const weakSet = weakExterns(spec);
    for (const name of options.weakExterns ?? []) weakSet.add(name);
    const isWeak = (name: string): boolean => weakSet.has(name);
    let vmlinux = options.kernelBtf;
    const kernel = (): Btf => (vmlinux ??= kernelBtf());

    const cleanup = new Cleanup();
    const warnings: string[] = [];
    const pins: string[] = [];
    const maps: Record<string, BpfMap> = {};
    const programs: Record<string, Program> = {};
    const stores: DataMapStore[] = [];
    const ksyms = new KsymResolver(spec.btf, kernel, isWeak);
    let btfFd: Fd | undefined;
    try {
      // 1. Externs and initial data, before anything exists in the kernel.
      const initial = applyConstants(spec.maps, spec.btf, options.constants ?? {});
      const kconfigMap = spec.maps.find((m) => m.section === '.kconfig');
      if (kconfigMap && spec.btf) {
        initial.set(
          kconfigMap.name,
          kconfigData(kconfigMap, spec.btf, isWeak, {
            hasBpfCookie: () => probeHelper('TRACEPOINT', 'bpf_get_attach_cookie').available,
            hasSyscallWrapper: () => probeMisc('syscall_wrapper').available,
            ...options.kconfig,
          }),
        );
      }
      // Module BTF fds opened while resolving are closed on failure too.
      cleanup.add(() => ksyms.close());
      for (const p of progSpecs) {
        for (const r of p.references) if (r.kind === 'ksym' || r.kind === 'kfunc') ksyms.resolve(r.name, r.kind === 'kfunc' ? 'call' : 'load');
      }

      const mmapable = spec.maps.some((m) => m.data !== undefined) ? probeMisc('mmapable_array').available : true;

      // 2. The object's BTF.
      if (spec.btf) {
        const features = { ...(options.btfFeatures ? ALL_BTF_FEATURES : btfFeatures()), ...options.btfFeatures };
        const prepared = prepareObjectBtf(spec.btf, spec, features);
        try {
          btfFd = loadBtf(prepared.bytes, `object${options.objectName ? ` '${options.objectName}'` : ''}`);
          const fd = btfFd;
          cleanup.add(() => fd.close());
        } catch (err) {
          if (!(err instanceof BtfLoadError)) throw err;
          const required = needsBtf(spec);
          if (required) throw new BtfLoadError(err.errno, err.log, `object: needed because ${required}`);
          warnings.push(`the kernel refused the object's BTF, loading without it: ${err.message}`);
        }
      }

      // 3. Maps, with global data written and .rodata/.kconfig frozen before any program loads.
      const created: CreatedMap[] = [];
      const datasecId = (m: MapSpec): number | undefined => (spec.btf && m.data !== undefined ? spec.btf.typeByName(m.section, BtfKind.DATASEC)?.id : undefined);
      for (const m of spec.maps) {
        const c = createMap(m, { btfFd: btfFd?.value, valueTypeOf: datasecId, objectName: options.objectName, pinPath: options.pinPath ?? BPFFS_ROOT, mmapable });
        cleanup.add(() => c.map.close());
        if (c.pinnedAt) {
          const path = c.pinnedAt;
          pins.push(path);
          cleanup.add(() => void unpinPath(path));
        }
        created.push(c);
        maps[m.name] = objectMap(c.map, m, spec.btf);
        if (m.data !== undefined) initDataMap(c, initial.get(m.name));
      }

      // 4. Programs.
      for (const p of progSpecs) {
        const prog = loadProgram(p, spec, { maps, btfFd, ksyms, kernel, logLevel: options.logLevel });
        cleanup.add(() => prog.close());
        programs[p.name] = prog;
      }

      // 5. Initial slots: programs into prog arrays, inner maps into maps of maps.
      for (const c of created) {
        if (c.spec.slots.length === 0) continue;
        const isProgArray = c.spec.type === 'PROG_ARRAY';
        if (c.reused && !isProgArray) continue;
        for (const slot of c.spec.slots) {
          const target = isProgArray ? programs[slot.value] : maps[slot.value];
          if (!target) {
            if (isProgArray && spec.programs.some((p) => p.name === slot.value)) continue; // not loaded (options.programs)
            throw new TsbpfError(`map '${c.spec.name}' slot ${slot.key}: the object has no ${isProgArray ? 'program' : 'map'} '${slot.value}'`);
          }
          c.map.updateBytes(u32(slot.key), u32(target.fd.value));
        }
      }
      ksyms.close();

      // 6. Variables over the data maps.
      const variables: Record<string, Variable> = {};
      for (const c of created) {
        if (c.spec.data === undefined) continue;
        const store = new DataMapStore(c.map, c.spec, c.spec.readOnly, (c.spec.flags & (1 << 10)) !== 0 && mmapable);
        stores.push(store);
        cleanup.add(() => store.close());
        for (const v of c.spec.variables) {
          if (v.extern && c.spec.section !== '.kconfig') continue;
          if (!(v.name in variables)) variables[v.name] = new Variable(store, spec.btf, v);
        }
      }
      return new Collection(spec, maps, programs, variables, btfFd, warnings, stores, pins, options.records ?? {});
    } catch (err) {
      cleanup.run();
      throw err;
    }
  }

  /**
   * Attaches every program whose section says how (`spec.sectionDef.autoAttach`), with the
   * attacher given or the one the link layer registered. The links are closed with the
   * collection; they are also returned.
   *
   * @example
   * using coll = await load('exec.bpf.o');
   * coll.attachAll();
   */
  attachAll(attacher: AutoAttacher | undefined = defaultAttacher): Disposable[] {
    if (!attacher) throw new NotSupportedError('attachAll', 'no attach dispatcher is registered: import tsbpf\'s link module (it registers one), or pass an attacher');
    const made: Disposable[] = [];
    for (const prog of Object.values(this.programs)) {
      const spec = prog.spec;
      if (!spec?.sectionDef?.autoAttach) continue;
      const link = attacher(prog, spec);
      if (link) {
        made.push(link);
        this.links.push(link);
      }
    }
    return made;
  }

  /**
   * The records a ring buffer or perf event array receives, decoded with the record type of
   * `options.records` (filled in from the source for TypeScript programs), as they arrive.
   * Ends when `signal` aborts or the collection closes; breaking out of the loop releases the
   * reader. Needs a registered reader: importing tsbpf, tsbpf/load or tsbpf/events registers one.
   *
   * @example
   * await using obj = await load<typeof Hello>(new URL('./hello.bpf.ts', import.meta.url));
   * obj.attachAll();
   * for await (const e of obj.events('events', { signal })) console.log(e.pid, e.comm);
   */
  events<N extends keyof S['events'] & string>(name: N, options: EventsOptions = {}): AsyncIterableIterator<S['events'][N]> {
    const maps = this.maps as Record<string, BpfMap>;
    const eventMaps = Object.keys(maps).filter((n) => maps[n]!.type === 'RINGBUF' || maps[n]!.type === 'PERF_EVENT_ARRAY');
    const map = maps[name];
    if (!map) throw new CollectionMapError(name, eventMaps, 'no such map');
    if (map.type !== 'RINGBUF' && map.type !== 'PERF_EVENT_ARRAY') throw new MapTypeError(name, map.type, ['RINGBUF', 'PERF_EVENT_ARRAY']);
    const record = this.records[name];
    if (record === undefined) {
      throw new CollectionMapError(name, eventMaps, "its record type is unknown: BTF does not say what a program writes into it; load the TypeScript source, or pass load(..., { records: { NAME: 'struct_name' } })");
    }
    let codec: Codec<unknown>;
    if (typeof record === 'string') {
      const id = this.spec.btf?.typeByName(record)?.id;
      if (id === undefined) throw new CollectionMapError(name, eventMaps, `the object's BTF has no type '${record}' for its records`);
      codec = btfCodec(this.spec.btf!, id);
    } else codec = record;
    if (!recordReader) throw new NotSupportedError('events', "no record reader is registered: import tsbpf's events module (it registers one)");
    const reader = recordReader(map, codec, { ...options, ended: () => this.readers.delete(reader) });
    this.readers.add(reader);
    return reader as AsyncIterableIterator<S['events'][N]>;
  }

  /** Readers made by events() and not ended: closed before the maps they read. */
  private readonly readers = new Set<Disposable>();

  /** Removes the pins this load created (maps declared LIBBPF_PIN_BY_NAME that did not exist yet). */
  unpinMaps(): void {
    for (const p of this.pinnedPaths) unpinPath(p);
  }

  /** Detaches links made by attachAll, then closes programs, maps and the BTF object. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.readers]) r[Symbol.dispose]();
    for (const l of this.links.reverse()) l[Symbol.dispose]();
    for (const s of this.stores) s.close();
    for (const p of Object.values(this.programs)) p.close();
    for (const m of Object.values(this.maps)) m.close();
    this.btfFd?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** For `await using`: closes at once (nothing to wait for). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

const u32 = (n: number): Uint8Array => new Uint8Array(Uint32Array.of(n).buffer);

/** libbpf's poison call for a CO-RE relocation that could not be resolved (`call 0xbad2310`). */
const CORE_POISON = 0xbad2310;

/** A verifier rejection caused by a poisoned instruction, said in words. */
function explainPoison(err: VerifierError, p: ProgramSpec): VerifierError {
  const m = /unknown#(\d+)/.exec(err.reason);
  if (!m) return err;
  const id = Number(m[1]);
  let why: string | undefined;
  if (id === CORE_POISON) why = 'a CO-RE relocation that could not be resolved against this kernel (the field, type or enum value does not exist here) was poisoned, and this code is reachable';
  else if (id >= POISON_CALL_KFUNC_BASE && id < POISON_CALL_KFUNC_BASE + 1000) {
    const names = [...new Set(p.references.filter((r) => r.kind === 'kfunc').map((r) => (r as { name: string }).name))];
    why = `a call to a __weak kfunc this kernel lacks${names.length ? ` (one of ${names.join(', ')})` : ''} is reachable: guard it with if (bpf_ksym_exists(func))`;
  }
  if (!why) return err;
  return new VerifierError(err.program, err.errno, err.log, `${err.reason}: ${why}`, err.insn, err.source);
}

/** Maps an instruction index of `before` to the index starting at the same slot in `after`. */
function reindex(before: readonly Instruction[], after: readonly Instruction[]): (index: number) => number {
  const indexAtSlot = new Map<number, number>();
  let slot = 0;
  after.forEach((insn, i) => {
    indexAtSlot.set(slot, i);
    slot += slotCount(insn);
  });
  const slotOf: number[] = [];
  slot = 0;
  for (const insn of before) {
    slotOf.push(slot);
    slot += slotCount(insn);
  }
  return (index) => indexAtSlot.get(slotOf[index] ?? -1) ?? index;
}

interface ProgramContext {
  maps: Record<string, BpfMap>;
  btfFd: Fd | undefined;
  ksyms: KsymResolver;
  kernel: () => Btf;
  logLevel: 1 | 2 | undefined;
}

/** Relocates and loads one program. */
function loadProgram(p: ProgramSpec, spec: ObjectSpec, ctx: ProgramContext): Program {
  // References first: their indices, like the CO-RE records', count the spec's instructions.
  let insns = applyReferences(p, p.instructions, { mapFd: (name) => ctx.maps[name]?.fd.value, ksyms: ctx.ksyms });
  let funcInfos = p.funcInfos;
  let lineInfos = p.lineInfos;
  if (p.coreRelos.length > 0) {
    if (!spec.btf) throw new TsbpfError(`program '${p.name}' has CO-RE relocations but the object has no BTF`);
    const relocated = relocateCore(insns, p.coreRelos, spec.btf, ctx.kernel());
    if (relocated.length !== insns.length) {
      // A poisoned ld_imm64 becomes two one-slot instructions: slots stay, indices shift.
      const at = reindex(insns, relocated);
      funcInfos = funcInfos.map((f) => ({ ...f, index: at(f.index) }));
      lineInfos = lineInfos.map((l) => ({ ...l, index: at(l.index) }));
    }
    insns = relocated;
  }

  let attachBtfId: number | undefined;
  let attachBtfObj: Fd | undefined;
  if (p.sectionDef?.attachBtf) {
    const target = attachTarget(p, ctx.kernel());
    attachBtfId = target.btfId;
    if (target.module) {
      attachBtfObj = moduleBtfFd(target.module);
      if (!attachBtfObj) throw new TsbpfError(`program '${p.name}': module '${target.module}' has BTF in /sys/kernel/btf but no BTF object in the kernel`);
    }
  }
  const flags = (p.sectionDef?.sleepable ? F_SLEEPABLE : 0) | (p.sectionDef?.xdpFrags ? F_XDP_HAS_FRAGS : 0);
  const type = p.progType as ProgTypeName;
  try {
    const prog = Program.load({
      type,
      instructions: insns,
      license: p.license,
      name: p.name,
      expectedAttachType: p.attachType as AttachTypeName | undefined,
      attachBtfId,
      attachBtfObjFd: attachBtfObj?.value,
      flags: flags || undefined,
      kernelVersion: type === 'KPROBE' ? p.kernelVersion || kernelVersionCode() : p.kernelVersion || undefined,
      btf: ctx.btfFd ? { fd: ctx.btfFd.value, funcInfos, lineInfos } : undefined,
      fdArray: ctx.ksyms.fdArray.length > 1 ? ctx.ksyms.fdArray : undefined,
      logLevel: ctx.logLevel,
    });
    prog.spec = p;
    return prog;
  } catch (err) {
    if (err instanceof VerifierError) throw explainPoison(err, p);
    // EINVAL without a verifier log: is it the program type this kernel lacks?
    if (err instanceof SyscallError && err.errno === Errno.EINVAL) {
      const probe = probeProgramType(type);
      if (!probe.available) throw new NotSupportedError(`program '${p.name}' (BPF_PROG_TYPE_${type})`, probe.reason);
    }
    throw err;
  } finally {
    attachBtfObj?.close();
  }
}
