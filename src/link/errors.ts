/**
 * What can go wrong when attaching, as error classes with fields: which attach kind, which
 * target, and where the user can look for valid names.
 */
import { TsbpfError } from '../errors.js';

/**
 * The thing to attach to does not exist: a tracepoint, a kernel or ELF symbol, a BTF type, a
 * network interface, a cgroup, a USDT probe.
 */
export class AttachTargetNotFoundError extends TsbpfError {
  override name = 'AttachTargetNotFoundError';
  constructor(
    /** The attach kind, e.g. 'tracepoint', 'uprobe', 'usdt'. */
    readonly kind: string,
    /** The target as the user named it, e.g. 'syscalls/sys_enter_nope'. */
    readonly target: string,
    /** Where valid names can be found (a file, a directory, a command). */
    readonly where: string,
  ) {
    super(`${kind} target '${target}' does not exist: ${where}`);
  }
}

/**
 * The request cannot work whatever the kernel: a program of the wrong type for this attach kind,
 * a malformed name, conflicting options. Raised before any system call is made.
 */
export class InvalidAttachError extends TsbpfError {
  override name = 'InvalidAttachError';
  constructor(
    /** The attach kind, e.g. 'tracepoint'. */
    readonly kind: string,
    /** What is wrong and what is expected instead. */
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}
