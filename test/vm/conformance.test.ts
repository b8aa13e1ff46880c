/**
 * The whole bpf_conformance suite (tests/ with the ISA v4 tests, and negative/), one subtest
 * per file and engine. Exclusions: none. The suite is vendored in testdata/bpf-conformance (or
 * where BPF_CONFORMANCE_DIR points).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformanceTest } from '../../src/vm/conformance.js';
import { Engine } from '../../src/vm/vm.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const suite = process.env.BPF_CONFORMANCE_DIR ?? join(root, 'testdata', 'bpf-conformance');
/** Files the VM is allowed to fail, with the reason. Kept empty: everything passes. */
const EXCLUDED = new Map<string, string>();

const folders = ['tests', 'negative'] as const;
test('the bpf_conformance suite is present', () => assert.ok(existsSync(suite), `not found at ${suite}`));

for (const folder of folders) {
  const files = readdirSync(join(suite, folder)).filter((f) => f.endsWith('.data')).sort();
  test(`bpf_conformance ${folder}/ (${files.length} files)`, async (t) => {
    assert.ok(files.length > (folder === 'tests' ? 300 : 50), 'the suite looks incomplete');
    for (const file of files) {
      const text = readFileSync(join(suite, folder, file), 'utf8');
      for (const engine of [Engine.INTERPRETER, Engine.JIT]) {
        const name = `${folder}/${file} [${engine}]`;
        const skip = EXCLUDED.get(`${folder}/${file}`);
        await t.test(name, skip ? { skip } : {}, () => {
          const outcome = runConformanceTest(text, { engine, negative: folder === 'negative', file });
          assert.ok(outcome.passed, outcome.reason);
        });
      }
    }
  });
}

test('--plugin-like judging agrees on the whole suite', () => {
  for (const folder of folders) {
    for (const file of readdirSync(join(suite, folder)).filter((f) => f.endsWith('.data'))) {
      const text = readFileSync(join(suite, folder, file), 'utf8');
      const outcome = runConformanceTest(text, { negative: folder === 'negative', pluginLike: true, file });
      assert.ok(outcome.passed, `${folder}/${file}: ${outcome.reason}`);
    }
  }
});

test('a wrong result, a missing error and an unexpected error all fail', () => {
  const wrong = runConformanceTest('-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n');
  assert.equal(wrong.passed, false);
  assert.match(wrong.reason, /r0 = 0x1, expected 0x2/);
  const noError = runConformanceTest('-- asm\nmov %r0, 1\nexit\n-- error\nboom\n');
  assert.equal(noError.passed, false);
  const unexpected = runConformanceTest('-- asm\nldxw %r0, [%r1]\nexit\n-- result\n0x0\n');
  assert.equal(unexpected.passed, false);
  assert.match(unexpected.reason, /unmapped|null/);
  const expected = runConformanceTest('-- asm\nldxw %r0, [%r1]\nexit\n-- error\n');
  assert.equal(expected.passed, true);
});
