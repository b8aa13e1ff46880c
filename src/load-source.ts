/**
 * Loading a kernel program from its TypeScript source: `load(new URL('./exec.bpf.ts',
 * import.meta.url))` compiles the source with tsbpf's compiler and loads the object, keeping the
 * object in an on-disk cache so the next start skips the compiler.
 *
 * The cache key is a SHA-256 over the source text, the compiler's identity (tsbpf's package
 * version plus a hash of the built compiler and of the layers it writes objects with), the
 * compile options and the kernel BTF the compiler types kernel structs against. Entries live
 * in `$TSBPF_CACHE_DIR`, else `$XDG_CACHE_HOME/tsbpf`, else `~/.cache/tsbpf`, one file per key,
 * written to a temporary name and renamed into place, so readers never see half an object and
 * concurrent loads of one source at worst compile it twice. A cache that cannot be created or
 * written is skipped (the load still works, compiling every time); an entry that does not parse
 * as an object is compiled again and replaced. The compiler itself is imported only here, so
 * loading a clang-built object never pays for it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, release } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collection, type CollectionOptions } from './kernel/collection.js';
import { readObject, type ObjectSpec } from './object/index.js';
import { recordTypes } from './load-records.js';

/** What compiling needs of a compiler: src/compiler's `compile`, or a stand-in in tests. */
export interface SourceCompiler {
  /** Compiles `source`; throws the compiler's typed error (CompileError) when it is wrong. */
  compile(source: string, options: SourceCompileOptions & { fileName: string }): { object: Uint8Array } | Promise<{ object: Uint8Array }>;
  /** Identifies the compiler's behaviour: a different version means different objects. */
  readonly version: string;
}

/** Options given to the compiler (part of the cache key). */
export interface SourceCompileOptions {
  /** Kernel BTF the compiler types kernel structs against (path or bytes); default /sys/kernel/btf/vmlinux. */
  kernelBtf?: string | Uint8Array;
}

/** Options of loading a TypeScript source, besides those of Collection.load. */
export interface SourceOptions {
  /** Options of the compile step. */
  compileOptions?: SourceCompileOptions;
  /**
   * Where compiled objects are kept; `false` turns the cache off. Default: $TSBPF_CACHE_DIR,
   * else $XDG_CACHE_HOME/tsbpf, else ~/.cache/tsbpf.
   */
  cacheDir?: string | false;
  /** The compiler to use instead of tsbpf's own (tests count compilations with a stand-in). */
  compiler?: SourceCompiler;
}

/** What {@link compileSource} gives. */
export interface CompiledSource {
  /** The source text. */
  source: string;
  /** The ELF object. */
  object: Uint8Array;
  /** The object as tsbpf's reader sees it. */
  spec: ObjectSpec;
  /** Whether it came from the cache (no compilation). */
  cached: boolean;
  /** The cache entry's path, when the cache was used. */
  cachePath: string | undefined;
  /** Why the cache was skipped, when it could not be read or written. */
  cacheProblem: string | undefined;
}

/** Whether a path names a TypeScript source (what load() compiles rather than reads as ELF). */
export function isTypeScriptSource(path: string): boolean {
  return /\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts');
}

/** The default cache directory (see the module comment). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSBPF_CACHE_DIR) return env.TSBPF_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tsbpf');
}

// ---- the compiler and its identity ----

/** Layers under dist/src whose code decides what the compiler writes. */
const COMPILER_LAYERS = ['compiler', 'lang', 'object', 'btf', 'asm', 'elf', 'uapi', 'bytes'];

let ownCompiler: Promise<SourceCompiler> | undefined;

/** Hash of every .js file of the layers above (memoised: the built files do not change under a running process). */
function compilerFingerprint(srcRoot: string): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        h.update(p.slice(srcRoot.length));
        h.update('\0');
        h.update(readFileSync(p));
      }
    }
  };
  for (const layer of COMPILER_LAYERS) walk(join(srcRoot, layer));
  return h.digest('hex').slice(0, 16);
}

function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tsbpf' && pkg.version) return pkg.version;
    } catch {
      // try the next
    }
  }
  return '0.0.0';
}

/** tsbpf's own compiler, imported on first use. */
export function tsbpfCompiler(): Promise<SourceCompiler> {
  ownCompiler ??= (async () => {
    const mod = await import('./compiler/index.js');
    const version = `tsbpf ${packageVersion()} compiler ${compilerFingerprint(fileURLToPath(new URL('.', import.meta.url)))}`;
    return {
      version,
      compile: (source: string, options: SourceCompileOptions & { fileName: string }) => mod.compile(source, options),
    };
  })();
  ownCompiler.catch(() => (ownCompiler = undefined));
  return ownCompiler;
}

// ---- the cache ----

/** What the kernel BTF option contributes to the key. */
function kernelBtfKey(kernelBtf: string | Uint8Array | undefined): string {
  if (kernelBtf instanceof Uint8Array) return `bytes:${createHash('sha256').update(kernelBtf).digest('hex')}`;
  const path = kernelBtf ?? '/sys/kernel/btf/vmlinux';
  try {
    const st = statSync(path);
    // vmlinux BTF belongs to the running kernel: its release and size identify it.
    return kernelBtf === undefined ? `vmlinux:${release()}:${st.size}` : `file:${path}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `missing:${path}`;
  }
}

/** The cache key of one compilation. */
export function cacheKey(source: string, fileName: string, compiler: SourceCompiler, options: SourceCompileOptions = {}): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, compiler: compiler.version, fileName, kernelBtf: kernelBtfKey(options.kernelBtf) }))
    .update('\0')
    .update(source)
    .digest('hex');
}

function readEntry(path: string): { object: Uint8Array; spec: ObjectSpec } | undefined {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
  try {
    return { object: bytes, spec: readObject(bytes) };
  } catch {
    return undefined; // not an object (damaged or foreign): compile again and replace it
  }
}

/** Writes an entry atomically; returns why it could not, or undefined. */
function writeEntry(dir: string, path: string, object: Uint8Array): string | undefined {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, object, { mode: 0o644 });
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
    return `the cache at ${dir} is not writable: ${(e as Error).message}`;
  }
}

/**
 * Compiles a TypeScript kernel program (a path or file URL), or takes the object from the cache
 * when this source was compiled before by the same compiler with the same options. A wrong
 * program throws the compiler's CompileError (file:line:column, message, hint).
 *
 * @example
 * const { object, cached } = await compileSource(new URL('./exec.bpf.ts', import.meta.url));
 */
export async function compileSource(source: string | URL, options: SourceOptions = {}): Promise<CompiledSource> {
  const path = source instanceof URL ? fileURLToPath(source) : source;
  const text = readFileSync(path, 'utf8');
  const fileName = basename(path);
  const compiler = options.compiler ?? (await tsbpfCompiler());
  const compileOptions = options.compileOptions ?? {};
  const dir = options.cacheDir === false ? undefined : (options.cacheDir ?? defaultCacheDir());
  const entry = dir === undefined ? undefined : join(dir, `${cacheKey(text, fileName, compiler, compileOptions)}.o`);
  if (entry) {
    const hit = readEntry(entry);
    if (hit) return { ...hit, source: text, cached: true, cachePath: entry, cacheProblem: undefined };
  }
  const { object } = await compiler.compile(text, { ...compileOptions, fileName });
  const spec = readObject(object);
  const problem = dir && entry ? writeEntry(dir, entry, object) : undefined;
  return { object, spec, source: text, cached: false, cachePath: problem ? undefined : entry, cacheProblem: problem };
}

/**
 * Compiles (or takes from the cache) and loads a TypeScript kernel program: what
 * `load('x.bpf.ts')` does. The collection's object name is the file name up to its first dot;
 * the record types of its ring buffers come from the source (see load-records.ts), so
 * `events()` decodes them.
 *
 * @example
 * await using obj = await loadSource(new URL('./exec.bpf.ts', import.meta.url));
 */
export async function loadSource(source: string | URL, options: CollectionOptions & SourceOptions = {}): Promise<Collection> {
  const { compileOptions: _c, cacheDir: _d, compiler: _k, ...collectionOptions } = options;
  const compiled = await compileSource(source, options);
  const path = source instanceof URL ? fileURLToPath(source) : source;
  return Collection.load(compiled.spec, {
    ...collectionOptions,
    objectName: options.objectName ?? basename(path).split('.')[0] ?? '',
    records: { ...recordTypes(compiled.source, basename(path)), ...options.records },
  });
}
