/**
 * Helpers of the compiler tests: compile a program (a whole module, or a body wrapped in a raw
 * tracepoint program, which needs neither tracefs nor kernel BTF), run it in the userspace VM
 * with its maps, and read the maps back.
 */
import assert from 'node:assert/strict';
import { compile, CompileError, type CompileResult } from '../../src/compiler/index.js';
import { vmForObject, type HelperEnvironment, type MapModel } from '../../src/vm/index.js';

/** The imports every wrapped test program gets. */
export const PRELUDE = `import { rawTracepoint, tracepoint, UpdateFlags, HashMap, LruHashMap, PerCpuHashMap, ArrayMap, PerCpuArrayMap, RingBuf, Queue, Stack, BloomFilter, LpmTrie, helpers as bpf, license, constant, zero, strEq, strCopy, byteAt, setByte, boundedLoop, be16, be32, be64, u8, u16, u32, u64, i8, i16, i32, i64, type bool, type Comm, type CharArray, type FixedArray, type Ptr } from 'tsbpf/lang';\n`;

/** A module with `decls` at the top level and `body` as a raw tracepoint program named prog. */
export function wrap(body: string, decls = ''): string {
  return `${PRELUDE}${decls}\nexport const prog = rawTracepoint('test', (ctx) => {\n${body}\n});\nlicense('GPL');\n`;
}

/** Compiles, turning a CompileError into a readable test failure. */
export function build(source: string, fileName = 'test.ts'): CompileResult {
  try {
    return compile(source, { fileName });
  } catch (e) {
    if (e instanceof CompileError) throw new Error(`unexpected compile error: ${e.message}\n${source}`);
    throw e;
  }
}

/** What a program did in the VM. */
export interface Run {
  r0: bigint;
  maps: Map<string, MapModel>;
  trace: string[];
  steps: number;
}

/** Little-endian bytes of u64 arguments, as a raw tracepoint's context. */
export function argsContext(args: Array<bigint | number>): Uint8Array {
  const ctx = new Uint8Array(96);
  const view = new DataView(ctx.buffer);
  args.forEach((a, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(a)), true));
  return ctx;
}

/** Runs program `name` of a compiled object in the VM (maps may be shared across runs). */
export function runObject(result: CompileResult, name: string, context: Uint8Array, options: { maps?: Map<string, MapModel>; env?: HelperEnvironment } = {}): Run {
  const { vm, maps } = vmForObject(result.spec, name, { ...(options.maps ? { maps: options.maps } : {}), ...(options.env ? { env: options.env } : {}) });
  const r0 = vm.run({ context });
  return { r0, maps, trace: vm.trace, steps: vm.steps };
}

/** Compiles `body` wrapped as a raw tracepoint program and runs it with `args`. */
export function run(body: string, args: Array<bigint | number> = [], decls = '', options: { maps?: Map<string, MapModel>; env?: HelperEnvironment } = {}): Run {
  return runObject(build(wrap(body, decls)), 'prog', argsContext(args), options);
}

/** r0 as a signed 32-bit number (what `return x` of an int gives). */
export function ret(r: Run): number {
  return Number(BigInt.asIntN(32, r.r0));
}

/** The compile error a source gives (fails when it compiles). */
export function compileError(source: string, fileName = 'test.ts'): CompileError {
  try {
    compile(source, { fileName });
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  throw new Error(`expected a compile error:\n${source}`);
}

/** Little-endian bytes of an unsigned integer. */
export function le(value: bigint | number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, BigInt(value));
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Reads a little-endian unsigned integer. */
export function readLe(bytes: Uint8Array | undefined, offset = 0, size = bytes ? bytes.length - offset : 0): bigint {
  if (!bytes) return -1n;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

const MARK = '/*!*/';

/** Compiles `marked` without its marker; checks the first error is at the marker. */
export function expectError(marked: string, message: RegExp, hint?: RegExp): CompileError {
  const at = marked.indexOf(MARK);
  assert.ok(at >= 0, 'the case marks where the error is');
  const source = marked.replace(MARK, '');
  const before = source.slice(0, at).split('\n');
  const line = before.length;
  const column = before[before.length - 1]!.length + 1;
  let error: CompileError | undefined;
  try {
    compile(source, { fileName: 'bad.ts' });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    error = e;
  }
  assert.ok(error, `expected a compile error matching ${message}`);
  const d = error.diagnostics[0]!;
  assert.match(d.message, message);
  assert.deepEqual({ file: d.file, line: d.line, column: d.column }, { file: 'bad.ts', line, column }, `${d.message} at ${d.line}:${d.column}`);
  assert.ok(d.hint.length > 0 && !d.hint.includes('\n'), 'a one-line hint');
  if (hint) assert.match(d.hint, hint);
  assert.equal(error.line, line);
  assert.equal(error.column, column);
  assert.match(error.message, new RegExp(`^bad\\.ts:${line}:${column}: `));
  return error;
}
