/** The `tsbpf vm` commands, spawned as the bpf_conformance runner would spawn the plugin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseUbpfTest } from '../../src/asm/ubpf.js';
import { formatHexBytes, runPluginProtocol } from '../../src/vm/conformance.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');

function tsbpf(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LDXH = `-- asm
ldxh %r0, [%r1+2]
exit
-- mem
aa bb 11 22 cc dd
-- result
0x2211
`;

test('plugin: program hex on stdin, memory as one argument, r0 in hex on stdout', () => {
  const t = parseUbpfTest(LDXH);
  const r = tsbpf(['vm', 'plugin', formatHexBytes(t.memory)], formatHexBytes(t.program) + '\n');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(BigInt(r.stdout.trim()), 0x2211n);
  const noMem = tsbpf(['vm', 'plugin', '--interpret'], 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00\n');
  assert.equal(noMem.status, 0);
  assert.equal(noMem.stdout, '0x2a\n');
});

test('plugin: errors go to stderr with a non-zero exit code', () => {
  const oob = tsbpf(['vm', 'plugin', '11  22  '], '69 10 08 00 00 00 00 00  95 00 00 00 00 00 00 00\n');
  assert.notEqual(oob.status, 0);
  assert.equal(oob.stdout, '');
  assert.match(oob.stderr, /out-of-bounds read of 2 bytes/);
  const invalid = tsbpf(['vm', 'plugin'], '07 00 01 00 01 00 00 00  95 00 00 00 00 00 00 00\n');
  assert.notEqual(invalid.status, 0);
  assert.match(invalid.stderr, /off/);
  const garbage = tsbpf(['vm', 'plugin'], 'zz\n');
  assert.notEqual(garbage.status, 0);
  assert.equal(runPluginProtocol('95 00 00 00 00 00 00', undefined).exitCode, 1);
});

test('conformance: one line per failing test and the N passed, N failed summary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-conf-'));
  mkdirSync(join(dir, 'negative'));
  writeFileSync(join(dir, 'good.data'), LDXH);
  writeFileSync(join(dir, 'bad.data'), LDXH.replace('0x2211', '0x1122'));
  writeFileSync(join(dir, 'negative', 'rejected.data'), '-- asm\nmov %r0, %r99\nexit\n-- result\n0x0\n');
  writeFileSync(join(dir, 'negative', 'accepted.data'), '-- asm\nmov %r0, 0\nexit\n-- result\n0x0\n');
  const r = tsbpf(['vm', 'conformance', dir, '--engine', 'jit']);
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '2 passed, 2 failed');
  assert.equal(lines.length, 3);
  assert.match(r.stdout, /FAIL bad\.data \[jit\]: r0 = 0x2211, expected 0x1122/);
  assert.match(r.stdout, /FAIL negative\/accepted\.data \[jit\]: negative test was not rejected/);
  const ok = tsbpf(['vm', 'conformance', join(dir, 'negative'), '--plugin-like']);
  assert.equal(ok.stdout.trim().split('\n').at(-1), '1 passed, 1 failed', 'outside a negative/ folder the same files are ordinary tests');
});

test('run: assembles a ubpf-dialect file and prints r0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-run-'));
  const file = join(dir, 'prog.s');
  writeFileSync(file, 'mov %r0, %r2\nldxb %r3, [%r1+1]\nadd %r0, %r3\nexit\n');
  const r = tsbpf(['vm', 'run', file, '--mem', '01 02 03']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0x5\n');
  writeFileSync(file, 'mov %r0, %r12\nexit\n');
  const bad = tsbpf(['vm', 'run', file]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /prog\.s:1:10: invalid register/);
  assert.ok(readFileSync(file, 'utf8').length > 0);
});
