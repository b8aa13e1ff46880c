/**
 * tsbpf/lang in Node: declarations give descriptors without kernel work, conversions wrap as
 * C casts do, kernel-only operations throw KernelOnlyError, and the lang declarations type-check
 * the test programs (and reject width mismatches) the way the editor shows them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lang from '../../src/lang/index.js';

test('map declarations are descriptors with their options', () => {
  const m = new lang.HashMap<lang.u32, lang.u64>({ maxEntries: 1024, pinning: 'byName' });
  assert.deepEqual({ kind: m.kind, type: m.type, maxEntries: m.maxEntries, flags: m.flags, pinning: m.pinning }, { kind: 'map', type: 'HASH', maxEntries: 1024, flags: 0, pinning: 'byName' });
  assert.equal(new lang.RingBuf<lang.u32>({ size: 4096 }).maxEntries, 4096);
  assert.equal(new lang.LpmTrie<{ prefixlen: lang.u32 }, lang.u8>({ maxEntries: 8 }).flags, 1, 'BPF_F_NO_PREALLOC');
  assert.equal(new lang.PerCpuArrayMap<lang.u64>({ maxEntries: 1 }).type, 'PERCPU_ARRAY');
  assert.throws(() => m.lookup(1), lang.KernelOnlyError);
  assert.throws(() => lang.helpers.pid(), (e: unknown) => e instanceof lang.KernelOnlyError && /helpers\.pid runs in the kernel/.test(e.message));
});

test('program declarators give their program type and section, and never run the body', () => {
  let ran = false;
  const body = () => {
    ran = true;
    return 0;
  };
  assert.deepEqual(lang.tracepoint('syscalls', 'sys_enter_execve', body), { kind: 'program', type: 'TRACEPOINT', section: 'tracepoint/syscalls/sys_enter_execve' });
  assert.equal(lang.tpBtf('sched_process_exit', body).section, 'tp_btf/sched_process_exit');
  assert.equal(lang.uprobe('/bin/true', 'main', body).section, 'uprobe//bin/true:main');
  assert.equal(lang.cgroupDev(body).type, 'CGROUP_DEVICE');
  assert.equal(lang.xdp(body).section, 'xdp');
  assert.equal(lang.tc('ingress', body).section, 'tc');
  assert.equal(ran, false);
  assert.equal(lang.constant<lang.u32>(7), 7);
});

test('conversions wrap like C casts; C string helpers work on strings', () => {
  assert.equal(lang.u8(0x1ff), 0xff);
  assert.equal(lang.i8(255), -1);
  assert.equal(lang.u32(-1), 0xffffffff);
  assert.equal(lang.i32(0xffffffff), -1);
  assert.equal(lang.u64(-1), (1n << 64n) - 1n);
  assert.equal(lang.i64(1n << 63n), -(1n << 63n));
  assert.equal(lang.u16(true), 1);
  assert.equal(lang.strEq('bash\0\0', 'bash'), true);
  assert.equal(lang.byteAt('ab', 1), 98);
  assert.equal(lang.be16(0x1234), 0x3412);
  assert.equal(lang.be32(0x11223344), 0x44332211);
  assert.equal(lang.be64(1n), 1n << 56n);
});

/** Runs the TypeScript compiler on files; returns its output (empty when they type-check). */
function tsc(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-lang-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const config = {
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: [], skipLibCheck: true, paths: { 'tsbpf/lang': [join(process.cwd(), 'src/lang/index.ts')] } },
      files: Object.keys(files).map((f) => join(dir, f)),
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const r = spawnSync(process.execPath, [join(process.cwd(), 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.replaceAll(dir + '/', '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the editor view: test programs type-check against the lang declarations', () => {
  const names = ['exec', 'exits', 'xdp', 'tc', 'socket', 'cgroup_dev', 'cgroup_net', 'perf', 'syscount', 'probes', 'trampolines'];
  const files: Record<string, string> = {};
  for (const n of names) files[`${n}.ts`] = spawnSync('cat', [`testdata/compiler/${n}.bpf.ts`], { encoding: 'utf8' }).stdout.replace(/^export /gm, 'export ');
  assert.equal(tsc(files), '');
});

test('the editor view: width mismatches are TypeScript errors too', () => {
  const out = tsc({
    'bad.ts': `import { type u8, type u32, type u64, type Comm, type CharArray } from 'tsbpf/lang';
declare const a8: u8;
declare const a64: u64;
declare const c: Comm;
export const x: u32 = a8;
export const y: u32 = a64;
export const z: CharArray<8> = c;
export const ok: u32 = 7;
`,
  });
  assert.match(out, /bad\.ts\(5,14\): error TS2322: Type 'u8' is not assignable to type 'u32'/);
  assert.match(out, /bad\.ts\(6,14\): error TS2322: Type 'u64' is not assignable to type 'u32'/);
  assert.match(out, /bad\.ts\(7,14\): error TS2322/);
  assert.doesNotMatch(out, /bad\.ts\(8,/);
});

test('the editor view: map flags take UpdateFlags members, literals of either kind and unsigned values, as the compiler does', () => {
  const out = tsc({
    'flags.ts': `import { HashMap, Queue, UpdateFlags, u32, type u64 } from 'tsbpf/lang';
declare const m: HashMap<u32, u64>;
declare const q: Queue<u32>;
declare const f: u32;
declare const wide: u64;
m.update(1, 2n, UpdateFlags.NOEXIST);
m.update(1, 2n, (f & 15) as UpdateFlags);
m.update(1, 2n, f);
m.update(1, 2n, wide);
m.update(1, 2n, 2n);
q.push(1, UpdateFlags.EXIST);
q.push(1, 0);
`,
  });
  assert.equal(out, '');
});
