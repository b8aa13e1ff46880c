/**
 * The one-call loader: read a BPF object file built by clang, load it into the kernel, return
 * the live Collection. Everything it does is available step by step underneath: readObject()
 * (src/object), Collection.load() (src/kernel).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection, type CollectionOptions } from './kernel/collection.js';
import { readObject, weakExterns } from './object/index.js';
import type { SourceOptions } from './load-source.js';
import type { ConstantsOf, ShapeOf } from './load-types.js';
// Collection.events() reads through the events layer, which registers itself on import.
import './events/records.js';

/**
 * Options of {@link load}: those of Collection.load, plus for TypeScript sources those of the
 * compile step and its cache (see src/load-source.ts). With a module type M, `constants` takes
 * its `constant<T>()` exports by name, typed.
 */
export type LoadOptions<M = unknown> = Omit<CollectionOptions, 'constants'> & SourceOptions & { constants?: ConstantsOf<M> };

/**
 * Names of the externs (kconfig, ksyms, kfuncs) an object file declares __weak (STB_WEAK):
 * those that may be missing from the kernel. The reader records them in the spec (`weak`);
 * this reads the object for them.
 *
 * @example
 * weakExternsOf(readFileSync('x.bpf.o')); // Set { 'CONFIG_BPF_SYSCALL', 'bpf_task_acquire' }
 */
export function weakExternsOf(bytes: Uint8Array): Set<string> {
  return weakExterns(readObject(bytes));
}

/** 'exec' for 'exec.bpf.o': the name libbpf gives an object (its file name up to the first dot). */
export function objectNameOf(path: string): string {
  return basename(path).split('.')[0] ?? '';
}

/**
 * Loads a BPF object (a path, file URL, or its bytes) into the kernel: maps created (pinned ones
 * reused), constants set, externs resolved, programs verified. Dispose of the result (or call
 * `close()`) to unload; `attachAll()` attaches every program whose section says where.
 *
 * A path or URL ending in `.ts` is a kernel program in TypeScript (tsbpf/lang): it is compiled
 * by tsbpf's compiler, with the object cached on disk by source and compiler version (a wrong
 * program throws the compiler's CompileError; see src/load-source.ts).
 *
 * Typed: given the module's type (`load<typeof Exec>`, with `import type * as Exec from
 * './exec.bpf.js'`), the collection's `maps`, `programs` and `events()` are typed from the
 * module's declarations (see src/load-types.ts): a `HashMap<Comm, u64>` is an
 * `ObjectMap<string, bigint>`, a `RingBuf<ExecEvent>` gives `{ pid: number; comm: string }`
 * records. The types only describe what the run time does for every load: keyed maps decode
 * through the object's BTF, ring buffer records through the record type (from the source, or
 * `options.records` for an object file).
 *
 * Minimum kernel: what the object's program and map types need; 5.2+ for global variables.
 *
 * @example
 * await using obj = await load('exec.bpf.o', { constants: { target_pid: 1234 } });
 * obj.attachAll();
 * console.log(obj.variables.seen.get());
 *
 * import type * as Exec from './exec.bpf.js';
 * await using exec = await load<typeof Exec>(new URL('./exec.bpf.ts', import.meta.url)); // compiles (cached)
 * exec.attachAll();
 * for await (const e of exec.events('events')) console.log(e.pid, e.comm, exec.maps.counts.lookup(e.comm));
 */
export async function load<M = unknown>(object: string | URL | Uint8Array, typedOptions: LoadOptions<M> = {}): Promise<Collection<ShapeOf<M>>> {
  // Typed constants are plain values the BTF codecs take as they are.
  const options = typedOptions as LoadOptions;
  const path = typeof object === 'string' ? object : object instanceof URL ? fileURLToPath(object) : undefined;
  const { compileOptions: _c, cacheDir: _d, compiler: _k, ...collectionOptions } = options;
  // The shape is a type-level view of the same run-time collection (see ShapeOf).
  type Typed = Collection<ShapeOf<M>>;
  if (path !== undefined && /\.[cm]?ts$/.test(path)) return (await import('./load-source.js')).loadSource(path, options) as Promise<Collection> as Promise<Typed>;
  const bytes = path !== undefined ? new Uint8Array(await readFile(path)) : (object as Uint8Array);
  return Collection.load(readObject(bytes), {
    ...collectionOptions,
    objectName: options.objectName ?? (path !== undefined ? objectNameOf(path) : undefined),
  }) as Collection as Typed;
}
