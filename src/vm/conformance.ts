/**
 * Running bpf_conformance tests: one test file against the VM, and the runner's plugin
 * protocol (program and memory as hex bytes in, r0 as hex out). At start r1 points to the
 * test's memory (0 when it has none), r2 holds its length, and helper 5 returns r1.
 */
import { parseUbpfTest, type UbpfTest } from '../asm/ubpf.js';
import { ParseError, TsbpfError } from '../errors.js';
import { conformanceHelpers } from './helpers.js';
import { type Engine, Vm } from './vm.js';

/** Options of {@link runConformanceTest}. */
export interface ConformanceOptions {
  /** Engine to run on (default 'jit'). */
  engine?: Engine;
  /** The test is a negative one (it lives under a `negative` folder): it must fail. */
  negative?: boolean;
  /**
   * Judge like the upstream runner talking to a plugin: program and memory go through the hex
   * protocol, an `-- error` test passes only when the error text matches exactly, and a test
   * that runs without error is compared with its `-- result` (0 when absent).
   */
  pluginLike?: boolean;
  /** File name for messages. */
  file?: string;
}

/** The verdict on one test file. */
export interface ConformanceOutcome {
  /** True when the test behaved as required (a negative test: when it failed). */
  passed: boolean;
  /** Why it failed, or for a negative test why it was rejected. */
  reason: string;
  /** r0 when the program ran to completion. */
  value?: bigint;
  /** The error message when parsing, loading or running failed. */
  error?: string;
}

/** Parses hex bytes separated by blanks (`b7 00  01`); throws ParseError on anything else. */
export function parseHexBytes(text: string, what = 'hex bytes'): Uint8Array {
  const out: number[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(m[0])) throw new ParseError(what, 1, m.index + 1, `invalid byte '${m[0]}': expected two hex digits`);
    out.push(parseInt(m[0], 16));
  }
  return Uint8Array.from(out);
}

/** Formats bytes as the upstream runner does: two lowercase hex digits and two spaces each. */
export function formatHexBytes(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0') + '  ';
  return s;
}

type Execution = { value: bigint } | { error: string };

function execute(program: Uint8Array, memory: Uint8Array, engine: Engine | undefined): Execution {
  try {
    const vm = new Vm(program, {
      helpers: conformanceHelpers(),
      engine,
      ...(memory.length > 0 ? { context: memory } : {}),
    });
    return { value: vm.run({ registers: { r2: BigInt(memory.length) } }) };
  } catch (e) {
    if (e instanceof TsbpfError) return { error: e.message };
    throw e;
  }
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function judge(test: UbpfTest, run: Execution, pluginLike: boolean): { ok: boolean; reason: string } {
  if ('error' in run) {
    if (test.error === undefined) return { ok: false, reason: `failed: ${run.error}` };
    if (pluginLike && run.error !== test.error) {
      return { ok: false, reason: `failed with '${run.error}' but expected '${test.error}'` };
    }
    return { ok: true, reason: `failed as expected: ${run.error}` };
  }
  if (test.error !== undefined && !pluginLike) {
    return { ok: false, reason: `expected an error${test.error ? ` (${test.error})` : ''} but r0 = ${hex(run.value)}` };
  }
  const expected = test.result ?? (pluginLike || test.error !== undefined ? 0n : undefined);
  if (expected === undefined) return { ok: false, reason: 'the file has neither -- result nor -- error' };
  if (run.value !== expected) return { ok: false, reason: `r0 = ${hex(run.value)}, expected ${hex(expected)}` };
  return { ok: true, reason: `r0 = ${hex(run.value)} as expected` };
}

/**
 * Runs one bpf_conformance test file (its text) and judges the result: r0 must equal
 * `-- result`, or the run must fail when the file has `-- error`. A negative test (one under
 * `negative/`) must be rejected: it passes unless it parses, loads and runs to exactly its
 * `-- result` (its `-- error`, even an empty one, says it must fail). With `pluginLike` a
 * negative test passes when the upstream runner's verdict is not a pass.
 */
export function runConformanceTest(text: string, options: ConformanceOptions = {}): ConformanceOutcome {
  const pluginLike = options.pluginLike ?? false;
  let test: UbpfTest;
  try {
    test = parseUbpfTest(text, options.file);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const reason = `does not parse: ${e.message}`;
    return options.negative ? { passed: true, reason: `rejected: ${reason}`, error: e.message } : { passed: false, reason, error: e.message };
  }
  const program = pluginLike ? parseHexBytes(formatHexBytes(test.program)) : test.program;
  const memory = pluginLike ? parseHexBytes(formatHexBytes(test.memory)) : test.memory;
  const run = execute(program, memory, options.engine);
  const verdict = judge(test, run, pluginLike);
  if (!options.negative) return { passed: verdict.ok, reason: verdict.reason, ...run };
  const accepted = pluginLike
    ? verdict.ok
    : 'value' in run && test.error === undefined && test.result !== undefined && run.value === test.result;
  return accepted
    ? { passed: false, reason: `negative test was not rejected: ${verdict.reason}`, ...run }
    : { passed: true, reason: `rejected: ${'error' in run ? run.error : verdict.reason}`, ...run };
}

/** What a plugin invocation prints and returns. */
export interface PluginResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The plugin protocol of the bpf_conformance runner: `program` is the stdin line (hex bytes of
 * the bytecode), `memory` the optional argument (hex bytes). Prints r0 in hex and exits 0, or
 * prints the error on stderr and exits 1.
 */
export function runPluginProtocol(program: string, memory: string | undefined, engine?: Engine): PluginResult {
  try {
    const code = parseHexBytes(program, 'program');
    const mem = parseHexBytes(memory ?? '', 'memory');
    const run = execute(code, mem, engine);
    if ('error' in run) return { exitCode: 1, stdout: '', stderr: `${run.error}\n` };
    return { exitCode: 0, stdout: `${hex(run.value)}\n`, stderr: '' };
  } catch (e) {
    if (e instanceof TsbpfError) return { exitCode: 1, stdout: '', stderr: `${e.message}\n` };
    throw e;
  }
}
