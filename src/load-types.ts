/**
 * The user-side types of a kernel module written in tsbpf/lang, computed from the module's own
 * declarations: `load<typeof Exec>(url)` types the collection's maps, programs and events from
 * `import type * as Exec from './exec.bpf.js'`, with no code generation. Only types live here;
 * the values come from the object's BTF at run time (ObjectMap, Collection.events), whose
 * codecs produce exactly these shapes.
 */
import type { BtfValue } from './kernel/codec-btf.js';
import type { UntypedShape } from './kernel/collection.js';
import type { BpfMap } from './kernel/map.js';
import type { ObjectMap } from './kernel/map-object.js';
import type { Program } from './kernel/program.js';
import type * as lang from './lang/index.js';

/**
 * A dialect type as user space sees it: branded integers of up to 32 bits are numbers, 64-bit
 * ones bigints, `CharArray<N>`/`Comm` strings, `FixedArray<T, N>` arrays, interfaces objects
 * of their fields (what the BTF codecs decode and encode).
 *
 * @example
 * type E = Plain<{ pid: u32; comm: Comm; stack: FixedArray<u64, 4> }>; // { pid: number; comm: string; stack: bigint[] }
 */
export type Plain<T> = T extends bigint
  ? bigint
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends string
        ? string
        : T extends readonly (infer E)[]
          ? Plain<E>[]
          : T extends object
            ? { [K in keyof T as K extends string ? K : never]: Plain<T[K]> }
            : never;

/** A keyed map declaration, per-CPU or not, as declared with tsbpf/lang. */
type KeyedDecl = lang.HashMap<unknown, unknown> | lang.LruHashMap<unknown, unknown> | lang.LpmTrie<unknown, unknown> | lang.ArrayMap<unknown>;
type PerCpuDecl = lang.PerCpuHashMap<unknown, unknown> | lang.LruPerCpuHashMap<unknown, unknown> | lang.PerCpuArrayMap<unknown>;

/** Key and value of a declaration (from its `lookup` signature, which every keyed map has). */
type KeyOf<D> = D extends { lookup(key: infer K): unknown } ? K : never;
type ValueOf<D> = D extends { lookup(key: never): infer V } ? Exclude<V, undefined> : never;

/** The live map a declaration gives: an ObjectMap of plain keys and values for keyed maps (per-CPU values: one per CPU). */
export type MapHandle<D> = D extends { readonly type: PerCpuDecl['type'] }
  ? ObjectMap<Plain<KeyOf<D>>, Plain<ValueOf<D>>[]>
  : D extends { readonly type: KeyedDecl['type'] }
    ? ObjectMap<Plain<KeyOf<D>>, Plain<ValueOf<D>>>
    : BpfMap;

/** The record type of a ring buffer or perf event array declaration. */
type RecordOf<D> = D extends lang.RingBuf<infer T> ? T : D extends lang.PerfEventArray<infer T> ? T : never;

/** Names of a module's exports that are map declarations. */
export type MapNames<M> = { [K in keyof M]: M[K] extends lang.MapDescriptor ? K : never }[keyof M] & string;
/** Names of a module's exports that are program declarations. */
export type ProgramNames<M> = { [K in keyof M]: M[K] extends lang.ProgramDescriptor ? K : never }[keyof M] & string;
/** Names of a module's ring buffers and perf event arrays. */
export type EventNames<M> = { [K in keyof M]: M[K] extends { readonly type: 'RINGBUF' | 'PERF_EVENT_ARRAY' } ? K : never }[keyof M] & string;

/**
 * What a collection loaded from module M holds (see CollectionShape); `unknown` (no module
 * given) is the untyped shape.
 */
export type ShapeOf<M> = unknown extends M
  ? UntypedShape
  : {
      maps: { [K in MapNames<M>]: MapHandle<M[K]> };
      programs: { [K in ProgramNames<M>]: Program };
      events: { [K in EventNames<M>]: Plain<RecordOf<M[K]>> };
    };

/** Names of a module's `constant<T>()` exports. */
export type ConstantNames<M> = { [K in keyof M]: M[K] extends { readonly __tsbpfConstant: unknown } ? K : never }[keyof M] & string;
/** The T of a `constant<T>()` declaration. */
type ConstantValue<D> = D extends { readonly __tsbpfConstant: infer T } ? T : never;

/**
 * The `constants` load option of module M: each `constant<T>()` export by name, as plain T;
 * for an untyped load, any name and BTF value.
 *
 * @example
 * load<typeof Exec>(url, { constants: { targetPid: process.pid } }); // targetPid: number
 */
export type ConstantsOf<M> = unknown extends M ? Readonly<Record<string, BtfValue>> : { readonly [K in ConstantNames<M>]?: Plain<ConstantValue<M[K]>> };
