/**
 * mmap/munmap for the readers, with typed errors. Internal to src/events.
 */
import { Errno, errnoName, explainLine, explaining, syscallError, syscalls } from '../sys/index.js';

/** mmap protections and flags (include/uapi/asm-generic/mman-common.h, mman.h). */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;

/** mmap(NULL, length, prot, MAP_SHARED, fd, offset); throws a SyscallError naming `subject`. */
export function mapShared(fd: number, length: number, prot: number, offset: number, subject: string): ArrayBuffer {
  const m = syscalls().mmap(fd, length, prot, MAP_SHARED, offset);
  if (explaining()) {
    const protText = prot === PROT_READ ? 'PROT_READ' : prot === (PROT_READ | PROT_WRITE) ? 'PROT_READ|PROT_WRITE' : String(prot);
    explainLine(`mmap(NULL, ${length}, ${protText}, MAP_SHARED, ${fd}, ${offset}) = ${typeof m === 'number' ? `-1 ${errnoName(-m)}` : `[${m.byteLength} bytes]`}`);
  }
  if (typeof m === 'number') throw syscallError('mmap', -m, subject, mmapRemedy(-m));
  return m;
}

/** Unmaps a buffer from {@link mapShared}; it reads as empty afterwards. Errors are ignored. */
export function unmap(buffer: ArrayBuffer | undefined): void {
  if (!buffer || buffer.byteLength === 0) return;
  const length = buffer.byteLength;
  const ret = syscalls().munmap(buffer);
  if (explaining()) explainLine(`munmap([${length} bytes]) = ${ret < 0 ? `-1 ${errnoName(-ret)}` : 0}`);
}

function mmapRemedy(errno: number): string | undefined {
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      return 'the kernel refused the mapping: ring buffers map the producer side read-only, and need root or CAP_BPF (CAP_PERFMON / perf_event_paranoid for perf buffers)';
    case Errno.ENOMEM:
      return 'out of memory, or (perf buffers) above the perf_event_mlock_kb limit: use fewer pages per CPU';
    case Errno.EINVAL:
      return 'the length or offset is not what this map accepts (ring buffer sizes are a power of two and a multiple of the page size)';
    default:
      return undefined;
  }
}
