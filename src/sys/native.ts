/**
 * The seam between tsbpf and the kernel: the system calls of the native addon (native/tsbpf.c)
 * behind an interface, so tests can inject a fake kernel. Every call returns the kernel's
 * result or -errno; nothing here throws for a failed system call.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotSupportedError } from '../errors.js';

/** A registration of an fd with the event loop; see {@link Syscalls.poll}. */
export type PollHandle = object;

/** The system calls tsbpf makes. */
export interface Syscalls {
  /** bpf(cmd, attr, sizeof attr): result or -errno. The kernel may write into `attr`. */
  bpf(cmd: number, attr: Uint8Array): number;
  /** perf_event_open(attr, pid, cpu, group_fd, flags): fd or -errno. */
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** ioctl(fd, request, arg): result or -errno. */
  ioctl(fd: number, request: number, arg: number | bigint | Uint8Array): number;
  /** close(fd): 0 or -errno. */
  close(fd: number): number;
  /** mmap(NULL, length, prot, flags, fd, offset): the mapping, or -errno. */
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  /** Unmaps a buffer returned by mmap and detaches it: 0 or -errno. */
  munmap(buffer: ArrayBuffer): number;
  /** Address of a view's first byte, for pointers inside bpf_attr. */
  addressOf(view: ArrayBufferView): bigint;
  /** Calls `callback(status, events)` on the event loop whenever `fd` is ready; a handle or -errno. */
  poll(fd: number, events: number, callback: (status: number, events: number) => void): PollHandle | number;
  /** Stops a poll registration. */
  pollStop(handle: PollHandle): void;
  /** Whether an active poll keeps the process alive (default yes). */
  pollRef(handle: PollHandle, on: boolean): void;
}

/** Readiness bits of {@link Syscalls.poll} (libuv's UV_READABLE, UV_WRITABLE). */
export const PollEvents = { READABLE: 1, WRITABLE: 2 } as const;

const ADDON_PATHS = ['build/Release/tsbpf.node', 'build/Debug/tsbpf.node'];

function packageRoot(): string {
  // dist/src/sys/native.js -> package root
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

let native: Syscalls | undefined;

/** The real system calls, from the native addon built by `npm install`. */
export function nativeSyscalls(): Syscalls {
  if (native) return native;
  const root = packageRoot();
  const path = ADDON_PATHS.map((p) => join(root, p)).find((p) => existsSync(p));
  if (!path) {
    throw new NotSupportedError(
      'the native addon',
      `build/Release/tsbpf.node is missing; run "npm install" (or "npm run build:native") in ${root} (needs python3, make and g++)`,
    );
  }
  native = createRequire(import.meta.url)(path) as Syscalls;
  return native;
}

let current: Syscalls | undefined;

/** The system calls in use: the native ones unless a test installed others. */
export function syscalls(): Syscalls {
  return (current ??= nativeSyscalls());
}

/**
 * Replaces the system calls (a fake kernel in unit tests); returns a function that restores the
 * previous ones.
 */
export function useSyscalls(replacement: Syscalls): () => void {
  const previous = current;
  current = replacement;
  return () => {
    current = previous;
  };
}
