/**
 * What each export of tsbpf/lang means to the compiler. A kernel program refers to the lang
 * module only through its imports; this table turns an imported name into the construct the
 * lowering handles (a type, a map class, a declarator, a helper namespace, a constant object).
 */
import { INT, type IntName, type IntType } from './types.js';

/** Map classes: TypeScript name -> map type (as in MapType) and operations. */
export const MAP_CLASSES: Record<string, { type: string; keyed: boolean; value: boolean }> = {
  HashMap: { type: 'HASH', keyed: true, value: true },
  LruHashMap: { type: 'LRU_HASH', keyed: true, value: true },
  PerCpuHashMap: { type: 'PERCPU_HASH', keyed: true, value: true },
  LruPerCpuHashMap: { type: 'LRU_PERCPU_HASH', keyed: true, value: true },
  ArrayMap: { type: 'ARRAY', keyed: true, value: true },
  PerCpuArrayMap: { type: 'PERCPU_ARRAY', keyed: true, value: true },
  LpmTrie: { type: 'LPM_TRIE', keyed: true, value: true },
  RingBuf: { type: 'RINGBUF', keyed: false, value: true },
  PerfEventArray: { type: 'PERF_EVENT_ARRAY', keyed: false, value: true },
  ProgArray: { type: 'PROG_ARRAY', keyed: false, value: false },
  StackTrace: { type: 'STACK_TRACE', keyed: false, value: false },
  Queue: { type: 'QUEUE', keyed: false, value: true },
  Stack: { type: 'STACK', keyed: false, value: true },
  BloomFilter: { type: 'BLOOM_FILTER', keyed: false, value: true },
};

/** Program declarators. */
export const DECLARATORS = new Set(['tracepoint', 'rawTracepoint', 'tpBtf', 'fentry', 'fexit', 'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt', 'cgroupDev', 'cgroupSkb', 'cgroupSock', 'xdp', 'tc', 'socketFilter', 'lsm', 'perfEvent']);

/** Free functions the lowering knows. */
export const FUNCTIONS = new Set(['zero', 'strEq', 'strCopy', 'byteAt', 'setByte', 'boundedLoop', 'be16', 'be32', 'be64', 'license', 'constant', 'packetAt', 'packetLength']);

/** Integer type names, which are also conversion functions. */
export const INT_NAMES = new Set<string>(Object.keys(INT) as IntName[]);

/** Type-only names. */
export const TYPE_NAMES = new Set(['bool', 'FixedArray', 'CharArray', 'Comm', 'Ptr', 'SpinLock', 'Address', 'ProgramResult']);

/** Constant objects (enums) of the lang module. */
export const CONSTANT_OBJECTS: Record<string, Record<string, number>> = {
  XdpAction: { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 },
  TcAction: { UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7 },
  UpdateFlags: { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 },
};

/**
 * The type a constant object names as a type (`f as UpdateFlags`, `let v: XdpAction`): the
 * 32-bit integer that holds every member, as a C enum's underlying type (unsigned unless a
 * member is negative), matching the number type tsbpf/lang declares for it.
 */
export function constantsType(name: string): IntType {
  return Object.values(CONSTANT_OBJECTS[name]!).some((v) => v < 0) ? INT.i32 : INT.u32;
}

/** What an imported lang name is. */
export type LangExport =
  | { kind: 'int'; name: IntName }
  | { kind: 'type'; name: string }
  | { kind: 'map'; name: string }
  | { kind: 'declarator'; name: string }
  | { kind: 'function'; name: string }
  | { kind: 'helpers' }
  | { kind: 'constants'; name: string }
  | { kind: 'kernel'; cName: string };

/** Whether an import specifier names the lang module. */
export function isLangModule(specifier: string): boolean {
  return specifier === 'tsbpf/lang' || /(^|\/)lang(\/index(\.[cm]?[jt]s)?)?$/.test(specifier);
}

/**
 * The meaning of lang export `name`; kernel struct names (TaskStruct, task_struct) resolve
 * through `kernelName`.
 */
export function langExport(name: string, kernelName: (n: string) => string | undefined): LangExport | undefined {
  if (INT_NAMES.has(name)) return { kind: 'int', name: name as IntName };
  if (TYPE_NAMES.has(name)) return { kind: 'type', name };
  if (name in MAP_CLASSES) return { kind: 'map', name };
  if (DECLARATORS.has(name)) return { kind: 'declarator', name };
  if (FUNCTIONS.has(name)) return { kind: 'function', name };
  if (name === 'helpers') return { kind: 'helpers' };
  if (name in CONSTANT_OBJECTS) return { kind: 'constants', name };
  const c = kernelName(name);
  if (c) return { kind: 'kernel', cName: c };
  return undefined;
}
