#!/usr/bin/env node
// Runs every dist/test/**/*.test.js with node:test (only test files: support modules and child
// scripts under dist/test are not tests). Extra arguments filter by path substring.
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

const filters = process.argv.slice(2);
const files = testFiles('dist/test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
