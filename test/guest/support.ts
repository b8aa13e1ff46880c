/**
 * Helpers of the guest tests: tests of what only the emulated second kernel allows (kprobes,
 * fentry/fexit, BPF LSM, fmod_ret; the host's 6.18 refuses them) and of how it differs.
 *
 * They run inside the guest that `npm run test:kernel -- 6.1` boots (scripts/guest), whose init
 * sets TSBPF_GUEST=6.1. scripts/test.mjs leaves dist/test/guest out of host runs (except
 * all-kernels/, which runs everywhere), so on the host they are not even registered; run by hand
 * there, they skip saying where they run.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { BpfMap } from '../../src/kernel/index.js';
import { guestKernel, kernelTest, type KernelTestOptions } from '../support/kernel.js';

/** The repository root (tests run from dist/test/guest). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** testdata/guest: the clang-built fixtures and their sources. */
export const FIXTURES = join(ROOT, 'testdata', 'guest');
/** The kernel the guest tests are written for. */
export const GUEST = '6.1';

/** Why guest tests do not run here, or undefined inside the guest. */
export const notInGuest: string | undefined = guestKernel === GUEST ? undefined : `runs only inside the ${GUEST} guest (npm run test:kernel -- ${GUEST})${guestKernel ? `, not in the ${guestKernel} guest` : ''}`;

/** A kernel test that runs only inside the guest; elsewhere it skips, saying so. */
export function guestTest(name: string, fn: (t: TestContext) => void | Promise<void>, options: KernelTestOptions = {}): void {
  if (notInGuest) {
    test(name, { skip: notInGuest }, () => {});
    return;
  }
  kernelTest(name, fn, options);
}

/** struct seen of testdata/guest/common.h: what a program saw in one process. */
export interface Seen {
  calls: number;
  ret: bigint;
  arg: bigint;
  name: string;
}

/** The record of process `tgid` in a map of struct seen, or undefined when it has none. */
export function seenBy(map: BpfMap, tgid: number): Seen | undefined {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, tgid, true);
  const v = map.lookupBytes(key);
  if (!v) return undefined;
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const name = Buffer.from(v.subarray(24, 88)).toString('latin1');
  return { calls: Number(view.getBigUint64(0, true)), ret: view.getBigInt64(8, true), arg: view.getBigInt64(16, true), name: name.slice(0, name.indexOf('\0') < 0 ? undefined : name.indexOf('\0')) };
}

/** AT_FDCWD (include/uapi/linux/fcntl.h): the dfd of unlink(2) as do_unlinkat sees it. */
export const AT_FDCWD = -100n;

/** Runs `unlink PATH` (coreutils: one unlink(2)); returns its pid and exit status. */
export function unlinkInChild(path: string): { pid: number; status: number | null } {
  const r = spawnSync('unlink', [path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { pid: r.pid!, status: r.status };
}
