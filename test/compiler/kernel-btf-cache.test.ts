/**
 * The per-process cache of parsed kernel BTF (src/compiler/kernel-btf-cache.ts): a file parses
 * once while it stays the same file, again when it is rewritten; bytes parse once per array.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelBtfBytes, kernelBtfFile } from '../../src/compiler/kernel-btf-cache.js';
import { build, wrap } from './support.js';

/** Two different, valid BTF blobs: those of two compiled programs. */
const small = build(wrap('return 0;')).spec.btfBytes!;
const large = build(wrap('return 0;', 'interface Big { a: u32; b: u64 }\nconst m = new HashMap<u32, Big>({ maxEntries: 1 });')).spec.btfBytes!;

test('a BTF file parses once while unchanged, and again after it is rewritten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-cache-'));
  try {
    const path = join(dir, 'vmlinux.btf');
    writeFileSync(path, small);
    const first = kernelBtfFile(path)!;
    assert.equal(kernelBtfFile(path), first, 'the same parse');
    writeFileSync(path, large);
    const second = kernelBtfFile(path)!;
    assert.notEqual(second, first, 'a rewritten file is parsed again');
    assert.ok(second.typeByName('Big'), 'from its new contents');
    assert.equal(kernelBtfFile(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BTF bytes parse once per array', () => {
  const btf = kernelBtfBytes(small);
  assert.equal(kernelBtfBytes(small), btf);
  assert.notEqual(kernelBtfBytes(small.slice()), btf, 'another array is another parse');
});
