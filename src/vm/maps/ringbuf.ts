/**
 * BPF_MAP_TYPE_RINGBUF with the kernel's record layout (kernel/bpf/ringbuf.c,
 * include/uapi/linux/bpf.h): a power-of-two data area of max_entries bytes; each record is an
 * 8-byte header `{u32 len; u32 pg_off}` followed by the data, the whole rounded up to 8 bytes.
 * While reserved the header's len carries BPF_RINGBUF_BUSY_BIT; a discarded record carries
 * BPF_RINGBUF_DISCARD_BIT. Producer and consumer positions only grow; the data area index is
 * position & (size - 1). The kernel maps the data area twice so a record crossing the end is
 * contiguous; here such a record is handed out as a separate buffer and copied in on commit.
 */
import { checkSpec, Errno, type MapModel, type MapSpec, MapSpecError, MapType } from './types.js';

/** Record header flags and size (include/uapi/linux/bpf.h). */
export const RingbufHeader = {
  BUSY_BIT: 0x80000000,
  DISCARD_BIT: 0x40000000,
  SIZE: 8,
} as const;
export type RingbufHeader = (typeof RingbufHeader)[keyof typeof RingbufHeader];

/** Flags of ringbuf_output/submit/discard (`BPF_RB_NO_WAKEUP`, `BPF_RB_FORCE_WAKEUP`). */
export const RingbufFlags = { NO_WAKEUP: 1, FORCE_WAKEUP: 2 } as const;
export type RingbufFlags = (typeof RingbufFlags)[keyof typeof RingbufFlags];

/** What bpf_ringbuf_query reports (`BPF_RB_AVAIL_DATA` ...). */
export const RingbufQuery = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;
export type RingbufQuery = (typeof RingbufQuery)[keyof typeof RingbufQuery];

/** Largest record (kernel RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4). */
const MAX_RECORD = 0x3fffffff;

interface Pending {
  /** Position of the record header. */
  pos: number;
  size: number;
  /** Where the program writes the data (a view of `data`, or a scratch copy when wrapping). */
  bytes: Uint8Array;
  wraps: boolean;
}

/** A ring buffer map model with a producer side for helpers and a consumer side for tests. */
export class RingBuffer implements MapModel {
  readonly type = MapType.RINGBUF;
  readonly keySize = 0;
  readonly valueSize = 0;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The data area, as a consumer that mmaps it would see it. */
  readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly mask: number;
  /** Producer position (bytes ever reserved). */
  producer = 0;
  /** Consumer position (bytes ever consumed). */
  consumer = 0;
  private readonly pending = new Map<Uint8Array, Pending>();

  constructor(spec: MapSpec) {
    if (spec.type !== MapType.RINGBUF) throw new MapSpecError(spec, 'not a ring buffer map type');
    checkSpec(spec, { key: 'zero', value: 'zero' });
    const n = spec.maxEntries;
    if (n < 4096 || n % 4096 !== 0 || (n & (n - 1)) !== 0 || n > 0x40000000) {
      throw new MapSpecError(spec, 'max_entries of a ring buffer must be a power of 2 and a multiple of the page size (4096)');
    }
    this.maxEntries = n;
    this.flags = spec.flags ?? 0;
    this.name = spec.name ?? '';
    this.data = new Uint8Array(n);
    this.view = new DataView(this.data.buffer);
    this.mask = n - 1;
  }

  get size(): number {
    return 0;
  }

  /**
   * Reserves `size` bytes; returns the buffer the program writes into, or undefined when the
   * record does not fit (bpf_ringbuf_reserve then returns NULL).
   */
  reserve(size: number): Uint8Array | undefined {
    if (!Number.isInteger(size) || size < 0 || size > MAX_RECORD) return undefined;
    const len = (size + RingbufHeader.SIZE + 7) & ~7;
    if (len > this.maxEntries) return undefined;
    if (this.producer + len - this.consumer > this.mask) return undefined;
    const pos = this.producer;
    this.producer += len;
    const hdr = pos & this.mask;
    this.view.setUint32(hdr, (size | RingbufHeader.BUSY_BIT) >>> 0, true);
    this.view.setUint32(hdr + 4, Math.floor(hdr / 4096), true);
    const start = (pos + RingbufHeader.SIZE) & this.mask;
    const wraps = start + size > this.maxEntries;
    const bytes = wraps ? new Uint8Array(size) : this.data.subarray(start, start + size);
    this.pending.set(bytes, { pos, size, bytes, wraps });
    return bytes;
  }

  /** True when `bytes` is a record reserved and not yet submitted or discarded. */
  isReserved(bytes: Uint8Array): boolean {
    return this.pending.has(bytes);
  }

  /** Commits a reserved record (submit) or marks it discarded. False if `bytes` is not one. */
  commit(bytes: Uint8Array, discard = false): boolean {
    const p = this.pending.get(bytes);
    if (!p) return false;
    this.pending.delete(bytes);
    if (p.wraps) {
      const start = (p.pos + RingbufHeader.SIZE) & this.mask;
      const first = this.maxEntries - start;
      this.data.set(p.bytes.subarray(0, first), start);
      this.data.set(p.bytes.subarray(first), 0);
    }
    const hdr = p.pos & this.mask;
    this.view.setUint32(hdr, (p.size | (discard ? RingbufHeader.DISCARD_BIT : 0)) >>> 0, true);
    return true;
  }

  /** bpf_ringbuf_output: copies a whole record in; 0, -EAGAIN when full, -EINVAL for bad flags. */
  output(bytes: Uint8Array, flags = 0): number {
    if ((flags & ~(RingbufFlags.NO_WAKEUP | RingbufFlags.FORCE_WAKEUP)) !== 0) return -Errno.EINVAL;
    const rec = this.reserve(bytes.byteLength);
    if (!rec) return -Errno.EAGAIN;
    rec.set(bytes);
    this.commit(rec);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): bigint {
    switch (flags) {
      case RingbufQuery.AVAIL_DATA:
        return BigInt(this.producer - this.consumer);
      case RingbufQuery.RING_SIZE:
        return BigInt(this.maxEntries);
      case RingbufQuery.CONS_POS:
        return BigInt(this.consumer);
      case RingbufQuery.PROD_POS:
        return BigInt(this.producer);
      default:
        return 0n;
    }
  }

  /**
   * The consumer side: returns copies of the submitted records in order, skipping discarded
   * ones, and advances the consumer position. Stops at a record still being written.
   */
  consume(): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.consumer < this.producer) {
      const hdr = this.consumer & this.mask;
      const word = this.view.getUint32(hdr, true);
      if (word & RingbufHeader.BUSY_BIT) break;
      const size = word & ~(RingbufHeader.BUSY_BIT | RingbufHeader.DISCARD_BIT);
      if (!(word & RingbufHeader.DISCARD_BIT)) {
        const start = (this.consumer + RingbufHeader.SIZE) & this.mask;
        const rec = new Uint8Array(size);
        const first = Math.min(size, this.maxEntries - start);
        rec.set(this.data.subarray(start, start + first));
        rec.set(this.data.subarray(0, size - first), first);
        out.push(rec);
      }
      this.consumer += (size + RingbufHeader.SIZE + 7) & ~7;
    }
    return out;
  }

  /** Ring buffers have no elements to look up. */
  lookup(): Uint8Array | undefined {
    return undefined;
  }

  update(): number {
    return -Errno.ENOTSUPP;
  }

  delete(): number {
    return -Errno.ENOTSUPP;
  }

  nextKey(): Uint8Array | undefined {
    return undefined;
  }
}
