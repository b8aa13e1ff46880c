/**
 * One perf ring: the layout of struct perf_event_mmap_page and the records in the data area
 * (include/uapi/linux/perf_event.h), parsed in place. Internal to src/events, except for the
 * record types the reader yields.
 */
import { TsbpfError } from '../errors.js';
import { HOST_LE, type Fd } from '../sys/index.js';
import { PerfRecordType } from '../uapi/enums.js';
import { STRUCTS } from '../uapi/layouts.js';
import type { FdWatch } from './readiness.js';

/** Offsets in struct perf_event_mmap_page (include/uapi/linux/perf_event.h), from the kernel's BTF. */
const MMAP_PAGE = STRUCTS.perf_event_mmap_page.fields;
const DATA_HEAD = MMAP_PAGE.data_head[0];
const DATA_TAIL = MMAP_PAGE.data_tail[0];
const DATA_OFFSET = MMAP_PAGE.data_offset[0];
const DATA_SIZE = MMAP_PAGE.data_size[0];
/** sizeof(struct perf_event_header): `u32 type; u16 misc; u16 size;`. */
export const PERF_EVENT_HEADER_SIZE = 8;
/** struct perf_event_header field offsets. */
const HDR_TYPE = 0;
const HDR_SIZE = 6;
/** PERF_RECORD_SAMPLE with sample_type = PERF_SAMPLE_RAW: header, `u32 size; char data[size];`. */
const SAMPLE_RAW_SIZE = 8;
const SAMPLE_RAW_DATA = 12;
/** PERF_RECORD_LOST: header, `u64 id; u64 lost;`. */
const LOST_COUNT = 16;

/**
 * A sample: what one bpf_perf_event_output() call wrote. Zero-copy: a lease valid until the
 * reader's next step (see {@link RingBufRecord}); samples that wrapped around the end of the
 * ring are copied and stay valid. The kernel pads raw data so that `u32 size` plus the data is
 * a multiple of 8 bytes, and `length` includes that padding (as libbpf reports it).
 */
export interface PerfSample {
  readonly type: 'sample';
  readonly cpu: number;
  /** The raw data; allocates a view per call (see `view`). */
  readonly data: Uint8Array;
  /** A DataView holding the sample at `offset`: read it without allocating. */
  readonly view: DataView;
  readonly offset: number;
  readonly length: number;
  /** A copy of the data, which outlives the lease. */
  copy(): Uint8Array;
}

/** PERF_RECORD_LOST: the kernel found the ring of `cpu` full and dropped `lost` samples. */
export interface PerfLost {
  readonly type: 'lost';
  readonly cpu: number;
  readonly lost: number;
}

/** What a perf buffer reader yields. */
export type PerfEvent = PerfSample | PerfLost;

/** Counters of a {@link PerfBufReader}. */
export interface PerfBufStats {
  /** Samples read. */
  samples: number;
  /** Samples the kernel dropped, as PERF_RECORD_LOST records reported them. */
  lost: number;
  /** `lost` per CPU. */
  lostByCpu: Map<number, number>;
  /** Records of other types that were skipped. */
  other: number;
  /** Records that wrapped around the end of their ring and were copied. */
  wrapped: number;
}


/** What leases check to know whether they are still valid. */
export interface LeaseOwner {
  /** Bumped whenever leases end. */
  readonly generation: number;
}

export const EMPTY = new Uint8Array(0);
export const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** A sample in place (a lease of its owner's generation) or copied (generation -1). */
export class SampleLease implements PerfSample {
  readonly type = 'sample' as const;
  constructor(
    private readonly owner: LeaseOwner,
    public cpu: number,
    public base: Uint8Array,
    public baseView: DataView,
    public offset: number,
    public length: number,
    /** -1: a copy, never released. */
    public gen: number,
  ) {}

  private get live(): boolean {
    return (this.gen < 0 || this.gen === this.owner.generation) && this.base.byteLength > 0;
  }

  get data(): Uint8Array {
    return this.live ? this.base.subarray(this.offset, this.offset + this.length) : EMPTY;
  }

  get view(): DataView {
    return this.live ? this.baseView : EMPTY_VIEW;
  }

  copy(): Uint8Array {
    return this.live ? this.base.slice(this.offset, this.offset + this.length) : new Uint8Array(0);
  }
}

/** One CPU's perf event and its ring. */
export class CpuRing {
  readonly meta: BigInt64Array;
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  readonly mask: number;
  tail: number;
  off: number;
  head: number;
  committed: number;

  constructor(
    readonly cpu: number,
    readonly fd: Fd,
    readonly buffer: ArrayBuffer,
    readonly watch: FdWatch,
    page: number,
    pages: number,
  ) {
    const meta = new DataView(buffer, 0, page);
    // data_offset/data_size are filled in since Linux 4.1; before, data starts at page 1.
    const dataOffset = Number(meta.getBigUint64(DATA_OFFSET, HOST_LE)) || page;
    const dataSize = Number(meta.getBigUint64(DATA_SIZE, HOST_LE)) || pages * page;
    this.meta = new BigInt64Array(buffer, 0, page / 8);
    this.data = new Uint8Array(buffer, dataOffset, dataSize);
    this.view = new DataView(buffer, dataOffset, dataSize);
    this.size = dataSize;
    this.mask = dataSize - 1;
    this.tail = this.committed = this.head = Number(Atomics.load(this.meta, DATA_TAIL / 8));
    this.off = this.tail % dataSize;
  }

  loadHead(): number {
    // Acquire: the records up to data_head are complete once we see it.
    return (this.head = Number(Atomics.load(this.meta, DATA_HEAD / 8)));
  }

  store(): void {
    // Release: our reads of the records are done before the kernel may overwrite them.
    if (this.tail !== this.committed) {
      Atomics.store(this.meta, DATA_TAIL / 8, BigInt(this.tail));
      this.committed = this.tail;
    }
  }

  /**
   * The next record into `lease` (or a new lease, or a PerfLost), advancing the tail and
   * counting in `stats`; undefined (after storing the tail) when the ring is empty. Samples
   * in place are leases of `owner`'s current generation; wrapped ones are copies.
   */
  next(owner: LeaseOwner, stats: PerfBufStats, lease: SampleLease | undefined, subject: string): PerfEvent | undefined {
    const ring = this;
    for (;;) {
      if (ring.tail >= ring.head && ring.loadHead() <= ring.tail) {
        ring.store();
        return undefined;
      }
      if (ring.tail - ring.committed >= ring.size / 4) ring.store();
      const off = ring.off;
      const type = ring.view.getUint32(off + HDR_TYPE, HOST_LE);
      const size = ring.view.getUint16(off + HDR_SIZE, HOST_LE);
      if (size < PERF_EVENT_HEADER_SIZE || size > ring.head - ring.tail) {
        throw new TsbpfError(`${subject} cpu ${ring.cpu}: corrupt record header (type ${type}, size ${size}) at ${ring.tail}`);
      }
      let base = ring.data;
      let dv = ring.view;
      let start = off;
      let gen = owner.generation;
      if (off + size > ring.size) {
        // The record wraps around the end of the ring: copy its two parts.
        const first = ring.size - off;
        base = new Uint8Array(size);
        base.set(ring.data.subarray(off, ring.size), 0);
        base.set(ring.data.subarray(0, size - first), first);
        dv = new DataView(base.buffer);
        start = 0;
        gen = -1;
        stats.wrapped++;
      }
      ring.tail += size;
      ring.off = (off + size) & ring.mask;
      if (type === PerfRecordType.SAMPLE) {
        const raw = Math.min(dv.getUint32(start + SAMPLE_RAW_SIZE, HOST_LE), size - SAMPLE_RAW_DATA);
        stats.samples++;
        if (lease) {
          lease.cpu = ring.cpu;
          lease.base = base;
          lease.baseView = dv;
          lease.offset = start + SAMPLE_RAW_DATA;
          lease.length = raw;
          lease.gen = gen;
          return lease;
        }
        return new SampleLease(owner, ring.cpu, base, dv, start + SAMPLE_RAW_DATA, raw, gen);
      }
      if (type === PerfRecordType.LOST) {
        const lost = Number(dv.getBigUint64(start + LOST_COUNT, HOST_LE));
        stats.lost += lost;
        stats.lostByCpu.set(ring.cpu, (stats.lostByCpu.get(ring.cpu) ?? 0) + lost);
        return { type: 'lost', cpu: ring.cpu, lost };
      }
      stats.other++;
    }
  }
}
