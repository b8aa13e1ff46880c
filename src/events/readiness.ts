/**
 * Readiness of a file descriptor on the Node event loop, through the addon's `poll` (libuv's
 * uv_poll_t, i.e. epoll, level-triggered). Nothing here blocks a thread: the callback runs on the
 * JS thread when epoll reports the fd.
 *
 * Internal to src/events.
 */
import { errnoName, explainLine, explaining, syscallError, syscalls, PollEvents, type PollHandle } from '../sys/index.js';

/** Records an iterator yields in a row before it lets the event loop run (see the readers). */
export const YIELD_EVERY = 4096;

/** A persistent poll registration of one fd. */
export class FdWatch {
  private handle: PollHandle | undefined;
  private referenced = true;

  constructor(
    readonly fd: number,
    /** Called on the event loop with libuv's status (0, or -errno) whenever the fd is readable. */
    private readonly onReady: (status: number) => void,
    private readonly subject: string,
  ) {}

  get active(): boolean {
    return this.handle !== undefined;
  }

  /** Registers the fd with the event loop (no-op when registered). Throws a SyscallError. */
  start(): void {
    if (this.handle) return;
    const h = syscalls().poll(this.fd, PollEvents.READABLE, (status) => this.onReady(status));
    if (explaining()) explainLine(`epoll_ctl(EPOLL_CTL_ADD, ${this.fd}, EPOLLIN) (uv_poll_start)${typeof h === 'number' ? ` = -1 ${errnoName(-h)}` : ''}`);
    if (typeof h === 'number') throw syscallError('epoll_ctl (uv_poll_start)', -h, this.subject);
    this.handle = h;
    if (!this.referenced) syscalls().pollRef(h, false);
  }

  /** Unregisters the fd (no-op when not registered). */
  stop(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    syscalls().pollStop(h);
    if (explaining()) explainLine(`epoll_ctl(EPOLL_CTL_DEL, ${this.fd}) (uv_poll_stop)`);
  }

  /** Whether a registration keeps the process alive (default: yes). */
  ref(on: boolean): void {
    this.referenced = on;
    if (this.handle) syscalls().pollRef(this.handle, on);
  }
}

/**
 * One pending "wait until ready" at a time: resolves true when woken, false when aborted or
 * closed, and rejects with an error from the watch.
 */
export class Waiter {
  private resolve: ((ready: boolean) => void) | undefined;
  private reject: ((err: Error) => void) | undefined;

  get waiting(): boolean {
    return this.resolve !== undefined;
  }

  /** A promise settled by {@link wake}, {@link cancel} or {@link fail}, or by `signal`. */
  wait(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = (): void => this.settle(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.resolve = (ready) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ready);
      };
      this.reject = (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
    });
  }

  private settle(ready: boolean): void {
    const r = this.resolve;
    this.resolve = this.reject = undefined;
    r?.(ready);
  }

  wake(): void {
    this.settle(true);
  }

  cancel(): void {
    this.settle(false);
  }

  fail(err: Error): void {
    const r = this.reject;
    this.resolve = this.reject = undefined;
    r?.(err);
  }
}

/** The error for a poll callback reporting a failure (libuv status = -errno). */
export function pollError(status: number, subject: string): Error {
  return syscallError('epoll_wait (uv_poll)', -status, subject);
}
