/**
 * Failed system calls as typed errors: which operation, which errno, and what to do about it.
 */
import { TsbpfError } from '../errors.js';
import { Errno, errnoMessage, errnoName } from './errno.js';

/** A system call the kernel refused. */
export class SyscallError extends TsbpfError {
  override name = 'SyscallError';
  /** errno name, e.g. 'EPERM'. */
  readonly code: string;
  constructor(
    /** The operation: 'BPF_MAP_CREATE', 'perf_event_open', 'PERF_EVENT_IOC_SET_BPF', ... */
    readonly op: string,
    readonly errno: number,
    /** What the user can do about it, when there is something. */
    readonly remedy: string | undefined,
    /** What was being done, e.g. "map 'counts'". */
    readonly subject?: string,
  ) {
    const code = errnoName(errno);
    super(`${op}${subject ? ` (${subject})` : ''} failed: ${code} (${errnoMessage(errno)})${remedy ? `: ${remedy}` : ''}`);
    this.code = code;
  }
}

/** EPERM or EACCES: missing privileges, or a security policy refusing the operation. */
export class PermissionError extends SyscallError {
  override name = 'PermissionError';
}

const isRoot = (): boolean => typeof process.geteuid === 'function' && process.geteuid() === 0;

/** The remedy for an errno from an operation, in words a user can act on. */
export function remedyFor(op: string, errno: number): string | undefined {
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      return isRoot()
        ? 'this process is root, so the kernel or its security policy (lockdown, an LSM, a sysctl) refuses it; check dmesg and /sys/kernel/security/lockdown'
        : 'needs root, or CAP_BPF + CAP_PERFMON (CAP_NET_ADMIN for network programs, CAP_SYS_ADMIN on kernels before 5.8)';
    case Errno.E2BIG:
      return op === 'BPF_MAP_UPDATE_ELEM' ? 'the map is full (max_entries reached)' : 'a size is larger than this kernel accepts (key, value, max_entries or attr)';
    case Errno.ENOMEM:
      return 'out of kernel memory (kernels before 5.11 charge BPF to RLIMIT_MEMLOCK: raise it with ulimit -l)';
    case Errno.EMFILE:
      return 'too many open file descriptors: close unused maps, programs and links, or raise ulimit -n';
    case Errno.EBADF:
      return 'the file descriptor is not open (was the map, program or link already closed?)';
    case Errno.ENOSYS:
      return 'the kernel was built without this system call (CONFIG_BPF_SYSCALL / CONFIG_PERF_EVENTS)';
    case Errno.EOPNOTSUPP:
    case Errno.ENOTSUPP:
      return 'this kernel does not support the operation for this map or program type';
    case Errno.EINVAL:
      return 'the kernel rejected an argument: a flag, type or attribute this kernel does not know, or a value out of range';
    default:
      return undefined;
  }
}

/** The typed error for a failed call. */
export function syscallError(op: string, errno: number, subject?: string, remedy = remedyFor(op, errno)): SyscallError {
  return errno === Errno.EPERM || errno === Errno.EACCES ? new PermissionError(op, errno, remedy, subject) : new SyscallError(op, errno, remedy, subject);
}
