/**
 * Compile errors: every class of bad input gives a CompileError at the exact TypeScript
 * position (file:line:column) with a message and a one-line hint. Each case marks the expected
 * position with `/*!*\/`, which the test removes before compiling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, CompileError } from '../../src/compiler/index.js';
import { expectError, PRELUDE, wrap } from './support.js';

const MAP = 'interface S { a: u32 }\nconst ms = new HashMap<u32, S>({ maxEntries: 4 });\nconst rb = new RingBuf<S>({ size: 4096 });\n';

test('syntax errors come from the parser with their position', () => {
  expectError('export const x = /*!*/;', /syntax error/);
});

test('constructs outside the dialect', () => {
  expectError(wrap('const f = /*!*/() => 1; return f();'), /closures/, /top-level function/);
  expectError(`${PRELUDE}/*!*/class A {}\n`, /class/);
  expectError(wrap('/*!*/throw 1;'), /exceptions/, /error code/);
  expectError(wrap('/*!*/try { } catch { } return 0;'), /try\/catch/);
  expectError(wrap('return /*!*/ctx["args"];'), /dynamic property access/, /\.args/);
  expectError(wrap('const o = /*!*/new Uint8Array(4); return 0;'), /'new' is only for declaring maps/);
  expectError(`${PRELUDE}export const p = rawTracepoint('x', /*!*/async (ctx) => 0);\n`, /cannot be async/);
  expectError(wrap('/*!*/function g() { return 1; }\nreturn 0;'), /functions inside functions/);
  expectError(`/*!*/import fs from 'node:fs';\n`, /can only import tsbpf\/lang/);
  expectError(`${PRELUDE}/*!*/bpf.printk('x');\n`, /statements at the top level/);
  expectError(wrap('for (const k /*!*/in ctx) {} return 0;').replace('/*!*/in', 'in').replace('for (const k', '/*!*/for (const k'), /for-in/);
  expectError(wrap('return /*!*/this;'), /'this'/);
  expectError(`${PRELUDE}import { /*!*/Nope } from 'tsbpf/lang';\n`, /no export 'Nope'/);
  expectError(wrap('const a = u32(ctx.args[0]); return a/*!*/!;').replace('a/*!*/!', '/*!*/a!'), /only silences TypeScript/);
});

test('type errors: integer widths, number vs bigint, unsized types', () => {
  expectError(wrap('const a = u32(ctx.args[0]); const b: u64 = ctx.args[1]; return /*!*/a + b;'), /cannot mix u32 and u64/, /u64\(x\)/);
  expectError(wrap('const a = u32(ctx.args[0]); const b = i32(ctx.args[1]); return /*!*/a + b;'), /cannot mix u32 and i32/);
  expectError(wrap('const a: u64 = /*!*/5; return 0;'), /number literal cannot be a u64/, /n suffix/);
  expectError(wrap('const a: u32 = /*!*/5n; return 0;'), /bigint literal cannot be a u32/);
  expectError(wrap('const a: u8 = /*!*/300; return a;'), /300 does not fit in u8/);
  expectError(wrap('const a = u32(ctx.args[0]); const b: u8 = /*!*/a; return b;'), /a u32 is not a u8/, /u8\(x\)/);
  expectError(wrap('const x: /*!*/number = 1; return x;'), /'number' has no fixed width/);
  expectError(wrap('const x: /*!*/string = "a"; return 0;'), /'string' has no fixed size/, /CharArray/);
  expectError(wrap('const a = /*!*/1.5; return 0;'), /not an integer/);
  expectError(wrap('const a = u32(ctx.args[0]); return a /*!*/as u8;').replace('a /*!*/as u8', '/*!*/a as u8'), /does not convert/, /u8\(x\)/);
});

test('loops without a provable bound', () => {
  expectError(wrap('let i: u32 = 0; while (/*!*/ctx.args[0] > 0n) { i++; } return i;'), /while loop without a provable bound/, /boundedLoop/);
  expectError(wrap('for (let i: u32 = 0; /*!*/i < u32(ctx.args[0]); i++) {} return 0;'), /without a provable bound/);
  expectError(wrap('for (let i = 0; i < 10; /*!*/i += u32(ctx.args[0])) {} return 0;'), /step a counter by a constant/);
  expectError(wrap('for (let i = 0; i < 10; i++) /*!*/{ i = 0; } return 0;'), /changes its counter/);
  expectError(wrap('let i = 0; while (i < 10) /*!*/{ i++; if (i > 3) continue; } return 0;'), /'continue' in this while loop/);
  expectError(wrap('for (let i = 0; /*!*/i < 5000000; i++) {} return 0;'), /runs 5000000 times/);
});

test('stack over 512 bytes points at the largest object', () => {
  expectError(wrap('const small: u64 = ctx.args[0];\nconst a: FixedArray<u64, 80> = /*!*/zero(); a[1] = small; return u32(a[1]);'), /640 bytes\) does not fit the 512-byte stack/, /map value/);
  const decls = 'interface Big { a: FixedArray<u64, 16> }';
  const body = 'const b1: Big = /*!*/zero(); const b2: Big = zero(); const b3: Big = zero(); const b4: Big = zero(); const b5: Big = zero();\nreturn u32(b1.a[1] + b2.a[2] + b3.a[3] + b4.a[4] + b5.a[5]);';
  expectError(wrap(body, decls), /'prog' needs 640 bytes of stack, over the kernel's limit of 512/, /map value/);
});

test('helpers the program type may not call, and GPL-only helpers', () => {
  expectError(wrap('return u32(/*!*/bpf.redirect(1));'), /not allowed in rawTracepoint programs/);
  expectError(wrap("/*!*/bpf.printk('x'); return 0;").replace("license('GPL');", "license('MIT');"), /only available to GPL-compatible programs/, /license\('GPL'\)/);
});

test('maps holding spin locks in tracing programs', () => {
  const decls = 'interface L { lock: SpinLock; n: u64 }\nconst m = new HashMap<u32, L>({ maxEntries: 4 });';
  expectError(wrap('const v = /*!*/m.lookup(1); if (v) v.n += 1n; return 0;', decls).replace('type Ptr }', 'type Ptr, type SpinLock }'), /holds a SpinLock, which rawTracepoint programs cannot use/);
});

test('map values used without a NULL check, and ring buffer records not released', () => {
  expectError(wrap('const v = ms.lookup(1); return /*!*/v.a;', MAP), /'v' may be undefined here/, /if \(!v\) return 0/);
  expectError(wrap('const v = ms.lookup(1); if (v) return 1; return /*!*/v.a;', MAP), /'v' is undefined here|'v' may be undefined here/);
  expectError(wrap('const e = rb.reserve(); if (!e) return 0; e.a = 1; /*!*/return 0;', MAP), /'e' .* neither submitted nor discarded/, /rb\.submit\(e\)/);
  expectError(wrap('const e = rb.reserve(); if (!e) return 0; if (ctx.args[0] > 0n) rb.submit(e); /*!*/return 0;', MAP), /not submitted or discarded on every path/);
  expectError(wrap('const e = rb.reserve(); if (!e) return 0; rb.submit(e); /*!*/e.a = 2; return 0;', MAP), /already submitted/);
  expectError(wrap('return u32(/*!*/ms.lookup(1)!.a);', MAP), /only silences TypeScript/);
});

test('recursion', () => {
  expectError(wrap('return f(3);', 'function f(x: u32): u32 { if (x === 0) return 0; return /*!*/f(x - 1) + 1; }'), /recursion/);
  expectError(wrap('return f(3);', 'function f(x: u32): u32 { if (x === 0) return 0; return /*!*/g(x - 1); }\nfunction g(x: u32): u32 { if (x === 0) return 1; return f(x) + 1; }'), /recursive|recursion/);
});

test('declarations: maps, programs, return ranges, missing things', () => {
  expectError(`${PRELUDE}export const m = new HashMap<u32, u64>(/*!*/{ });\nexport const p = rawTracepoint('x', () => 0);\n`, /needs the option 'maxEntries'/);
  expectError(`${PRELUDE}export const rb = new RingBuf<u32>({ size: /*!*/1000 });\nexport const p = rawTracepoint('x', () => 0);\n`, /power of two/);
  expectError(`${PRELUDE}import { cgroupDev } from 'tsbpf/lang';\nexport const p = cgroupDev((ctx) => /*!*/2);\n`, /must return 0\.\.1/);
  expectError(`${PRELUDE}import { cgroupDev } from 'tsbpf/lang';\nexport const p = cgroupDev((ctx) => /*!*/ctx.minor);\n`, /verifier cannot prove/, /\? 1 : 0/);
  expectError(`${PRELUDE}import { cgroupDev } from 'tsbpf/lang';\nexport const p = cgroupDev((ctx) => ctx.minor === 9 ? /*!*/2 : 1);\n`, /must return 0\.\.1, not 2/);
  expectError(`/*!*/${PRELUDE}`, /declares no program/);
  expectError(wrap('return ctx./*!*/argz[0];').replace('ctx./*!*/argz', '/*!*/ctx.argz'), /has no field 'argz'/, /args/);
  expectError(wrap('return /*!*/nothing;'), /'nothing' is not defined/);
  expectError(wrap('return /*!*/g(1, 2);', 'function g(a: u32): u32 { return a; }'), /takes 1 argument/);
  expectError(`${PRELUDE}const /*!*/x = 1;\nconst x = 2;\nexport const p = rawTracepoint('x', () => 0);\n`.replace('const /*!*/x = 1;\nconst x = 2;', 'const x = 1;\nconst /*!*/x = 2;'), /declared twice/);
});

test('the diagnostics list every error of a module, not only the first', () => {
  try {
    compile(`${PRELUDE}class A {}\nclass B {}\nexport const p = rawTracepoint('x', () => 0);\n`, { fileName: 'bad.ts' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof CompileError);
    assert.equal(e.diagnostics.length, 2);
    assert.match(e.message, /and 1 more error/);
  }
});
