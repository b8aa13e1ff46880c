/**
 * Reading tracefs's trace_pipe, where bpf_trace_printk() (bpf_printk in C) writes, without
 * blocking the event loop: the file is opened O_NONBLOCK, readiness comes from epoll through the
 * addon, and reads stop at EAGAIN.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TsbpfError } from '../errors.js';
import { Errno, explainLine, explaining, syscallError } from '../sys/index.js';
import { ensureTracefs } from '../tracefs/mount.js';
import { FdWatch, pollError, Waiter } from './readiness.js';

/** One line of trace_pipe. */
export interface TraceLine {
  /** The task's comm (may contain spaces and dashes; `<...>` when the kernel no longer knows it). */
  comm: string;
  /** The thread id that wrote the line. */
  pid: number;
  /** The thread group id, when the record-tgid option is on. */
  tgid?: number;
  cpu: number;
  /** The latency flags column (irqs-off, need-resched, hardirq/softirq, preempt depth), '' when off. */
  flags: string;
  /** Seconds, in the trace clock (by default `local`, close to CLOCK_MONOTONIC). */
  timestamp: number;
  /** The event: 'bpf_trace_printk' for bpf_printk lines. */
  event: string;
  /** What the program printed, without the trailing newline. */
  message: string;
}

// <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>: <event>: <message>
// The comm is matched lazily, so the first "-<digits> [cpu]" decides: later text in the
// message cannot be mistaken for the prefix.
const LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S+)\s+)?(\d+(?:\.\d+)?):\s(.*)$/;
const EVENT = /^([\w.:-]+?|0x[0-9a-f]+):(?:\s|$)/;

/**
 * Parses one trace_pipe line, e.g.
 * `python3-1234 [001] d..31 5762.193418: bpf_trace_printk: hello` into
 * `{comm: 'python3', pid: 1234, cpu: 1, flags: 'd..31', timestamp: 5762.193418, event: 'bpf_trace_printk', message: 'hello'}`.
 * Accepts the `bpf_trace_printk:` event name of Linux 5.2+ and the older `bpf_trace_printk`
 * without colon, the record-tgid column, and lines without the flags column. Undefined for
 * lines that are not trace records (e.g. `CPU:1 [LOST 12 EVENTS]`).
 */
export function parseTraceLine(line: string): TraceLine | undefined {
  const m = LINE.exec(line.replace(/\r?\n$/, ''));
  if (!m) return undefined;
  const [, comm, pid, tgid, cpu, flags, ts, rest] = m as unknown as [string, string, string, string | undefined, string, string | undefined, string, string];
  let event = '';
  let message = rest;
  if (rest.startsWith('bpf_trace_printk:')) {
    event = 'bpf_trace_printk';
    message = rest.slice('bpf_trace_printk:'.length);
  } else if (rest.startsWith('bpf_trace_printk ')) {
    event = 'bpf_trace_printk';
    message = rest.slice('bpf_trace_printk'.length);
  } else {
    const e = EVENT.exec(rest);
    if (e) {
      event = e[1]!;
      message = rest.slice(e[0].length - (e[0].endsWith(' ') ? 1 : 0));
    }
  }
  if (message.startsWith(' ')) message = message.slice(1);
  const line2: TraceLine = { comm: comm.trim(), pid: Number(pid), cpu: Number(cpu), flags: flags ?? '', timestamp: Number(ts), event, message };
  if (tgid !== undefined && /^\d+$/.test(tgid)) line2.tgid = Number(tgid);
  return line2;
}

/** Options of {@link TracePipeReader.open}. */
export interface TracePipeOptions {
  /** The tracefs directory (default: the mounted one, mounting it when missing and permitted). */
  root?: string;
  /** Only lines of this event (e.g. 'bpf_trace_printk'); default: every parsed line. */
  event?: string;
}

/** Options of {@link TracePipeReader.lines}. */
export interface TracePipeIterateOptions {
  /** Ends the iteration (cleanly) when aborted. */
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;
/** Chunks read in a row before letting the event loop run (a flood must not starve it). */
const CHUNKS_PER_TURN = 16;

/**
 * A reader of trace_pipe. Reading consumes: every reader of trace_pipe in the system shares
 * one stream, so filter on `pid` or your message.
 *
 * @example
 * await using pipe = await TracePipeReader.open({ event: 'bpf_trace_printk' });
 * for await (const line of pipe.lines({ signal: AbortSignal.timeout(5000) })) console.log(line.pid, line.message);
 */
export class TracePipeReader implements AsyncIterable<TraceLine>, Disposable, AsyncDisposable {
  /** trace_pipe's path. */
  readonly path: string;
  private fd: number;
  private readonly watch: FdWatch;
  private readonly waiter = new Waiter();
  private readonly event: string | undefined;
  private readonly buf = Buffer.alloc(CHUNK);
  /** Keeps a UTF-8 character split between two reads whole. */
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private queue: TraceLine[] = [];
  private head = 0;
  private active = false;
  private lostEvents = 0;
  private unparsedLines = 0;

  private constructor(path: string, fd: number, event: string | undefined) {
    this.path = path;
    this.fd = fd;
    this.event = event;
    this.watch = new FdWatch(fd, (status) => this.ready(status), path);
  }

  /**
   * Opens trace_pipe (O_RDONLY | O_NONBLOCK), mounting tracefs first when needed. Throws a
   * NotSupportedError when tracefs is missing and cannot be mounted, a SyscallError when the
   * open is refused.
   */
  static async open(options: TracePipeOptions = {}): Promise<TracePipeReader> {
    // Mounting (once, on a fresh machine) runs mount(8); every later open finds it mounted.
    const root = options.root ?? ensureTracefs();
    const path = join(root, 'trace_pipe');
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (explaining()) explainLine(`open("${path}", O_RDONLY|O_NONBLOCK) = -1 ${e.code}`);
      throw syscallError('open', Errno[e.code as keyof typeof Errno] ?? Errno.EIO, path);
    }
    if (explaining()) explainLine(`open("${path}", O_RDONLY|O_NONBLOCK) = ${fd}`);
    return new TracePipeReader(path, fd, options.event);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** Events the kernel reported lost (its "CPU:n [LOST k EVENTS]" lines). */
  get lost(): number {
    return this.lostEvents;
  }

  /** Lines that were not trace records. */
  get unparsed(): number {
    return this.unparsedLines;
  }

  /**
   * Reads what is there, up to `maxChunks` reads; false once trace_pipe said EAGAIN (empty).
   */
  private fill(maxChunks: number): boolean {
    for (let i = 0; i < maxChunks; i++) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
        if (code === 'EINTR') continue;
        throw syscallError('read', Errno[code as keyof typeof Errno] ?? Errno.EIO, this.path);
      }
      if (n === 0) return false;
      const text = this.partial + this.decoder.write(this.buf.subarray(0, n));
      const lines = text.split('\n');
      this.partial = lines.pop()!;
      for (const l of lines) this.take(l);
    }
    return true;
  }

  private take(text: string): void {
    if (text === '') return;
    const lost = /^CPU:(\d+) \[LOST (\d+) EVENTS\]/.exec(text);
    if (lost) {
      this.lostEvents += Number(lost[2]);
      return;
    }
    const line = parseTraceLine(text);
    if (!line) {
      this.unparsedLines++;
      return;
    }
    if (this.event === undefined || line.event === this.event) this.queue.push(line);
  }

  /** Lines that are ready now, without waiting (at most 16 reads of what trace_pipe has). */
  readAvailable(): TraceLine[] {
    if (this.closed) return [];
    this.fill(CHUNKS_PER_TURN);
    return this.shift(Infinity);
  }

  private shift(max: number): TraceLine[] {
    const out = this.queue.slice(this.head, this.head + max);
    this.head += out.length;
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return out;
  }

  /** The lines as they arrive, until the reader is closed or the signal aborts. */
  lines(options: TracePipeIterateOptions = {}): AsyncIterableIterator<TraceLine> {
    if (this.active) throw new TsbpfError(`${this.path}: already being iterated`);
    this.active = true;
    return this.iterate(options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<TraceLine> {
    return this.lines();
  }

  private async *iterate(signal: AbortSignal | undefined): AsyncGenerator<TraceLine, void, undefined> {
    try {
      let chunks = 0;
      while (!this.closed && !signal?.aborted) {
        if (this.head < this.queue.length) {
          yield this.queue[this.head++]!;
          continue;
        }
        this.queue = [];
        this.head = 0;
        if (this.fill(1)) {
          if (++chunks >= CHUNKS_PER_TURN) {
            chunks = 0;
            await nextTurn();
          }
          continue;
        }
        chunks = 0;
        this.watch.start();
        if (!(await this.waiter.wait(signal))) return;
      }
    } finally {
      this.active = false;
      this.watch.stop();
    }
  }

  private ready(status: number): void {
    if (status < 0) return this.waiter.fail(pollError(status, this.path));
    if (this.waiter.waiting) this.waiter.wake();
    // trace_pipe polls level-triggered: unregister while nobody waits.
    else this.watch.stop();
  }

  /** Closes trace_pipe; iterators end. Closing again does nothing. */
  close(): void {
    if (this.fd < 0) return;
    this.watch.stop();
    this.waiter.cancel();
    closeSync(this.fd);
    this.fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/**
 * The bpf_trace_printk lines of trace_pipe as they arrive, until `signal` aborts: opens (and
 * closes) a {@link TracePipeReader}.
 *
 * @example
 * for await (const line of tracePrintk({ signal })) console.log(`${line.comm}[${line.pid}] ${line.message}`);
 */
export async function* tracePrintk(options: TracePipeOptions & TracePipeIterateOptions = {}): AsyncGenerator<TraceLine, void, undefined> {
  const reader = await TracePipeReader.open({ event: 'bpf_trace_printk', ...options });
  try {
    yield* reader.lines({ signal: options.signal });
  } finally {
    reader.close();
  }
}
