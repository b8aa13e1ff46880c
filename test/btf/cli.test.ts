import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR, bpftool, fixture } from './fixtures.js';

const MAIN = join(FIXTURE_DIR, '..', '..', 'dist', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'btf', 'dump', ...args], { maxBuffer: 1 << 28 });

test('tsbpf btf dump FILE: raw by default, from an ELF object or a raw .btf file', () => {
  const fromElf = run(fixture('types.o'));
  assert.equal(fromElf.status, 0, fromElf.stderr.toString());
  assert.ok(fromElf.stdout.equals(bpftool(['btf', 'dump', 'file', fixture('types.o')])));
  assert.ok(run(fixture('types.btf')).stdout.equals(fromElf.stdout));
});

test('--format c and ts, --type filter', () => {
  const c = run(fixture('types.o'), '--format', 'c');
  assert.ok(c.stdout.equals(bpftool(['btf', 'dump', 'file', fixture('types.o'), 'format', 'c'])));
  const one = run(fixture('types.o'), '--type', 'struct bits').stdout.toString();
  assert.match(one, /^\[\d+\] STRUCT 'bits' size=16 vlen=6\n/);
  assert.equal(one.split('\n').length, 8);
  const ts = run(fixture('core.o'), '-f', 'ts', '-t', 'task_t').stdout.toString();
  assert.match(ts, /export interface task_struct \{/);
  assert.match(ts, /export type task_t = task_struct;/);
  assert.doesNotMatch(ts, /_bss/);
});

test('errors are one line naming the offset and what was expected', () => {
  const bad = run(fixture('core.bpf.c'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /^tsbpf: BTF: bad magic 0x[0-9a-f]+, expected 0xeb9f in either byte order \(at byte 0x0\)\n$/);
  const noType = run(fixture('types.o'), '--type', 'nope');
  assert.equal(noType.status, 1);
  assert.match(noType.stderr.toString(), /no type named 'nope'/);
  const fmt = run(fixture('types.o'), '--format', 'json');
  assert.equal(fmt.status, 1);
  assert.match(fmt.stderr.toString(), /unknown format 'json'/);
});
