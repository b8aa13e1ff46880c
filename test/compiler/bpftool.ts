/**
 * libbpf's view of compiled objects, through bpftool (Debian's bpftool 7.1, libbpf 1.1): `prog
 * loadall` into a fresh bpffs directory, and `btf dump file`. The interoperability
 * requirement is that every object the compiler emits passes both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPFFS_ROOT, ensureBpffs } from '../../src/kernel/pin.js';

/** What `bpftool prog loadall` did: its exit status, the programs it pinned, its output. */
export interface Loadall {
  status: number | null;
  ok: boolean;
  /** Names pinned in the directory (sorted), read before the pins were removed. */
  programs: string[];
  log: string;
}

let serial = 0;

/** Writes `object` to a temporary file and runs `fn` on its path; the file is removed after. */
function withObjectFile<T>(object: Uint8Array, name: string, fn: (file: string) => T): T {
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-bpftool-'));
  try {
    const file = join(tmp, `${name.replace(/\W/g, '_')}.o`);
    writeFileSync(file, object);
    return fn(file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Loads an object with `bpftool prog loadall OBJ DIR` (libbpf opens, relocates and loads every
 * program, then pins each under DIR by name), lists the pins, and removes them (also when the
 * load failed half-way). DIR is unique to this process and call: other tests share bpffs.
 */
export function bpftoolLoadall(object: Uint8Array, name: string): Loadall {
  ensureBpffs(BPFFS_ROOT);
  const dir = join(BPFFS_ROOT, `tsbpf-bpftool-${process.pid}-${serial++}-${name.replace(/\W/g, '_')}`);
  return withObjectFile(object, name, (file) => {
    try {
      const r = spawnSync('bpftool', ['prog', 'loadall', file, dir], { encoding: 'utf8' });
      const programs = existsSync(dir) ? readdirSync(dir).sort() : [];
      return { status: r.status, ok: r.status === 0, programs, log: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      assert.equal(existsSync(dir), false, `the pins under ${dir} were removed`);
    }
  });
}

/** `bpftool btf dump file OBJ`: the dump (fails the test when bpftool cannot read the BTF). */
export function bpftoolBtfDump(object: Uint8Array, name = 'x'): string {
  return withObjectFile(object, name, (file) => {
    const r = spawnSync('bpftool', ['btf', 'dump', 'file', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `bpftool btf dump file failed: ${r.stderr}`);
    return r.stdout;
  });
}
