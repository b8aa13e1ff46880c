/**
 * tsbpf's TypeScript-to-BPF compiler beside clang, on the kernel programs of the examples
 * (issue 4, "Performance"). Each example's TypeScript kernel side lives with the example
 * (examples/ts/DIR/NAME.bpf.ts) and has a C twin with the same logic here
 * (bench/compiler/NAME.bpf.c). For each, in one run:
 *
 *  - instructions: instruction slots in the object (ld_imm64 counts 2, as the kernel counts),
 *    tsbpf's vs `clang -O2 -g -target bpf`'s; goal: tsbpf <= 1.1x clang;
 *  - verifier_processed: the verifier's "processed N insns" for each program, read back as
 *    bpf_prog_info.verified_insns (the kernel sets both from env->insn_processed); goal: every
 *    program of both objects accepted;
 *  - compile_ms: clang as a subprocess (median of --rounds runs); tsbpf in process
 *    (compileFile, median of warm runs, plus the first call, plus the median of compiles that
 *    parse the kernel BTF again each time: what the per-process BTF cache saves), and the whole
 *    `tsbpf build` command as a subprocess when the CLI has it; goal: tsbpf <= 0.5x clang.
 *
 * One JSON object per line, per example and figure, with the goal and whether it was met.
 * While the compiler is not there the tsbpf half is one line saying "compiler not available:
 * <reason>" and the figures carry the clang side alone. Loading needs root (the verifier
 * figures are null with the reason otherwise).
 *
 *   npm run build && node dist/bench/compiler/run.js [--rounds N] [--only NAME] [--clang clang,clang-19]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slotCount } from '../../src/asm/instruction.js';
import { Collection } from '../../src/kernel/collection.js';
import { readObject, type ObjectSpec } from '../../src/object/index.js';

/** The examples of issue 4 (examples/ts/<name>/<file>.bpf.ts) and their C twins (bench/compiler/<file>.bpf.c). */
const EXAMPLES = [
  { name: 'cgroup-dev', file: 'cgroup_dev', what: "Rucy's cgroup/dev program: 0 for minor 9, else 1" },
  { name: 'hello', file: 'hello', what: 'execve -> ring buffer {pid, comm}' },
  { name: 'syscount', file: 'syscount', what: 'raw_tracepoint/sys_enter -> hash map comm -> count' },
  { name: 'exits', file: 'exits', what: 'tp_btf/sched_process_exit, task->real_parent->tgid (CO-RE) -> ring buffer' },
  { name: 'readlat', file: 'readlat', what: 'read() latency: start per tid (hash), log2 slot (array)' },
] as const;

const GOAL_INSNS = 1.1;
const GOAL_TIME = 0.5;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const ROUNDS = Number(argValue('--rounds') ?? 7);
const ONLY = argValue('--only');
const CLANGS = (argValue('--clang') ?? 'clang,clang-19').split(',').filter((c) => spawnSync(c, ['--version']).status === 0);

const SRC = fileURLToPath(new URL('../../../bench/compiler/', import.meta.url));
const EXAMPLES_TS = fileURLToPath(new URL('../../../examples/ts/', import.meta.url));
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(DIST, 'src/cli/main.js');
const CLANG_FLAGS = ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify({ bench: 'compiler', ...o }));
const message = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0]! : String(e));

/** The part of the compiler's API this bench uses (src/compiler/index.ts). */
interface CompilerApi {
  compileFile(path: string, options?: Record<string, unknown>): { object: Uint8Array; diagnostics?: unknown[] } | Promise<{ object: Uint8Array; diagnostics?: unknown[] }>;
}

/** Imports the compiler, or says why it cannot be used. */
async function loadCompiler(): Promise<{ api: CompilerApi; importMs: number } | { reason: string }> {
  const url = new URL('../../src/compiler/index.js', import.meta.url);
  if (!existsSync(url)) return { reason: `${fileURLToPath(url)} does not exist (src/compiler/index.ts not written or not built yet)` };
  const t0 = performance.now();
  try {
    const mod = (await import(url.href)) as Partial<CompilerApi>;
    if (typeof mod.compileFile !== 'function') return { reason: 'src/compiler/index.ts exports no compileFile' };
    return { api: mod as CompilerApi, importMs: performance.now() - t0 };
  } catch (e) {
    return { reason: `importing it failed: ${message(e)}` };
  }
}

/** Whether `tsbpf build` exists (the CLI lists it in its help). */
function cliHasBuild(): boolean {
  if (!existsSync(CLI)) return false;
  const r = spawnSync(process.execPath, [CLI, 'build', '--help'], { encoding: 'utf8' });
  return r.status === 0 && /build/.test(r.stdout);
}

/** Instruction slots per program, and their sum. */
function instructionCounts(spec: ObjectSpec): { total: number; programs: Record<string, number> } {
  const programs: Record<string, number> = {};
  let total = 0;
  for (const p of spec.programs) {
    const n = p.instructions.reduce((s, i) => s + slotCount(i), 0);
    programs[p.name] = n;
    total += n;
  }
  return { total, programs };
}

/** Loads the object; each program's verified instruction count, or why it was not loaded. */
function verify(spec: ObjectSpec, objectName: string): { accepted: boolean; total: number | null; programs: Record<string, number>; error?: string } {
  try {
    using coll = Collection.load(spec, { objectName });
    const programs: Record<string, number> = {};
    let total = 0;
    for (const [name, prog] of Object.entries(coll.programs)) {
      const n = prog.info().verifiedInstructions;
      programs[name] = n;
      total += n;
    }
    return { accepted: true, total, programs };
  } catch (e) {
    return { accepted: false, total: null, programs: {}, error: `${(e as Error).name}: ${message(e)}` };
  }
}

/** Wall-clock ms of `fn`. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

interface Side {
  bytes: Uint8Array;
  timesMs: number[];
  firstMs?: number;
  /** Median of compiles given a fresh copy of the kernel BTF each time (its parse not cached). */
  uncachedBtfMs?: number;
  cliMs?: number;
}

/** The kernel BTF the compiler reads, when there is one (for the uncached figure). */
const VMLINUX = '/sys/kernel/btf/vmlinux';

function clangSide(clang: string, src: string, out: string): Side {
  const timesMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) timesMs.push(timed(() => execFileSync(clang, [...CLANG_FLAGS, src, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] })));
  return { bytes: new Uint8Array(readFileSync(out)), timesMs };
}

async function tsbpfSide(api: CompilerApi, src: string, out: string, cli: boolean): Promise<Side> {
  const timesMs: number[] = [];
  let bytes: Uint8Array | undefined;
  let firstMs = 0;
  for (let i = 0; i <= ROUNDS; i++) {
    const t0 = performance.now();
    const r = await api.compileFile(src);
    const ms = performance.now() - t0;
    if (i === 0) firstMs = ms;
    else timesMs.push(ms);
    bytes = r.object;
  }
  // The compiler keeps parsed kernel BTF per process; a new array each time defeats that.
  let uncachedBtfMs: number | undefined;
  if (existsSync(VMLINUX)) {
    const btf = new Uint8Array(readFileSync(VMLINUX));
    const uncached: number[] = [];
    for (let i = 0; i < ROUNDS; i++) uncached.push(timed(() => void api.compileFile(src, { kernelBtf: btf.slice() })));
    uncachedBtfMs = median(uncached);
  }
  let cliMs: number | undefined;
  if (cli) {
    const cliTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      cliTimes.push(
        timed(() => {
          const r = spawnSync(process.execPath, [CLI, 'build', src, '-o', out], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`tsbpf build failed: ${r.stderr.trim()}`);
        }),
      );
    }
    cliMs = median(cliTimes);
  }
  return { bytes: bytes!, timesMs, firstMs, uncachedBtfMs, cliMs };
}

const versionOf = (clang: string): string => /version ([\d.]+)/.exec(execFileSync(clang, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
const root = process.geteuid?.() === 0;

const compiler = await loadCompiler();
const cli = 'api' in compiler && cliHasBuild();
emit({
  figure: 'setup',
  rounds: ROUNDS,
  clang: Object.fromEntries(CLANGS.map((c) => [c, versionOf(c)])),
  kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  node: process.version,
  tsbpf: 'api' in compiler ? { importMs: r2(compiler.importMs), cliBuild: cli } : null,
});
if (!('api' in compiler)) emit({ figure: 'tsbpf', error: `compiler not available: ${compiler.reason}` });

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-compiler-'));
try {
  for (const ex of EXAMPLES) {
    if (ONLY && ex.name !== ONLY) continue;
    const cSrc = join(SRC, `${ex.file}.bpf.c`);
    const tsSrc = join(EXAMPLES_TS, ex.name, `${ex.file}.bpf.ts`);
    const clangs = CLANGS.map((c) => {
      const side = clangSide(c, cSrc, join(dir, `${ex.file}.${c}.o`));
      const spec = readObject(side.bytes);
      return { clang: c, side, insns: instructionCounts(spec), verified: root ? verify(spec, ex.file) : undefined };
    });
    let ts: { side: Side; insns: ReturnType<typeof instructionCounts>; verified: ReturnType<typeof verify> | undefined } | { error: string };
    if ('api' in compiler) {
      try {
        const side = await tsbpfSide(compiler.api, tsSrc, join(dir, `${ex.file}.ts.o`), cli);
        const spec = readObject(side.bytes);
        ts = { side, insns: instructionCounts(spec), verified: root ? verify(spec, ex.file) : undefined };
      } catch (e) {
        ts = { error: `${(e as Error).name}: ${message(e)}` };
      }
    } else {
      ts = { error: 'compiler not available' };
    }
    const base = clangs[0]!;
    const tsOk = 'side' in ts ? ts : undefined;
    if (!tsOk && 'api' in compiler) emit({ example: ex.name, figure: 'tsbpf', error: (ts as { error: string }).error });

    // Instructions.
    const ratio = tsOk ? r2(tsOk.insns.total / base.insns.total) : null;
    emit({
      example: ex.name,
      figure: 'instructions',
      unit: 'insn slots',
      tsbpf: tsOk?.insns.total ?? null,
      ...Object.fromEntries(clangs.map((c) => [c.clang, c.insns.total])),
      ratio,
      goal: `tsbpf <= ${GOAL_INSNS}x ${base.clang}`,
      met: ratio === null ? null : ratio <= GOAL_INSNS,
      programs: { tsbpf: tsOk?.insns.programs ?? null, ...Object.fromEntries(clangs.map((c) => [c.clang, c.insns.programs])) },
    });

    // Verifier.
    const v = (x: ReturnType<typeof verify> | undefined) => (x === undefined ? 'not loaded: needs root' : x.accepted ? x.total : `rejected: ${x.error}`);
    const accepted = [...clangs.map((c) => c.verified), ...(tsOk ? [tsOk.verified] : [])];
    emit({
      example: ex.name,
      figure: 'verifier_processed',
      unit: 'insns',
      tsbpf: tsOk ? v(tsOk.verified) : null,
      ...Object.fromEntries(clangs.map((c) => [c.clang, v(c.verified)])),
      ratio: tsOk?.verified?.total && base.verified?.total ? r2(tsOk.verified.total / base.verified.total) : null,
      goal: 'every program of both objects accepted',
      met: !root ? null : !tsOk ? null : accepted.every((x) => x?.accepted === true),
      programs: { tsbpf: tsOk?.verified?.programs ?? null, ...Object.fromEntries(clangs.map((c) => [c.clang, c.verified?.programs ?? null])) },
    });

    // Compile time.
    const clangMs = median(base.side.timesMs);
    const tsMs = tsOk ? median(tsOk.side.timesMs) : null;
    const cliMs = tsOk?.side.cliMs ?? null;
    emit({
      example: ex.name,
      figure: 'compile_ms',
      unit: 'ms (median)',
      tsbpf: tsMs === null ? null : r2(tsMs),
      tsbpfFirstCall: tsOk?.side.firstMs !== undefined ? r2(tsOk.side.firstMs) : null,
      tsbpfUncachedBtf: tsOk?.side.uncachedBtfMs !== undefined ? r2(tsOk.side.uncachedBtfMs) : null,
      tsbpfBuildCommand: cliMs === null ? null : r2(cliMs),
      ...Object.fromEntries(clangs.map((c) => [c.clang, r2(median(c.side.timesMs))])),
      ratio: tsMs === null ? null : r2(tsMs / clangMs),
      ratioBuildCommand: cliMs === null ? null : r2(cliMs / clangMs),
      goal: `tsbpf <= ${GOAL_TIME}x ${base.clang} (in process; the build command beside clang's process)`,
      met: tsMs === null ? null : tsMs / clangMs <= GOAL_TIME,
      metBuildCommand: cliMs === null ? null : cliMs / clangMs <= GOAL_TIME,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
