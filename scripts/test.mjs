#!/usr/bin/env node
// Runs every dist/test/**/*.test.js with node:test (only test files: support modules and child
// scripts under dist/test are not tests). Extra arguments filter by path substring.
//
// dist/test/guest/ holds tests of the second kernel (scripts/guest): they run only inside the
// guest, whose init sets TSBPF_GUEST, except dist/test/guest/all-kernels/, which runs everywhere.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.js') ? [path] : [];
  });
}

const GUEST_ONLY = join('dist', 'test', 'guest') + '/';
const EVERY_KERNEL = join(GUEST_ONLY, 'all-kernels') + '/';
const inGuest = Boolean(process.env.TSBPF_GUEST);

const filters = process.argv.slice(2);
const files = testFiles('dist/test')
  .filter((f) => inGuest || !f.startsWith(GUEST_ONLY) || f.startsWith(EVERY_KERNEL))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
