/**
 * Shared by the BTF tests: the committed clang-built fixtures (testdata/btf), their .BTF and
 * .BTF.ext sections, and bpftool, the oracle of the raw and C formats. bpftool must be installed
 * (CI installs it); a missing bpftool fails the differential tests rather than skipping them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseElf } from '../../src/elf/index.js';
import { parseBtf, type Btf } from '../../src/btf/parser.js';

/** testdata/btf, found from dist/test/btf (or test/btf). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'testdata', 'btf');

/** The clang-built objects: clang-19 little- and big-endian, clang 14. */
export const OBJECTS = ['types.o', 'types-be.o', 'types-clang14.o', 'core.o', 'core-clang14.o'];

/** Path of a fixture file. */
export function fixture(name: string): string {
  return join(FIXTURE_DIR, name);
}

/** A section of a fixture object. */
export function section(object: string, name: string): Uint8Array {
  const sec = parseElf(readFileSync(fixture(object))).section(name);
  if (!sec) throw new Error(`${object} has no ${name} section`);
  return new Uint8Array(sec.data); // a copy: Buffer.slice() would alias
}

/** The parsed .BTF of a fixture object. */
export function objectBtf(object: string): Btf {
  return parseBtf(section(object, '.BTF'));
}

/** The kernel's BTF. */
export const VMLINUX = '/sys/kernel/btf/vmlinux';

/** Runs bpftool and returns its stdout as bytes. */
export function bpftool(args: string[]): Buffer {
  return execFileSync('bpftool', args, { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether a command exists on PATH. */
export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Collects a chunked writer's output into one Buffer. */
export function collect(fill: (sink: (c: Uint8Array) => void) => void): Buffer {
  const parts: Buffer[] = [];
  fill((c) => parts.push(Buffer.from(c)));
  return Buffer.concat(parts);
}
