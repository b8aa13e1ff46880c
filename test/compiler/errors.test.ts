/**
 * Compile errors: every class of bad input gives a CompileError at the exact TypeScript
 * position (file:line:column) with a message and a one-line hint. Each case marks the expected
 * position with `/*!*\/`, which the test removes before compiling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, CompileError } from '../../src/compiler/index.js';
import { build, expectError, PRELUDE, wrap } from './support.js';

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

/**
 * A module with spin-locked map values and an XDP program (tracing programs cannot take spin
 * locks) whose body starts with `v`, a checked value of `vs` holding `lock`.
 */
function locked(body: string, decls = ''): string {
  return `import { xdp, HashMap, RingBuf, XdpAction, helpers as bpf, license, boundedLoop, zero, type u32, type u64, type SpinLock } from 'tsbpf/lang';
interface V { lock: SpinLock; n: u64 }
const vs = new HashMap<u32, V>({ maxEntries: 4 });
const counts = new HashMap<u32, u64>({ maxEntries: 4 });
const rb = new RingBuf<u64>({ size: 4096 });
function twice(x: u64): u64 { return x * 2n; }
function slow(x: u64): u64 { const y = x + 1n; return y * 2n; }
${decls}
export const p = xdp((ctx) => {
const v = vs.lookup(0); const w = vs.lookup(1);
if (!v || !w) return XdpAction.PASS;
${body}
});
license('GPL');
`;
}

test('spin locks: no helper calls while one is held (the verifier: function calls are not allowed while holding a lock)', () => {
  expectError(locked('bpf.spinLock(v.lock); v.n = /*!*/bpf.ktimeNs(); bpf.spinUnlock(v.lock); return 0;'), /bpf\.ktimeNs\(\) calls bpf_ktime_get_ns while the spin lock 'v\.lock' \(taken on line 12\) is held/, /bpf\.spinUnlock\(v\.lock\) first/);
  expectError(locked("bpf.spinLock(v.lock); /*!*/bpf.printk('n %llu', v.n); bpf.spinUnlock(v.lock); return 0;"), /bpf_trace_printk while the spin lock/);
  // Map operations are helper calls too.
  expectError(locked('bpf.spinLock(v.lock); /*!*/vs.delete(3); bpf.spinUnlock(v.lock); return 0;'), /vs\.delete\(\) calls bpf_map_delete_elem while the spin lock 'v\.lock'/);
  expectError(locked('bpf.spinLock(v.lock); const x = /*!*/counts.lookup(1); bpf.spinUnlock(v.lock); return x ? 1 : 0;'), /counts\.lookup\(\) calls bpf_map_lookup_elem/);
  expectError(locked('bpf.spinLock(v.lock); /*!*/counts.update(1, v.n); bpf.spinUnlock(v.lock); return 0;'), /counts\.update\(\) calls bpf_map_update_elem/);
  expectError(locked('bpf.spinLock(v.lock); /*!*/counts.increment(1); bpf.spinUnlock(v.lock); return 0;'), /counts\.increment\(\) calls bpf_map_lookup_elem/);
  expectError(locked('bpf.spinLock(v.lock); /*!*/rb.output(v.n); bpf.spinUnlock(v.lock); return 0;'), /rb\.output\(\) calls bpf_ringbuf_output/);
  expectError(locked('bpf.spinLock(v.lock); const e = /*!*/rb.reserve(); bpf.spinUnlock(v.lock); if (e) rb.discard(e); return 0;'), /rb\.reserve\(\) calls bpf_ringbuf_reserve/);
  // An inlined function's helper call is made under the lock too: the error is where it is.
  expectError(locked('bpf.spinLock(v.lock); v.n = stamp(); bpf.spinUnlock(v.lock); return 0;', 'function stamp(): u64 { return /*!*/bpf.ktimeNs(); }'), /bpf_ktime_get_ns while the spin lock 'v\.lock'/);
});

test('spin locks: no BPF-to-BPF calls while one is held; inlined one-statement functions are fine', () => {
  expectError(locked('bpf.spinLock(v.lock); v.n = /*!*/slow(v.n); bpf.spinUnlock(v.lock); return 0;'), /'slow' is a BPF-to-BPF call .* while the spin lock 'v\.lock'/, /one statement/);
  build(locked('bpf.spinLock(v.lock); v.n = twice(v.n); bpf.spinUnlock(v.lock); return 0;'));
});

test('spin locks: one at a time, unlocking the lock that is held', () => {
  expectError(locked('bpf.spinLock(v.lock); /*!*/bpf.spinLock(w.lock); bpf.spinUnlock(w.lock); bpf.spinUnlock(v.lock); return 0;'), /bpf\.spinLock\(w\.lock\) while the spin lock 'v\.lock' \(taken on line 12\) is held; the verifier allows one bpf_spin_lock at a time/, /spinUnlock\(v\.lock\) first/);
  expectError(locked('bpf.spinLock(v.lock); /*!*/bpf.spinLock(v.lock); bpf.spinUnlock(v.lock); return 0;'), /'v\.lock' .* is taken again while held/);
  expectError(locked('/*!*/bpf.spinUnlock(v.lock); return 0;'), /bpf\.spinUnlock\(v\.lock\) without a bpf\.spinLock\(v\.lock\) before it/);
  expectError(locked('bpf.spinLock(v.lock); /*!*/bpf.spinUnlock(w.lock); return 0;'), /bpf\.spinUnlock\(w\.lock\) while the lock held is 'v\.lock'/, /unlock v\.lock/);
  expectError(locked('if (v.n > 1n) bpf.spinLock(v.lock);\n/*!*/bpf.spinUnlock(v.lock); return 0;'), /held on some paths and not on others/);
  // The variable holding the locked value cannot change while the lock is held.
  expectError(locked('let u = vs.lookup(2); if (!u) return 0; bpf.spinLock(u.lock); /*!*/u = w; bpf.spinUnlock(u.lock); return 0;'), /'u' holds the spin lock 'u\.lock' .* would lose the lock/);
});

test('spin locks: every path releases the lock before leaving the program or function', () => {
  expectError(locked('bpf.spinLock(v.lock);\nif (v.n > 5n) /*!*/return XdpAction.DROP;\nbpf.spinUnlock(v.lock); return 0;'), /this return leaves the program while the spin lock 'v\.lock' \(taken on line 12\) is still held/, /spinUnlock\(v\.lock\) on every path/);
  expectError(locked('bpf.spinLock(v.lock); v.n += 1n;\n/*!*/').replace('/*!*/\n});', '/*!*/});'), /the program ends while the spin lock 'v\.lock'/);
  expectError(locked('bpf.spinLock(v.lock);\nif (v.n > 5n) bpf.spinUnlock(v.lock);\n/*!*/return 0;'), /'v\.lock' .* may still be held/);
  // A subprogram (not inlined) must release a lock it takes.
  expectError(locked('bump(2); return 0;', 'function bump(k: u32): void {\n  const x = vs.lookup(k);\n  if (!x) return;\n  bpf.spinLock(x.lock);\n  x.n += 1n;\n/*!*/}'), /function 'bump' ends while the spin lock 'x\.lock'/);
});

test('spin locks in loops: an iteration leaves the lock as it found it', () => {
  expectError(locked('for (let i = 0; i < 4; i++) { bpf.spinLock(v.lock); v.n += 1n; /*!*/}\nreturn 0;'), /'v\.lock' .* is still held at the end of the loop body, so the next iteration would take it again/);
  expectError(locked('bpf.spinLock(v.lock);\nfor (let i = 0; i < 4; i++) { v.n += 1n; bpf.spinUnlock(v.lock); /*!*/}\nreturn 0;'), /released in the loop body, so the next iteration would release it again/);
  expectError(locked('for (let i = 0; i < 4; i++) { bpf.spinLock(v.lock); if (v.n > 3n) continue; bpf.spinUnlock(v.lock); /*!*/}\nreturn 0;'), /held at the end of some paths through the loop body/);
  // Leaving the loop early with the lock held, then returning.
  expectError(locked('for (let i = 0; i < 4; i++) { bpf.spinLock(v.lock); if (v.n > 3n) break; bpf.spinUnlock(v.lock); }\n/*!*/return 0;'), /may still be held/);
  expectError(locked('boundedLoop(4, (i) => { bpf.spinLock(v.lock); if (v.n > 2n) return true; bpf.spinUnlock(v.lock); });\n/*!*/return 0;'), /may still be held/);
  expectError(locked('let i = 0; do { bpf.spinLock(v.lock); i++; /*!*/} while (i < 3);\nreturn 0;'), /still held at the end of the loop body/);
});

test('spin locks: no whole-value copies or helper reads of a map value holding one (bpf_spin_lock cannot be accessed directly)', () => {
  const outer = 'interface Outer { v: V; m: u64 }';
  expectError(locked('const o: Outer = zero(); o.v = /*!*/v; return 0;', outer), /copying a whole V out of a map value would read its SpinLock/, /one by one/);
  expectError(locked('const o: Outer = zero(); o.m = 1n; o.v.n = 2n; vs.update(2, /*!*/v); return 0;', outer), /value is a map value holding a SpinLock/, /zero\(\)/);
  expectError(locked('const x: V = zero(); x.n = v.n; vs.update(2, x); const o = os.lookup(0); if (!o) return 0; o.v = /*!*/zero(); return 0;', `${outer}\nconst os = new HashMap<u32, Outer>({ maxEntries: 4 });`), /writing a whole V into a map value would overwrite its SpinLock/);
});

/** A module with one program declared by `declare` (e.g. "tc('ingress', ") and `body`. */
function ctxProgram(declare: string, body: string): string {
  return `import { socketFilter, tc, cgroupSkb, xdp, cgroupSock, cgroupDev, perfEvent, license, zero } from 'tsbpf/lang';
export const p = ${declare}(ctx) => {
${body}
});
license('GPL');
`;
}

test('context fields: reads the program type does not allow (invalid bpf_context access)', () => {
  expectError(ctxProgram('socketFilter(', 'return /*!*/ctx.tc_classid;'), /socket filters cannot read __sk_buff\.tc_classid/, /readable in tc programs/);
  expectError(ctxProgram('socketFilter(', 'if (/*!*/ctx.data === 0) return 0; return 1;'), /socket filters cannot read __sk_buff\.data/, /readable in tc and cgroupSkb programs/);
  expectError(ctxProgram('socketFilter(', 'return /*!*/ctx.remote_ip6[1];'), /socket filters cannot read __sk_buff\.remote_ip6/, /cgroupSkb/);
  expectError(ctxProgram("tc('ingress', ", 'return /*!*/ctx.remote_port;'), /tc programs cannot read __sk_buff\.remote_port/, /readable in cgroupSkb programs/);
  expectError(ctxProgram("cgroupSkb('egress', ", 'return /*!*/ctx.wire_len & 1;'), /cgroupSkb programs cannot read __sk_buff\.wire_len/, /readable in tc programs/);
  expectError(ctxProgram("tc('ingress', ", 'if (/*!*/ctx.flow_keys !== 0n) return 1; return 0;'), /cannot read __sk_buff\.flow_keys/, /no program type/);
  expectError(ctxProgram('xdp(', 'return /*!*/ctx.egress_ifindex;'), /xdp programs cannot read xdp_md\.egress_ifindex/);
  expectError(ctxProgram("cgroupSock('sock_create', ", 'return /*!*/ctx.src_port & 1;'), /cgroupSock\('sock_create'\) programs cannot read bpf_sock\.src_port/, /readable in cgroupSock\('post_bind4'\) and cgroupSock\('post_bind6'\) programs/);
  expectError(ctxProgram("cgroupSock('post_bind4', ", 'return /*!*/ctx.src_ip6[0] & 1;'), /cannot read bpf_sock\.src_ip6/, /post_bind6/);
  expectError(ctxProgram('socketFilter(', 'const i = ctx.len & 3; return /*!*/ctx.cb[i];'), /context arrays can only be indexed with constants/, /const a = ctx\.cb/);
  // Compound assignments read the field too.
  expectError(ctxProgram("cgroupSkb('egress', ", '/*!*/ctx.tc_classid += 1; return 1;'), /cgroupSkb programs cannot read __sk_buff\.tc_classid/);
});

test('context fields: writes the program type does not allow', () => {
  expectError(ctxProgram("tc('ingress', ", '/*!*/ctx.len = 5; return 0;'), /tc programs cannot write __sk_buff\.len/, /no program type may write it/);
  expectError(ctxProgram("tc('ingress', ", '/*!*/ctx.data = 5; return 0;'), /tc programs cannot write __sk_buff\.data/);
  expectError(ctxProgram('socketFilter(', '/*!*/ctx.mark = 5; return 0;'), /socket filters cannot write __sk_buff\.mark/, /writable in tc and cgroupSkb programs; here it is read-only/);
  expectError(ctxProgram("cgroupSkb('egress', ", '/*!*/ctx.tc_classid = 1; return 1;'), /cgroupSkb programs cannot write __sk_buff\.tc_classid/, /writable in tc programs/);
  expectError(ctxProgram("cgroupSkb('ingress', ", '/*!*/ctx.queue_mapping = 1; return 1;'), /cannot write __sk_buff\.queue_mapping/, /writable in tc programs/);
  expectError(ctxProgram("cgroupSock('post_bind4', ", '/*!*/ctx.mark = 1; return 1;'), /cgroupSock\('post_bind4'\) programs cannot write bpf_sock\.mark/, /writable in cgroupSock\('sock_create'\) and cgroupSock\('sock_release'\) programs/);
  expectError(ctxProgram("cgroupSock('sock_create', ", '/*!*/ctx.family = 1; return 1;'), /cannot write bpf_sock\.family/, /no program type may write it/);
  // Context types that cannot write anything keep their one-line message.
  expectError(ctxProgram('xdp(', '/*!*/ctx.data = 1; return 0;'), /the context of xdp programs is read-only/);
  expectError(ctxProgram('cgroupDev(', '/*!*/ctx.major = 1; return 1;'), /the context of cgroupDev programs is read-only/);
});

test('context fields: what the program type allows still compiles (socket filters write cb, tc writes tc_classid)', () => {
  build(ctxProgram('socketFilter(', 'ctx.cb[2] = ctx.len; return ctx.cb[2];'));
  build(ctxProgram("tc('ingress', ", 'ctx.tc_classid = 7; ctx.tstamp = 0n; ctx.queue_mapping = 1; return ctx.tstamp_type;'));
  build(ctxProgram("cgroupSkb('egress', ", 'ctx.mark = 1; ctx.priority = 2; ctx.cb[4] += 1; return ctx.remote_port === 0 ? 0 : 1;'));
  build(ctxProgram("cgroupSock('sock_create', ", 'ctx.mark = 1; ctx.bound_dev_if = 0; return 1;'));
  // Whole-array copies load in widths the field allows: cb in 8-byte pieces, remote_ip6 in 4-byte ones.
  build(ctxProgram('socketFilter(', 'const c = ctx.cb; return c[1];'));
  build(ctxProgram("cgroupSkb('egress', ", 'const a = ctx.remote_ip6; return a[3] === 0 ? 0 : 1;'));
});
