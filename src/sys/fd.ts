/**
 * File descriptors the kernel gave tsbpf. An Fd closes exactly once, is disposable, and is
 * closed by a finalizer if it is dropped unclosed (which is still a bug: close what you open).
 * Open fds are counted so tests can prove nothing leaks.
 */
import { TsbpfError } from '../errors.js';
import { syscalls } from './native.js';

let open = 0;
const finalizer = new FinalizationRegistry<number>((fd) => {
  open--;
  syscalls().close(fd);
});

/** An open file descriptor of a map, program, link, BTF object or perf event. */
export class Fd {
  private fd: number;

  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new TsbpfError(`not a file descriptor: ${fd}`);
    this.fd = fd;
    open++;
    finalizer.register(this, fd, this);
  }

  /** The number, for system calls; throws once closed. */
  get value(): number {
    if (this.fd < 0) throw new TsbpfError('file descriptor used after close()');
    return this.fd;
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** Closes the descriptor; closing again does nothing. */
  close(): void {
    if (this.fd < 0) return;
    finalizer.unregister(this);
    syscalls().close(this.fd);
    this.fd = -1;
    open--;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** How many Fds are open in this process (for leak tests). */
export function openFds(): number {
  return open;
}
