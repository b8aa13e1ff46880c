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
import { BtfKind, formatTs, parseBtf, resolveType, type Btf } from '../../src/btf/index.js';
import { btfCodec, type BtfValue } from '../../src/kernel/codec-btf.js';
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
  assert.match(ts, /export interface anon_members \{\n  kind: i32;\n  i: i32;\n  f: f32;\n  lo: i16;\n  hi: i16;\n  named: \{\n    tag: string;\n    d: f64;\n  \};\n  anon_enum_field: 10 \| 11;\n\}/);
  assert.match(ts, /matrix: FixedArray<FixedArray<i32, 4>, 3>;/);
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

/** Member name -> type of a struct or union, members of anonymous members flattened (as the codec does). */
function memberTypes(btf: Btf, id: number, out = new Map<string, number>()): Map<string, number> {
  const t = btf.type(resolveType(btf, id));
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return out;
  for (const m of t.members) {
    if (m.name === '') memberTypes(btf, m.type, out);
    else out.set(m.name, m.type);
  }
  return out;
}

/**
 * A decoded `value` of BTF type `id` as a TypeScript expression: bigints as literals, bytes as
 * a Uint8Array, and an enum as its first enumerator (an enum type is the union of its
 * enumerators, which arbitrary bytes need not be).
 */
function literal(btf: Btf, id: number, value: BtfValue): string {
  const t = btf.type(resolveType(btf, id));
  if ((t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) && t.values.length > 0) {
    const first = t.values[0]!.value;
    return t.kind === BtfKind.ENUM64 ? `${first}n` : String(first);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `new Uint8Array(${value.byteLength})`;
  if (Array.isArray(value)) return `[${value.map((v) => literal(btf, t.kind === BtfKind.ARRAY ? t.type : 0, v)).join(', ')}]`;
  if (typeof value === 'object') {
    const types = memberTypes(btf, id);
    return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${literal(btf, types.get(k) ?? 0, v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

test('the declarations type what the BTF codec decodes: char arrays as strings, other arrays as arrays', () => {
  const btf = objectBtf('types.o');
  const uses: string[] = ["import type * as T from './types.js';"];
  const covered: string[] = [];
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if ((t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) || t.name === '') continue;
    const codec = btfCodec(btf, id);
    const bytes = Uint8Array.from({ length: codec.size }, (_, i) => (i * 37 + 11) & 0x7f);
    uses.push(`export const v${id}: T.${t.name} = ${literal(btf, id, codec.decode(bytes))};`);
    covered.push(t.name);
  }
  assert.ok(covered.includes('holder') && covered.includes('anon_members') && covered.includes('bits'), covered.join(' '));
  typecheck({ 'types.ts': formatTs(btf), 'use.ts': uses.join('\n') });
});
