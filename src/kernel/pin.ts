/**
 * Pinning: a BPF object outlives its process when it is pinned to a path on a BPF filesystem
 * (bpffs, conventionally mounted at /sys/fs/bpf). BPF_OBJ_PIN creates the path, BPF_OBJ_GET
 * opens it again, and unlink(2) removes the pin. The kernel refuses paths elsewhere with a bare
 * EPERM, so the filesystem is checked first and the error says what is wrong.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TsbpfError } from '../errors.js';
import { bpf, Errno, Fd, nativeSyscalls, syscalls } from '../sys/index.js';

/** BPF_FS_MAGIC from include/uapi/linux/magic.h: statfs(2)'s f_type on a bpffs. */
export const BPF_FS_MAGIC = 0xcafe4a11;
/** Where bpffs is mounted by convention (and where tsbpf mounts it when it is not). */
export const BPFFS_ROOT = '/sys/fs/bpf';

/** A pin path that is not on a BPF filesystem, or a bpffs that is missing and cannot be mounted. */
export class BpffsError extends TsbpfError {
  override name = 'BpffsError';
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** Pinning to a path that already holds a pin (EEXIST). */
export class PinExistsError extends TsbpfError {
  override name = 'PinExistsError';
  constructor(readonly path: string) {
    super(`${path} is already pinned; unpin it first (or open it with fromPin)`);
  }
}

/** Opening a path where nothing is pinned (ENOENT). */
export class PinNotFoundError extends TsbpfError {
  override name = 'PinNotFoundError';
  constructor(readonly path: string) {
    super(`nothing is pinned at ${path}`);
  }
}

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type >>> 0;
  } catch {
    return undefined;
  }
}

/** Whether `path` (which must exist) is on a BPF filesystem. */
export function isBpffs(path: string): boolean {
  return fsType(path) === BPF_FS_MAGIC;
}

function fake(): boolean {
  try {
    return syscalls() !== nativeSyscalls();
  } catch {
    return true;
  }
}

/**
 * Makes sure a bpffs is mounted at `root` (default /sys/fs/bpf): mounts one there when it is
 * missing and this process may (`mount -t bpf bpf /sys/fs/bpf`, which needs root), otherwise
 * throws a BpffsError saying how to do it.
 *
 * @example
 * ensureBpffs(); // then pin under /sys/fs/bpf
 */
export function ensureBpffs(root = BPFFS_ROOT): void {
  if (isBpffs(root)) return;
  const how = `mount one with "mount -t bpf bpf ${root}"`;
  if (!existsSync(root)) throw new BpffsError(root, `does not exist, so no BPF filesystem can be mounted there; create it and ${how}`);
  if (process.geteuid?.() !== 0) throw new BpffsError(root, `is not a BPF filesystem and mounting one needs root: ${how}`);
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new BpffsError(root, `is not a BPF filesystem and mounting one failed${stderr ? `: ${stderr}` : ''}; ${how}`);
  }
  if (!isBpffs(root)) throw new BpffsError(root, `mount reported success but the path is still not a BPF filesystem; ${how}`);
}

/** The nearest existing ancestor of `path` (itself when it exists). */
function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return p;
}

/**
 * Checks that a pin path's directory is on bpffs, mounting /sys/fs/bpf when the path is under
 * it and nothing is mounted there, and creating missing directories inside the bpffs.
 */
export function preparePinPath(path: string, createDirs = true): string {
  const abs = resolve(path);
  if (fake()) return abs; // a fake kernel pins nowhere
  const dir = dirname(abs);
  if ((abs === BPFFS_ROOT || abs.startsWith(BPFFS_ROOT + '/')) && !isBpffs(BPFFS_ROOT)) ensureBpffs(BPFFS_ROOT);
  const existing = existingAncestor(dir);
  if (!isBpffs(existing)) {
    throw new BpffsError(
      abs,
      `${existing} is not on a BPF filesystem (the kernel pins only there, and refuses a path not on a bpffs with EPERM); pin under ${BPFFS_ROOT} (mount it with "mount -t bpf bpf ${BPFFS_ROOT}" if needed)`,
    );
  }
  if (existing !== dir) {
    if (!createDirs) throw new BpffsError(abs, `directory ${dir} does not exist`);
    mkdirSync(dir, { recursive: true });
  }
  return abs;
}

/**
 * Pins an object's fd at `path` (BPF_OBJ_PIN). Throws BpffsError when the path is not on bpffs
 * and PinExistsError when something is pinned there already.
 */
export function pinFd(fd: number, path: string, subject: string): string {
  const abs = preparePinPath(path);
  const { ret } = bpf('OBJ_PIN', { pathname: abs, bpf_fd: fd }, { allow: [Errno.EEXIST], subject: `${subject} -> ${abs}` });
  if (ret === -Errno.EEXIST) throw new PinExistsError(abs);
  return abs;
}

/** Flags of {@link openPinnedFd}: BPF_F_RDONLY / BPF_F_WRONLY for the new fd. */
export interface OpenPinOptions {
  readOnly?: boolean;
  writeOnly?: boolean;
}

/** Opens a pinned object (BPF_OBJ_GET); the caller owns the fd. */
export function openPinnedFd(path: string, options: OpenPinOptions = {}): Fd {
  const abs = resolve(path);
  if (!fake()) {
    if (!existsSync(abs)) throw new PinNotFoundError(abs);
    if (!isBpffs(abs)) throw new BpffsError(abs, `is not on a BPF filesystem, so it is not a pin`);
  }
  const flags = (options.readOnly ? 8 : 0) | (options.writeOnly ? 16 : 0);
  const { ret } = bpf('OBJ_GET', { pathname: abs, file_flags: flags }, { allow: [Errno.ENOENT], subject: abs });
  if (ret === -Errno.ENOENT) throw new PinNotFoundError(abs);
  return new Fd(ret);
}

/**
 * Removes a pin (the object lives on while fds or links hold it). Returns false when nothing
 * was pinned there. Refuses paths off bpffs, so a typo cannot delete an ordinary file.
 */
export function unpinPath(path: string): boolean {
  const abs = resolve(path);
  if (fake()) return true;
  if (!existsSync(abs)) return false;
  if (!isBpffs(abs)) throw new BpffsError(abs, 'is not on a BPF filesystem: refusing to remove something that is not a pin');
  rmSync(abs);
  return true;
}
