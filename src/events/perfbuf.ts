/**
 * Reading a BPF perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY, Linux 4.4): one perf ring per
 * CPU, filled by bpf_perf_event_output() through a PERF_COUNT_SW_BPF_OUTPUT event.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TsbpfError } from '../errors.js';
import { bpf, newPerfAttr, perfEventOpen, perfIoctl } from '../sys/index.js';
import { PerfSampleFormat, PerfSwId, PerfType } from '../uapi/enums.js';
import { ConsumeSession } from './consume.js';
import { mapShared, PROT_READ, PROT_WRITE, unmap } from './mapping.js';
import { CpuRing, EMPTY, EMPTY_VIEW, SampleLease, type PerfBufStats, type PerfEvent } from './perf-ring.js';
import { FdWatch, pollError, Waiter, YIELD_EVERY } from './readiness.js';
import { resolveMap, type MapSource } from './source.js';
import { onlineCpus, pageSize } from '../sys/system.js';

export { PERF_EVENT_HEADER_SIZE, type PerfBufStats, type PerfEvent, type PerfLost, type PerfSample } from './perf-ring.js';

/** Options of {@link PerfBufReader.open}. */
export interface PerfBufReaderOptions {
  /** Data pages per CPU ring, a power of two (default 8). The mapping is one page more. */
  pagesPerCpu?: number;
  /** Wake the reader after this many samples (perf_event_attr.wakeup_events; default 1). */
  wakeupEvents?: number;
  /** Instead of counting samples, wake the reader once this many bytes are waiting (watermark). */
  wakeupBytes?: number;
  /** The CPUs to read (default: every online CPU). */
  cpus?: readonly number[];
}

/** Options of {@link PerfBufReader.records}. */
export interface PerfBufIterateOptions {
  /** Ends the iteration (cleanly) when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link PerfBufReader.consume}. */
export interface PerfBufConsumeOptions extends PerfBufIterateOptions {
  /**
   * Under load, read the rings every this many milliseconds instead of on every wakeup
   * (default 0). The kernel-side alternative is `wakeupEvents` / `wakeupBytes`.
   */
  coalesceMs?: number;
}

/**
 * A reader of a BPF perf event array: for each CPU it opens a PERF_TYPE_SOFTWARE /
 * PERF_COUNT_SW_BPF_OUTPUT event with sample_type PERF_SAMPLE_RAW, maps its ring (one
 * struct perf_event_mmap_page plus 2^n data pages), stores the event's fd in the map at index
 * cpu, registers it with the event loop and only then enables it (PERF_EVENT_IOC_ENABLE): a
 * wakeup before registration could be lost. Every wakeup scans every ring. data_head is loaded
 * with acquire and data_tail stored with release semantics (Atomics); records that wrap around
 * the end of a ring are copied. Losses (PERF_RECORD_LOST) are yielded and counted per CPU.
 *
 * Minimum kernel version: 4.4 (PERF_COUNT_SW_BPF_OUTPUT, bpf_perf_event_output).
 *
 * @example
 * using reader = PerfBufReader.open(eventsMap, { pagesPerCpu: 16 });
 * for await (const ev of reader.records({ signal })) {
 *   if (ev.type === 'lost') console.warn(`cpu ${ev.cpu} lost ${ev.lost}`);
 *   else handle(ev.data);
 * }
 */
export class PerfBufReader implements AsyncIterable<PerfEvent>, Disposable {
  /** The CPUs read, in ring order. */
  readonly cpus: readonly number[];
  private readonly rings: CpuRing[];
  private readonly subject: string;
  private readonly mapFd: number;
  /** @internal Bumped whenever leases end. */
  generation = 0;
  private readonly counters: PerfBufStats = { samples: 0, lost: 0, lostByCpu: new Map(), other: 0, wrapped: 0 };
  private readonly waiter = new Waiter();
  private session: ConsumeSession | undefined;
  private active: 'iterator' | 'consume' | undefined;
  private isClosed = false;
  private referenced = true;
  private cursor = 0;
  private readonly shared: SampleLease;

  private constructor(mapFd: number, subject: string) {
    this.mapFd = mapFd;
    this.subject = subject;
    this.rings = [];
    this.cpus = [];
    this.shared = new SampleLease(this, 0, EMPTY, EMPTY_VIEW, 0, 0, 0);
  }

  /**
   * Opens, maps and enables one BPF output event per CPU and stores them in `map` (a map
   * object such as BpfMap or PerfEventArray, or its fd; the array is indexed by CPU). Throws a
   * TsbpfError for a wrong map or option, a SyscallError when the kernel refuses; everything
   * opened so far is closed again on failure.
   *
   * @example
   * using events = BpfMap.create({ type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: possibleCpus().length, name: 'events' });
   * using reader = PerfBufReader.open(events);
   */
  static open(map: MapSource, options: PerfBufReaderOptions = {}): PerfBufReader {
    const { fd: mapFd, maxEntries, subject } = resolveMap(map, 'PERF_EVENT_ARRAY', 'perf event array');
    const pages = options.pagesPerCpu ?? 8;
    if (!Number.isInteger(pages) || pages <= 0 || (pages & (pages - 1)) !== 0) throw new TsbpfError(`${subject}: pagesPerCpu must be a power of two, not ${pages}`);
    if (options.wakeupEvents !== undefined && options.wakeupBytes !== undefined) throw new TsbpfError(`${subject}: give wakeupEvents or wakeupBytes, not both`);
    const cpus = [...(options.cpus ?? onlineCpus())];
    const tooHigh = cpus.find((c) => c >= maxEntries);
    if (tooHigh !== undefined) throw new TsbpfError(`${subject}: CPU ${tooHigh} does not fit in a map of ${maxEntries} entries (size it by the possible CPUs)`);
    const reader = new PerfBufReader(mapFd, subject);
    try {
      for (const cpu of cpus) reader.addCpu(cpu, pages, options);
      // Enable only once every ring is mapped, stored and registered with the event loop.
      for (const ring of reader.rings) perfIoctl(ring.fd.value, 'ENABLE', 0, `${subject} cpu ${ring.cpu}`);
    } catch (err) {
      reader.close();
      throw err;
    }
    return reader;
  }

  private addCpu(cpu: number, pages: number, options: PerfBufReaderOptions): void {
    const page = pageSize();
    const subject = `${this.subject} cpu ${cpu}`;
    const attr = newPerfAttr({
      type: PerfType.SOFTWARE,
      config: PerfSwId.BPF_OUTPUT,
      sample_type: PerfSampleFormat.RAW,
      sample_period: 1,
      disabled: 1,
      ...(options.wakeupBytes !== undefined ? { watermark: 1, wakeup_watermark: options.wakeupBytes } : { wakeup_events: options.wakeupEvents ?? 1 }),
    });
    const fd = perfEventOpen(attr, -1, cpu, { subject });
    let buffer: ArrayBuffer;
    try {
      buffer = mapShared(fd.value, (1 + pages) * page, PROT_READ | PROT_WRITE, 0, subject);
    } catch (err) {
      fd.close();
      throw err;
    }
    const watch = new FdWatch(fd.value, (status) => this.ready(status), subject);
    watch.ref(false); // until someone reads
    this.rings.push(new CpuRing(cpu, fd, buffer, watch, page, pages));
    (this.cpus as number[]).push(cpu);
    // From here on close() undoes everything: the map slot, the registration, the mapping, the fd.
    const key = new Uint8Array(Uint32Array.of(cpu).buffer);
    const value = new Uint8Array(Uint32Array.of(fd.value).buffer);
    bpf('MAP_UPDATE_ELEM', { map_fd: this.mapFd, key, value, flags: 0 }, { subject });
    watch.start();
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Samples read and samples lost so far. */
  stats(): PerfBufStats {
    return { ...this.counters, lostByCpu: new Map(this.counters.lostByCpu) };
  }

  /**
   * The next event of any CPU, or undefined when every ring is empty; never waits. A sample is
   * a lease until the next read(), commit() or close().
   */
  read(): PerfEvent | undefined {
    if (this.isClosed) return undefined;
    this.generation++;
    const n = this.rings.length;
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n;
      const ev = this.rings[index]!.next(this, this.counters, undefined, this.subject);
      if (ev) {
        this.cursor = index;
        return ev;
      }
    }
    return undefined;
  }

  /** Releases the current lease and gives the space of every record read back to the kernel. */
  commit(): void {
    this.generation++;
    if (this.isClosed) return;
    for (const ring of this.rings) ring.store();
  }

  /**
   * Calls `fn` for every event waiting in every ring, then commits; returns how many events
   * it passed. Samples are one reused object valid until `fn` returns. Never waits.
   */
  drain(fn: (event: PerfEvent) => void): number {
    if (this.isClosed) return 0;
    let count = 0;
    for (const ring of this.rings) {
      // At most one ring's worth per ring and call, so that a flood cannot hold the event loop.
      const stop = ring.tail + ring.size;
      try {
        while (ring.tail < stop) {
          this.generation++;
          const ev = ring.next(this, this.counters, this.shared, this.subject);
          if (!ev) break;
          count++;
          fn(ev);
          if (this.isClosed) return count;
        }
      } finally {
        this.generation++;
        if (!this.isClosed) ring.store();
      }
    }
    return count;
  }

  /**
   * Calls `fn` for each event as events arrive, from the event loop, until the reader is
   * closed or `signal` aborts (the promise resolves) or `fn` throws (it rejects). Samples are
   * the reused object of {@link drain}. `coalesceMs` works as in RingBufReader.consume.
   *
   * @example
   * let lost = 0;
   * await reader.consume((ev) => (ev.type === 'lost' ? (lost += ev.lost) : handle(ev.view, ev.offset)), { signal });
   */
  consume(fn: (event: PerfEvent) => void, options: PerfBufConsumeOptions = {}): Promise<void> {
    this.claim('consume');
    const session = new ConsumeSession(
      {
        subject: this.subject,
        capacity: this.rings[0]?.size ?? 0,
        closed: () => this.isClosed,
        drain: () => this.drain(fn),
        position: () => this.rings.reduce((sum, ring) => sum + ring.tail, 0),
        arm: () => {}, // registrations persist (see ready())
        disarm: () => {},
        ended: () => {
          this.session = undefined;
          this.unclaim();
        },
      },
      // Samples may have arrived before consume() was called, with their wakeup already spent.
      { signal: options.signal, coalesceMs: options.coalesceMs, referenced: this.referenced, drainAtStart: true },
    );
    if (session.active) this.session = session;
    return session.done;
  }

  /** The events as they arrive; samples are leases until the iterator's next step. */
  records(options: PerfBufIterateOptions = {}): AsyncIterableIterator<PerfEvent> {
    this.claim('iterator');
    return this.iterate(options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<PerfEvent> {
    return this.records();
  }

  private async *iterate(signal: AbortSignal | undefined): AsyncGenerator<PerfEvent, void, undefined> {
    try {
      let run = 0;
      while (!this.isClosed && !signal?.aborted) {
        const ev = this.read();
        if (ev) {
          yield ev;
          if (++run >= YIELD_EVERY) {
            run = 0;
            await nextTurn(); // let the event loop run (see RingBufReader)
          }
          continue;
        }
        run = 0;
        if (!(await this.waiter.wait(signal))) return;
      }
    } finally {
      this.unclaim();
      this.commit();
    }
  }

  private claim(kind: 'iterator' | 'consume'): void {
    if (this.active) throw new TsbpfError(`${this.subject}: already being read by ${this.active === 'consume' ? 'consume()' : 'an iterator'}`);
    this.active = kind;
    this.holdLoop(true);
  }

  private unclaim(): void {
    this.active = undefined;
    if (!this.isClosed) this.holdLoop(false);
  }

  /**
   * The poll callback of every ring. Perf wakeups are edge-like (perf_poll hands out a pending
   * wakeup once), so registrations stay for the reader's life and each wakeup scans all rings.
   */
  private ready(status: number): void {
    if (this.session) return this.session.ready(status);
    if (status < 0) return this.waiter.fail(pollError(status, this.subject));
    this.waiter.wake();
  }

  /**
   * Whether the reader keeps the process alive while an iterator or `consume` waits (default:
   * yes). The registrations stay for the reader's life (see `ready`) but only hold the process
   * while someone reads.
   */
  ref(on: boolean): this {
    this.referenced = on;
    this.holdLoop(this.active !== undefined);
    return this;
  }

  private holdLoop(reading: boolean): void {
    for (const ring of this.rings) ring.watch.ref(reading && this.referenced);
  }

  /**
   * Disables the events, removes them from the map, unmaps the rings (samples read as empty)
   * and closes their fds; iterators end and `consume` resolves. The map stays open.
   */
  close(): void {
    if (this.isClosed) return;
    this.commit();
    this.isClosed = true;
    this.waiter.cancel();
    this.session?.finish();
    for (const ring of this.rings) {
      ring.watch.stop();
      perfIoctlQuiet(ring.fd.value, 'DISABLE');
      const key = new Uint8Array(Uint32Array.of(ring.cpu).buffer);
      bpf('MAP_DELETE_ELEM', { map_fd: this.mapFd, key }, { allow: 'all' });
      unmap(ring.buffer);
      ring.fd.close();
    }
    this.shared.base = EMPTY;
    this.shared.baseView = EMPTY_VIEW;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function perfIoctlQuiet(fd: number, request: 'DISABLE'): void {
  try {
    perfIoctl(fd, request);
  } catch (err) {
    if (!(err instanceof TsbpfError)) throw err;
  }
}
