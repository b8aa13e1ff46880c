/**
 * The TypeScript declarations must be valid TypeScript. typescript 7 (the native compiler) has no
 * in-process JS API, so the output is written to a temporary directory and checked with
 * `tsc --noEmit --strict` from node_modules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTs, parseBtf } from '../../src/btf/index.js';
import { FIXTURE_DIR, VMLINUX, objectBtf } from './fixtures.js';

const TSC = join(FIXTURE_DIR, '..', '..', 'node_modules', '.bin', 'tsc');

function typecheck(files: Record<string, string>): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-ts-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    execFileSync(TSC, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--noUnusedLocals', '--noUnusedParameters', ...Object.keys(files)], { stdio: 'pipe', cwd: dir });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? String(e);
    assert.fail(`tsc rejected the output:\n${out.slice(0, 3000)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fixture declarations: mapping of every kind', () => {
  const ts = formatTs(objectBtf('types.o'));
  assert.match(ts, /export interface bits \{\n  a: u32; \/\* :3 \*\/\n  b: u32; \/\* :5 \*\/\n  c: i32; \/\* :12 \*\/\n  wide: u64; \/\* :40 \*\//);
  assert.match(ts, /export interface anon_members \{\n  kind: i32;\n  i: i32;\n  f: f32;\n  lo: i16;\n  hi: i16;\n  named: \{\n    tag: Int8Array;\n    d: f64;\n  \};\n  anon_enum_field: 10 \| 11;\n\}/);
  assert.match(ts, /matrix: FixedArray<Int32Array, 3>;/);
  assert.match(ts, /printer: Ptr<\(\(arg0: Ptr<i8>, \.\.\.rest: unknown\[\]\) => i32\)>;/);
  assert.match(ts, /export const big = \{\n  BIG_SMALL: 1n,\n  BIG_LARGE: 78187493520n,\n\} as const;\nexport type big = \(typeof big\)\[keyof typeof big\];/);
  assert.match(ts, /export const color = \{\n  RED: 0,\n  GREEN: 5,\n  BLUE: -1,\n\} as const;/);
  assert.match(ts, /export interface opaque \{\}/);
  assert.match(ts, /export type tagged_t = tagged;/);
  assert.match(ts, /export interface _bss \{/);
  assert.match(ts, /flag: bool;/);
});

test('fixture declarations type-check with tsc --strict, and are usable', () => {
  typecheck({
    'types.ts': formatTs(objectBtf('types.o')),
    'core.ts': formatTs(objectBtf('core.o')),
    'use.ts': [
      "import type { holder, bits, Ptr } from './types.js';",
      "import { color } from './types.js';",
      'export const b: bits = { a: 1, b: 2, c: -3, wide: 4n, tail: 5, after_zero: 6 };',
      'export const p: Ptr<holder> = 0x1000n;',
      'export const c: color = color.BLUE;',
    ].join('\n'),
  });
});

test('vmlinux: --type task_struct and the whole BTF type-check', () => {
  const btf = parseBtf(readFileSync(VMLINUX));
  const task = formatTs(btf, { ids: btf.idsByName('task_struct') });
  assert.match(task, /export interface task_struct \{/);
  typecheck({ 'task.ts': task, 'vmlinux.ts': formatTs(btf) });
});
