/**
 * Ring buffer records (kernel/bpf/ringbuf.c): the header bits, and the zero-copy lease a
 * reader hands out. Internal to src/events, except for the constants and RingBufRecord.
 */

/**
 * Bits of the record header's `len` (include/uapi/linux/bpf.h): BUSY while the producer still
 * writes the record (reserved, not yet submitted or discarded), DISCARD for a discarded record
 * the consumer skips.
 */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
/** Size of struct bpf_ringbuf_hdr (kernel/bpf/ringbuf.c): `u32 len; u32 pg_off;`. */
export const BPF_RINGBUF_HDR_SZ = 8;
/** The length bits of the header's `len`. */
export const LEN_MASK = 0x3fffffff;

/**
 * One record, read in place in the ring (zero-copy). It is a lease: valid until the next
 * `read()`, `commit()` or `close()` (in `consume` and `drain` callbacks: until the callback
 * returns). A released record's `data` is empty; a Uint8Array taken from `data` earlier keeps
 * pointing into the ring, which the kernel reuses, and reads as empty once the reader is closed.
 */
export interface RingBufRecord {
  /** The record's bytes, without the 8-byte header. Allocates a view per call; see `view`. */
  readonly data: Uint8Array;
  /** A DataView over the whole (double-mapped) data area: read the record at `offset` without allocating. */
  readonly view: DataView;
  /** Offset of the record's first byte in `view`. */
  readonly offset: number;
  /** The record's length in bytes (as given to bpf_ringbuf_reserve/output). */
  readonly length: number;
  /** A copy of the bytes, which outlives the lease. */
  copy(): Uint8Array;
}

export const EMPTY = new Uint8Array(0);
export const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** What a lease reads through: the reader's mapping and its current generation. */
export interface LeaseSource {
  readonly generation: number;
  readonly bytes: Uint8Array;
  readonly dataView: DataView;
}

/** The lease object: one per reader for callbacks, one per record for the iterator. */
export class Lease implements RingBufRecord {
  constructor(
    private readonly reader: LeaseSource,
    public offset: number,
    public length: number,
    public gen: number,
  ) {}

  private get live(): boolean {
    return this.gen === this.reader.generation;
  }

  get data(): Uint8Array {
    return this.live ? this.reader.bytes.subarray(this.offset, this.offset + this.length) : EMPTY;
  }

  get view(): DataView {
    return this.live ? this.reader.dataView : EMPTY_VIEW;
  }

  copy(): Uint8Array {
    return this.live ? this.reader.bytes.slice(this.offset, this.offset + this.length) : new Uint8Array(0);
  }
}
