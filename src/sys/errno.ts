/**
 * errno names and messages. Linux's numbers come from Node (os.constants.errno); ENOTSUPP
 * (524) is kernel-internal but leaks out of bpf() and is added here.
 */
import { constants } from 'node:os';

/** The kernel-internal "operation not supported" (include/linux/errno.h) bpf() can return. */
export const ENOTSUPP = 524;

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
names.set(ENOTSUPP, 'ENOTSUPP');

/** 'EPERM' for 1, 'ENOTSUPP' for 524, 'E<n>' for unknown numbers. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

/** errno by name, e.g. errno('ENOENT') === 2. */
export const Errno = { ...constants.errno, ENOTSUPP } as const;

const MESSAGES: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUPP: 'Operation not supported (kernel internal ENOTSUPP)',
  ENXIO: 'No such device or address',
  EPROTO: 'Protocol error',
};

/** strerror(): the C library's message for an errno. */
export function errnoMessage(errno: number): string {
  return MESSAGES[errnoName(errno)] ?? `errno ${errno}`;
}
