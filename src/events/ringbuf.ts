/**
 * Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8) from user space: the consumer
 * page is mapped read-write, the producer page and the data area read-only; records are read in
 * place (zero-copy) and the consumer position is committed in batches.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TsbpfError } from '../errors.js';
import { HOST_LE } from '../sys/index.js';
import { mapShared, PROT_READ, PROT_WRITE, unmap } from './mapping.js';
import { BUSY_RECORDS, ConsumeSession } from './consume.js';
import { FdWatch, pollError, Waiter, YIELD_EVERY } from './readiness.js';
import { resolveMap, type MapSource } from './source.js';
import { BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, EMPTY, EMPTY_VIEW, Lease, LEN_MASK, type RingBufRecord } from './ringbuf-record.js';
import { pageSize } from '../sys/system.js';

export { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, type RingBufRecord } from './ringbuf-record.js';

/** Options of {@link RingBufReader.open}. */
export interface RingBufReaderOptions {
  /**
   * Commit the consumer position once this many bytes have been consumed, so the producer
   * gets space back while a large batch is read (default: a quarter of the ring). The reader
   * always commits before it waits for more.
   */
  commitBytes?: number;
}

/** Options of {@link RingBufReader.records} and {@link RingBufReader.consume}. */
export interface RingBufIterateOptions {
  /** Ends the iteration (cleanly, without an error) when aborted. */
  signal?: AbortSignal;
  /**
   * Wakeup coalescing (default {@link DEFAULT_COALESCE_MS}): when a wakeup finds the ring busy
   * (several records at once), wait this many milliseconds for the next batch instead of being
   * woken by epoll for every few records; back on epoll as soon as a read finds it quiet. A
   * lone record is still delivered at once. 0 turns it off: every batch as soon as epoll
   * reports it, for the lowest latency at a much higher CPU cost per record under load.
   */
  coalesceMs?: number;
}

/** Options of {@link RingBufReader.consume}. */
export type RingBufConsumeOptions = RingBufIterateOptions;

/**
 * The default coalescing delay of ring buffer readers, in milliseconds: under load a record
 * waits at most about this long (plus event loop delays) before it is read.
 */
export const DEFAULT_COALESCE_MS = 1;

/**
 * A reader of one BPF ring buffer map.
 *
 * Layout (kernel/bpf/ringbuf.c, struct bpf_ringbuf): page 0 of the map's mmap space holds
 * `consumer_pos` (user space writes it), page 1 `producer_pos`, then the data area, which the
 * kernel maps twice in a row so that a record crossing the end of the ring is contiguous. Each
 * record starts with struct bpf_ringbuf_hdr (`len` with the BUSY and DISCARD bits, `pg_off`)
 * and is rounded up to 8 bytes. Positions are loaded and stored sequentially consistent
 * (Atomics over the mapping: the consumer position through a BigInt64Array, the producer's
 * through its low 32-bit word, see `loadProducer`), headers with Atomics.load (acquire). The
 * consumer position is stored before every wait and the producer position read again after
 * it: the kernel only wakes a consumer whose position equals the record it commits, so a
 * release-only store could lose a wakeup.
 *
 * Readiness comes from epoll on the map fd through the event loop; nothing blocks the loop.
 * Minimum kernel version: 5.8 (BPF_MAP_TYPE_RINGBUF).
 *
 * @example
 * using reader = RingBufReader.open(eventsMap);
 * for await (const rec of reader.records({ signal: AbortSignal.timeout(5000) })) {
 *   console.log(rec.view.getUint32(rec.offset, true)); // the first u32 of the event
 * }
 */
export class RingBufReader implements AsyncIterable<RingBufRecord>, Disposable {
  /** The size of the data area in bytes. */
  readonly size: number;
  private readonly mask: number;
  private readonly subject: string;
  private consumerPage: ArrayBuffer | undefined;
  private producerArea: ArrayBuffer | undefined;
  private readonly consumerPos: BigInt64Array;
  private readonly producerPos: BigInt64Array;
  private readonly producerLow: Int32Array;
  private readonly headers: Int32Array;
  /** @internal The data area (twice) as bytes. */
  bytes: Uint8Array;
  /** @internal The data area (twice) as a DataView. */
  dataView: DataView;
  /** @internal Bumped whenever leases end. */
  generation = 0;
  private readonly commitBytes: number;
  /** Consumer position as read so far (may be ahead of the committed one). */
  private cons: number;
  /** `cons` modulo the size. */
  private off: number;
  private committed: number;
  /** The last producer position loaded. */
  private prod: number;
  private readonly shared: Lease;
  private readonly watch: FdWatch;
  private readonly waiter = new Waiter();
  private session: ConsumeSession | undefined;
  private active: 'iterator' | 'consume' | undefined;
  private isClosed = false;
  /** How many times `consume` was woken (by epoll or its timer) and found records. */
  get wakeups(): number {
    return this.pastWakeups + (this.session?.wakeups ?? 0);
  }
  private pastWakeups = 0;
  private referenced = true;

  private constructor(fd: number, size: number, subject: string, options: RingBufReaderOptions) {
    const page = pageSize();
    this.size = size;
    this.mask = size - 1;
    this.subject = subject;
    // Consumer page read-write, then producer page + data area (twice) read-only from page 1.
    this.consumerPage = mapShared(fd, page, PROT_READ | PROT_WRITE, 0, subject);
    try {
      this.producerArea = mapShared(fd, page + 2 * size, PROT_READ, page, subject);
    } catch (err) {
      unmap(this.consumerPage);
      throw err;
    }
    this.consumerPos = new BigInt64Array(this.consumerPage, 0, 1);
    this.producerPos = new BigInt64Array(this.producerArea, 0, 1);
    this.producerLow = new Int32Array(this.producerArea, HOST_LE ? 0 : 4, 1);
    this.headers = new Int32Array(this.producerArea, page, (2 * size) / 4);
    this.bytes = new Uint8Array(this.producerArea, page, 2 * size);
    this.dataView = new DataView(this.producerArea, page, 2 * size);
    this.commitBytes = Math.max(8, Math.min(options.commitBytes ?? size / 4, size));
    this.cons = this.committed = Number(Atomics.load(this.consumerPos, 0));
    this.off = this.cons % size;
    this.prod = this.cons;
    this.shared = new Lease(this, 0, 0, -1);
    this.watch = new FdWatch(fd, (status) => this.ready(status), subject);
  }

  /**
   * Maps a BPF_MAP_TYPE_RINGBUF map for reading: a map object (BpfMap, RingBufMap) or its fd.
   * Throws a TsbpfError for a map of another type or size, a SyscallError when the kernel
   * refuses the mapping.
   *
   * @example
   * using events = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 1 << 20, name: 'events' });
   * using reader = RingBufReader.open(events);
   */
  static open(map: MapSource, options: RingBufReaderOptions = {}): RingBufReader {
    const { fd, maxEntries: size, subject } = resolveMap(map, 'RINGBUF', 'ring buffer');
    if (!Number.isInteger(size) || size <= 0 || (size & (size - 1)) !== 0 || size % pageSize() !== 0 || size > 2 ** 31) {
      throw new TsbpfError(`${subject}: size ${size} is not a power of two multiple of the page size (${pageSize()})`);
    }
    return new RingBufReader(fd, size, subject, options);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes written by the producer and not yet consumed (headers and padding included). */
  available(): number {
    if (this.isClosed) return 0;
    return Number(Atomics.load(this.producerPos, 0)) - this.cons;
  }

  /**
   * The producer position, loaded sequentially consistent. Only the low 32 bits of the 64-bit
   * position are loaded (an Atomics load of the aligned low word, which the kernel's 64-bit
   * store writes at once; no BigInt to allocate): the producer is never more than the ring's
   * size (at most 2^31) ahead of `cons`, so the distance modulo 2^32 is the distance.
   */
  private loadProducer(cons: number): number {
    return cons + ((Atomics.load(this.producerLow, 0) - cons) >>> 0);
  }

  /** Ends the current lease. */
  private release(): void {
    this.generation++;
  }

  /** Stores the consumer position (sequentially consistent) if it moved. */
  private store(): void {
    if (this.cons !== this.committed && !this.isClosed) {
      Atomics.store(this.consumerPos, 0, BigInt(this.cons));
      this.committed = this.cons;
    }
  }

  /**
   * Releases the current lease and gives the space of every record read so far back to the
   * producer.
   */
  commit(): void {
    this.release();
    this.store();
  }

  /**
   * The next record, or undefined when none is ready; never waits. The record is a lease
   * until the next read(), commit() or close(). The consumer position is committed in batches
   * (see {@link RingBufReaderOptions.commitBytes}) and whenever read() finds nothing.
   */
  read(): RingBufRecord | undefined {
    if (this.isClosed) return undefined;
    this.release();
    if (this.cons - this.committed >= this.commitBytes) this.store();
    for (;;) {
      if (this.cons >= this.prod) {
        this.prod = this.loadProducer(this.cons);
        if (this.cons >= this.prod) {
          this.store();
          // The store and this load are both sequentially consistent: a record committed
          // before our store was published is seen here; one committed after it woke us.
          this.prod = this.loadProducer(this.cons);
          if (this.cons >= this.prod) return undefined;
        }
      }
      const hdr = Atomics.load(this.headers, this.off >>> 2);
      if (hdr < 0) {
        // BUSY: reserved, not yet submitted. Records after it wait for it.
        this.store();
        return undefined;
      }
      const len = hdr & LEN_MASK;
      const at = this.off + BPF_RINGBUF_HDR_SZ;
      const total = (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
      this.cons += total;
      this.off = (this.off + total) & this.mask;
      if ((hdr & BPF_RINGBUF_DISCARD_BIT) !== 0) continue;
      return new Lease(this, at, len, this.generation);
    }
  }

  /**
   * Calls `fn` for every record that is ready, then commits and returns how many it read;
   * never waits. The record passed to `fn` is one reused object, valid until `fn` returns;
   * reading it through `view` and `offset` allocates nothing. Stops early after `limit`
   * records, or when `fn` closes the reader. If `fn` throws, its record counts as consumed and
   * the error propagates.
   */
  drain(fn: (record: RingBufRecord) => void, limit = Infinity): number {
    if (this.isClosed) return 0;
    this.release();
    const headers = this.headers;
    const mask = this.mask;
    const lease = this.shared;
    const commitBytes = this.commitBytes;
    let cons = this.cons;
    let off = this.off;
    let n = 0;
    // At most one ring's worth per call: a producer faster than `fn` must not hold the event
    // loop (epoll reports the ring again on the next turn).
    const stop = cons + this.size;
    try {
      outer: while (cons < stop) {
        let prod = this.loadProducer(cons);
        if (cons >= prod) {
          this.cons = cons;
          this.off = off;
          this.store();
          prod = this.loadProducer(cons);
          if (cons >= prod) break;
        }
        while (cons < prod) {
          if (n >= limit) break outer;
          const hdr = Atomics.load(headers, off >>> 2);
          if (hdr < 0) break outer;
          const len = hdr & LEN_MASK;
          const total = (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
          const at = off + BPF_RINGBUF_HDR_SZ;
          cons += total;
          off = (off + total) & mask;
          if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) {
            lease.offset = at;
            lease.length = len;
            lease.gen = ++this.generation;
            n++;
            fn(lease);
            if (this.isClosed) return n;
          }
          if (cons - this.committed >= commitBytes) {
            this.cons = cons;
            this.off = off;
            this.store();
          }
        }
      }
    } finally {
      this.cons = cons;
      this.off = off;
      this.prod = cons;
      this.release();
      this.store();
    }
    return n;
  }

  /**
   * Calls `fn` for each record as records arrive, from the event loop, until the reader is
   * closed or `signal` aborts (the promise then resolves) or `fn` throws (it then rejects).
   * `fn` gets the reused record of {@link drain}.
   *
   * Records are read as soon as epoll reports them, except under load: a wakeup that finds a
   * busy ring switches to reading it on a timer every `coalesceMs` (default 1 ms; at once when
   * more than an eighth of the ring came in since the last read) until a read finds it quiet,
   * then waits on epoll again. Fewer, larger batches use much less CPU per record (the kernel
   * wakes a consumer for the first record after each catch-up, and every wakeup costs an
   * event-loop turn). `coalesceMs: 0` reads every batch on its wakeup.
   *
   * @example
   * let count = 0;
   * await reader.consume((rec) => { count++; }, { signal: AbortSignal.timeout(1000) });
   */
  consume(fn: (record: RingBufRecord) => void, options: RingBufConsumeOptions = {}): Promise<void> {
    this.claim('consume');
    const session = new ConsumeSession(
      {
        subject: this.subject,
        capacity: this.size,
        closed: () => this.isClosed,
        drain: () => this.drain(fn),
        position: () => this.cons,
        arm: () => this.watch.start(),
        disarm: () => this.watch.stop(),
        ended: (wakeups) => {
          this.pastWakeups += wakeups;
          this.session = undefined;
          this.active = undefined;
        },
      },
      { signal: options.signal, coalesceMs: options.coalesceMs ?? DEFAULT_COALESCE_MS, referenced: this.referenced },
    );
    if (session.active) this.session = session;
    return session.done;
  }

  /**
   * The records as they arrive. Each is a lease until the iterator's next step. Ends when the
   * reader is closed or the signal aborts; breaking out of the loop commits what was read.
   * Waits coalesce under load as in {@link consume} (`coalesceMs`).
   */
  records(options: RingBufIterateOptions = {}): AsyncIterableIterator<RingBufRecord> {
    this.claim('iterator');
    return this.iterate(options.signal, Math.max(0, options.coalesceMs ?? DEFAULT_COALESCE_MS));
  }

  /** Same as {@link records} without options. */
  [Symbol.asyncIterator](): AsyncIterator<RingBufRecord> {
    return this.records();
  }

  private async *iterate(signal: AbortSignal | undefined, coalesce: number): AsyncGenerator<RingBufRecord, void, undefined> {
    try {
      let run = 0;
      let batch = 0;
      let from = this.cons;
      while (!this.isClosed && !signal?.aborted) {
        const rec = this.read();
        if (rec) {
          yield rec;
          batch++;
          // Records that are already there resolve through microtasks only: let the event
          // loop run now and then, or a busy ring would starve timers and I/O.
          if (++run >= YIELD_EVERY) {
            run = 0;
            await nextTurn();
          }
          continue;
        }
        run = 0;
        const busy = coalesce > 0 && batch >= BUSY_RECORDS;
        const filling = this.cons - from > this.size / 8;
        batch = 0;
        from = this.cons;
        if (busy && filling) {
          await nextTurn();
          continue;
        }
        if (busy) {
          // Busy: come back on a timer rather than on the next wakeup (see consume()).
          this.watch.stop();
          const timer = setTimeout(() => this.waiter.wake(), coalesce);
          if (!this.referenced) timer.unref();
          const ok = await this.waiter.wait(signal);
          clearTimeout(timer);
          if (!ok) return;
          continue;
        }
        this.watch.start();
        if (!(await this.waiter.wait(signal))) return;
      }
    } finally {
      this.active = undefined;
      this.watch.stop();
      this.commit();
    }
  }

  private claim(kind: 'iterator' | 'consume'): void {
    if (this.active) throw new TsbpfError(`${this.subject}: already being read by ${this.active === 'consume' ? 'consume()' : 'an iterator'}; a ring has one consumer`);
    this.active = kind;
  }

  /** The poll callback. */
  private ready(status: number): void {
    if (this.session) return this.session.ready(status);
    if (status < 0) return this.waiter.fail(pollError(status, this.subject));
    if (this.waiter.waiting) this.waiter.wake();
    // Nobody waits (the iterator's user is busy): epoll is level-triggered and would report the
    // fd on every loop turn; unregister until the next wait.
    else this.watch.stop();
  }

  /** Whether the reader keeps the process alive while it waits (default: yes). */
  ref(on: boolean): this {
    this.referenced = on;
    this.watch.ref(on);
    return this;
  }

  /**
   * Commits what was read, stops waiting (iterators end, `consume` resolves) and unmaps the
   * ring: records and views from it read as empty. The map itself stays open. Closing again
   * does nothing.
   */
  close(): void {
    if (this.isClosed) return;
    this.commit();
    this.isClosed = true;
    this.watch.stop();
    this.waiter.cancel();
    this.session?.finish();
    this.bytes = EMPTY;
    this.dataView = EMPTY_VIEW;
    unmap(this.producerArea);
    unmap(this.consumerPage);
    this.producerArea = this.consumerPage = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
