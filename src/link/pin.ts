/**
 * Pinning links on a bpffs (BPF_OBJ_PIN), and removing pins. A pin is a file: it keeps the link
 * (and so the attachment) alive after every fd is closed, until it is removed.
 */
import { statfsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsbpfError } from '../errors.js';
import { bpf, Fd } from '../sys/index.js';

/** BPF_FS_MAGIC (include/uapi/linux/magic.h). */
const BPF_FS_MAGIC = 0xcafe4a11;

/** Whether `dir` is on a bpffs. */
export function isBpffs(dir: string): boolean {
  try {
    return statfsSync(dir).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** Pins `fd` at `path`; the directory must be on a bpffs. */
export function pinObject(fd: Fd, path: string, what: string): void {
  const dir = dirname(path);
  if (!isBpffs(dir)) {
    throw new TsbpfError(
      `cannot pin ${what} at ${path}: ${dir} is not on a bpffs (mount one with "mount -t bpf bpf /sys/fs/bpf", or pin under an existing bpffs mount)`,
    );
  }
  bpf('OBJ_PIN', { pathname: path, bpf_fd: fd.value }, { subject: `${what} at ${path}` });
}

/** Removes a pin (a file on bpffs). */
export function unpinObject(path: string): void {
  unlinkSync(path);
}

/** Opens a pinned object (BPF_OBJ_GET). */
export function openPinned(path: string): Fd {
  return new Fd(bpf('OBJ_GET', { pathname: path }, { subject: path }).ret);
}
