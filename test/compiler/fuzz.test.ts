/**
 * Fuzzing the compiler. Robustness: random text, token soup and mutated valid programs either
 * compile or give a CompileError (never another exception, never a hang). Semantics: random
 * integer programs (expressions, ifs, loops, switches over u32/i32/u64 values) are compiled,
 * run in the VM and compared with the same program evaluated in JavaScript with C's wrapping
 * (random-programs.ts), which also stresses register allocation and spilling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compile, CompileError } from '../../src/compiler/index.js';
import { argsContext, build, PRELUDE, ret, runObject, wrap } from './support.js';
import { randomPrograms } from './random-programs.js';

/** Compiles; anything but success or a well-formed CompileError fails the test. */
function check(source: string): void {
  try {
    compile(source, { fileName: 'fuzz.ts' });
  } catch (e) {
    if (!(e instanceof CompileError)) throw new Error(`not a CompileError for ${JSON.stringify(source)}: ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.diagnostics.length > 0);
    for (const d of e.diagnostics) {
      assert.ok(d.line >= 1 && d.column >= 1, `position ${d.line}:${d.column}`);
      assert.ok(d.message.length > 0 && d.hint.length > 0);
      assert.ok(!d.message.startsWith('internal compiler error'), `compiler bug on ${JSON.stringify(source)}: ${d.message}`);
    }
  }
}

const VOCABULARY = [
  'const', 'let', 'var', 'if', 'else', 'for', 'while', 'do', 'switch', 'case', 'default', 'break', 'continue', 'return',
  'function', 'class', 'new', 'this', 'throw', 'try', 'catch', 'async', 'await', 'yield', 'of', 'in', 'typeof', 'as',
  'export', 'import', 'from', "'tsbpf/lang'", 'interface', 'type', 'enum', 'undefined', 'null', 'true', 'false',
  'u8', 'u32', 'u64', 'i32', 'i64', 'bool', 'Comm', 'FixedArray', 'CharArray', 'Ptr', 'zero', 'strEq', 'strCopy',
  'HashMap', 'RingBuf', 'rawTracepoint', 'tracepoint', 'xdp', 'cgroupDev', 'bpf', 'helpers', 'license', 'constant',
  'ctx', 'args', 'm', 'e', 'x', 'i', 'lookup', 'update', 'reserve', 'submit', 'increment', 'printk', 'pid', 'comm',
  '0', '1', '7', '255', '256', '0x7fffffff', '4294967296', '1n', '-1', '99999999999999999999', '1.5', "'%d'", '"s"', '`t`',
  '=', '==', '===', '!==', '+', '-', '*', '/', '%', '<<', '>>', '>>>', '&', '|', '^', '&&', '||', '??', '?.', '!', '~',
  '++', '--', '+=', '=>', '?', ':', ';', ',', '.', '(', ')', '{', '}', '[', ']', '<', '>', ' ', '\n',
];

test('random text gives an object or a CompileError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 80 }), check), { numRuns: 1500 });
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'(){}[];:=+-*/<>!?.,\'"`0123456789abcuinx \n'), maxLength: 60 }), check), { numRuns: 1500 });
});

test('token soup gives an object or a CompileError', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 30 }).map((t) => t.join(' ')), check), { numRuns: 1500 });
  // Soup inside a valid program body reaches the lowering, not just the parser.
  const body = fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 20 }).map((t) => wrap(`${t.join(' ')}\nreturn 0;`, 'const m = new HashMap<u32, u64>({ maxEntries: 8 });\ninterface E { a: u32; c: Comm }\nconst e = new RingBuf<E>({ size: 4096 });'));
  fc.assert(fc.property(body, check), { numRuns: 1500 });
});

/** Valid programs to mutate: the test programs and snippets of every construct. */
function corpus(): string[] {
  const dir = 'testdata/compiler';
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => readFileSync(`${dir}/${f}`, 'utf8'));
  const snippets = [
    wrap('let s: u32 = 0; for (let i = 0; i < 10; i++) { if (i === 3) continue; s += i; } return s;'),
    wrap('const a = u32(ctx.args[0]); switch (a) { case 1: return 2; default: return 3; }'),
    wrap('const v = m.lookup(1); if (!v) return 0; return u32(v);', 'const m = new HashMap<u32, u64>({ maxEntries: 8 });'),
    wrap("const c = bpf.comm(); return strEq(c, 'bash') ? 1 : 0;"),
    wrap('const p: P = { x: 1, y: 2 }; return f(p);', 'interface P { x: u32; y: u32 }\nfunction f(p: P): u32 { let s: u32 = 0; s += p.x; s += p.y; return s; }'),
  ];
  return [...files, ...snippets];
}

type Edit = { kind: 'delete' | 'insert' | 'replace' | 'duplicate'; at: number; len: number; text: string };

function applyEdit(src: string, e: Edit): string {
  const at = e.at % (src.length + 1);
  const end = Math.min(src.length, at + e.len);
  switch (e.kind) {
    case 'delete':
      return src.slice(0, at) + src.slice(end);
    case 'insert':
      return src.slice(0, at) + e.text + src.slice(at);
    case 'replace':
      return src.slice(0, at) + e.text + src.slice(end);
    case 'duplicate':
      return src.slice(0, end) + src.slice(at, end) + src.slice(end);
  }
}

test('mutated valid programs give an object or a CompileError', () => {
  const sources = corpus();
  const edit = fc.record({
    kind: fc.constantFrom<Edit['kind']>('delete', 'insert', 'replace', 'duplicate'),
    at: fc.nat(4000),
    len: fc.nat(12),
    text: fc.oneof(fc.constantFrom(...VOCABULARY), fc.string({ maxLength: 6 })),
  });
  fc.assert(
    fc.property(fc.nat(sources.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 }), (k, edits) => {
      check(edits.reduce((s, e) => applyEdit(s, e), sources[k]!));
    }),
    { numRuns: 1500 },
  );
});

test('deeply nested expressions give a CompileError, not a stack overflow', () => {
  check(wrap(`return ${'('.repeat(5000)}1${')'.repeat(5000)};`));
  check(wrap(`return u32(${'ctx.args[0] + '.repeat(3000)}1n);`));
});

test('random integer programs compute in the VM what they compute in JavaScript', () => {
  fc.assert(
    fc.property(randomPrograms(), ({ body, args, want }) => {
      const source = wrap(body);
      let got: bigint;
      try {
        got = BigInt.asUintN(32, BigInt(ret(runObject(build(source), 'prog', argsContext(args)))));
      } catch (e) {
        if (process.env.FUZZ_DEBUG) console.error(`FAILED ${(e as Error).message}\ninputs ${args.join(' ')}`);
        throw e;
      }
      if (got !== want && process.env.FUZZ_DEBUG) console.error(`FAILED got ${got} want ${want}\n${source}\ninputs ${args.join(' ')}`);
      assert.equal(got, want, `${source}\ninputs ${args.join(' ')}`);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test('the prelude is valid', () => {
  assert.ok(PRELUDE.includes('tsbpf/lang'));
});
