/**
 * The callback API both ring readers share: drain on every readiness report until closed,
 * aborted or failed, optionally coalescing wakeups under load. Internal to src/events.
 */
import { TsbpfError } from '../errors.js';
import { pollError } from './readiness.js';

/** A wakeup that finds at least this many records means the ring is busy (for coalescing). */
export const BUSY_RECORDS = 4;

/** What a consume session needs of its reader. */
export interface ConsumeTarget {
  readonly subject: string;
  /** Ring capacity in bytes (a tick that consumes over an eighth of it comes back at once). */
  readonly capacity: number;
  closed(): boolean;
  /** Reads every record that is there, calling the user's function; may throw. */
  drain(): number;
  /** Bytes consumed so far (monotonic). */
  position(): number;
  /** Registers with epoll (again). */
  arm(): void;
  /** Stops epoll reports, for coalescing or at the end (a no-op where registrations persist). */
  disarm(): void;
  /** The session ended, after `wakeups` wakeups that found records. */
  ended(wakeups: number): void;
}

/** Options of a consume session. */
export interface ConsumeSessionOptions {
  signal?: AbortSignal;
  /** 0: drain on every wakeup; n: under load, drain every n ms instead (see RingBufReader.consume). */
  coalesceMs?: number;
  /** Whether coalescing timers keep the process alive. */
  referenced?: boolean;
  /** Drain once at the start (for readiness that does not report what came before). */
  drainAtStart?: boolean;
}

/** One run of a reader's `consume()`. */
export class ConsumeSession {
  readonly done: Promise<void>;
  /** Wakeups (epoll or timer) that found records. */
  wakeups = 0;
  private resolve!: () => void;
  private reject!: (err: Error) => void;
  private finished = false;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private readonly coalesce: number;
  private readonly onAbort = (): void => this.finish();

  constructor(
    private readonly target: ConsumeTarget,
    private readonly options: ConsumeSessionOptions = {},
  ) {
    this.coalesce = Math.max(0, options.coalesceMs ?? 0);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (target.closed() || options.signal?.aborted) {
      this.finish();
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      target.arm();
    } catch (err) {
      this.finish(err as Error);
      return;
    }
    if (options.drainAtStart) queueMicrotask(() => this.ready(0));
  }

  get active(): boolean {
    return !this.finished;
  }

  /** Ends the session: resolves, or rejects with `err`. */
  finish(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.timer) {
      clearTimeout(this.timer as ReturnType<typeof setTimeout>);
      clearImmediate(this.timer as ReturnType<typeof setImmediate>);
      this.timer = undefined;
    }
    if (!this.target.closed()) this.target.disarm();
    this.target.ended(this.wakeups);
    if (err) this.reject(err);
    else this.resolve();
  }

  /** Reads what is there; -1 when the session ended. */
  private read(): number {
    let n: number;
    try {
      n = this.target.drain();
    } catch (err) {
      this.finish(err instanceof Error ? err : new TsbpfError(String(err)));
      return -1;
    }
    if (n > 0) this.wakeups++;
    if (this.target.closed()) {
      this.finish();
      return -1;
    }
    return n;
  }

  /** The readiness callback (libuv status: 0 or -errno). */
  ready(status: number): void {
    if (this.finished || this.timer) return;
    if (status < 0) return this.finish(pollError(status, this.target.subject));
    const n = this.read();
    if (n >= BUSY_RECORDS && this.coalesce > 0) {
      this.target.disarm();
      this.later(this.coalesce);
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.finished) return;
    const from = this.target.position();
    const n = this.read();
    if (n < 0) return;
    if (n >= BUSY_RECORDS) this.later(this.target.position() - from > this.target.capacity / 8 ? 0 : this.coalesce);
    else this.target.arm(); // quiet again: level-triggered epoll reports anything already there
  };

  private later(ms: number): void {
    const t = ms === 0 ? setImmediate(this.tick) : setTimeout(this.tick, ms);
    if (this.options.referenced === false) t.unref();
    this.timer = t;
  }
}
