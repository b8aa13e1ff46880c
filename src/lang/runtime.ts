/**
 * What the lang declarations do when Node runs them (user-side code imports a kernel module for
 * its types and descriptors): declarators build small descriptor objects; operations that only
 * mean something inside the kernel throw KernelOnlyError.
 */
import { TsbpfError } from '../errors.js';

/**
 * A kernel-side operation (a map lookup, a helper call) was called in Node. Kernel programs are
 * compiled (`tsbpf build`, `load(url)`) and run in the kernel or in the VM, not executed by Node.
 */
export class KernelOnlyError extends TsbpfError {
  override name = 'KernelOnlyError';
  constructor(
    /** The operation, e.g. 'HashMap.lookup'. */
    readonly operation: string,
  ) {
    super(`${operation} runs in the kernel: compile the program (tsbpf build, or load(url)) and use the live maps of the loaded collection in Node`);
  }
}

/** Throws KernelOnlyError for `operation`. */
export function kernelOnly(operation: string): never {
  throw new KernelOnlyError(operation);
}
