/**
 * A growable byte buffer with little/big-endian writes, used by every binary writer (ELF, BTF,
 * bytecode) so none of them hand-manages capacity.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(
    readonly littleEndian = true,
    initialCapacity = 256,
  ) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private reserve(extra: number): number {
    const at = this.len;
    const needed = at + extra;
    if (needed > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < needed) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.len = needed;
    return at;
  }

  u8(v: number): this {
    const at = this.reserve(1); // before reading this.view: reserve() may replace it
    this.view.setUint8(at, v);
    return this;
  }

  u16(v: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, v, this.littleEndian);
    return this;
  }

  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v >>> 0, this.littleEndian);
    return this;
  }

  i32(v: number): this {
    const at = this.reserve(4);
    this.view.setInt32(at, v, this.littleEndian);
    return this;
  }

  u64(v: bigint | number): this {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), this.littleEndian);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.reserve(b.byteLength);
    this.buf.set(b, at);
    return this;
  }

  /** Pads with zero bytes up to a multiple of `alignment`. */
  align(alignment: number): this {
    const rem = this.len % alignment;
    if (rem !== 0) this.reserve(alignment - rem); // new capacity is already zero-filled
    return this;
  }

  /** Overwrites a u32 already written at `offset` (for back-patching sizes and offsets). */
  patchU32(offset: number, v: number): void {
    this.view.setUint32(offset, v >>> 0, this.littleEndian);
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A string table: NUL-separated names, deduplicated, offset 0 being the empty string. */
export class StringTable {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly encoder = new TextEncoder();
  private readonly out = new ByteWriter(true, 64).u8(0);

  /** Offset of `s` in the table, adding it if new. */
  add(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.out.length;
      this.out.bytes(this.encoder.encode(s)).u8(0);
      this.offsets.set(s, off);
    }
    return off;
  }

  get length(): number {
    return this.out.length;
  }

  finish(): Uint8Array {
    return this.out.finish();
  }
}
