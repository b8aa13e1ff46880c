/**
 * A byte-level text sink for the dumpers: ASCII and decimal numbers are written straight into a
 * large buffer which is handed to the sink in big chunks, so dumping vmlinux (12 MB of text)
 * creates almost no strings.
 */

/** Receives output chunks; a chunk is only valid until the callback returns. */
export type ChunkSink = (chunk: Uint8Array) => void;

const CHUNK = 1 << 20;

/** Buffered ASCII/bytes writer flushing to a ChunkSink. */
export class ByteOut {
  buf: Uint8Array;
  pos = 0;

  constructor(private readonly sink: ChunkSink, capacity = CHUNK) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes, flushing (and growing for huge items) as needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }

  /** Hands what is buffered to the sink. */
  flush(): void {
    if (this.pos > 0) this.sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  /** Writes an ASCII string (callers ensure() room first: at most one byte per char). */
  ascii(s: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Writes one byte. */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Copies the NUL-terminated string at bytes[pos] (without the NUL). */
  cstring(bytes: Uint8Array, pos: number): void {
    let buf = this.buf;
    let p = this.pos;
    let limit = buf.length;
    for (;;) {
      const c = bytes[pos++];
      if (c === 0 || c === undefined) break;
      if (p === limit) {
        this.pos = p;
        this.flush();
        if (buf.length < 4096) this.buf = new Uint8Array(4096);
        buf = this.buf;
        limit = buf.length;
        p = 0;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** Copies bytes[start, end). */
  copy(bytes: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(bytes.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  /** Writes an unsigned 32-bit number in decimal (at most 10 bytes). */
  u32(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 48 + n;
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      buf[--p] = 48 + (n - q * 10);
      n = q;
    }
    buf[--p] = 48 + n;
  }

  /** Writes a signed 32-bit number in decimal (at most 11 bytes). */
  i32(n: number): void {
    if (n < 0) {
      this.buf[this.pos++] = 45;
      this.u32(-n);
    } else this.u32(n);
  }
}

/** Runs `fill` against a ByteOut and returns everything written, decoded as UTF-8. */
export function collectText(fill: (sink: ChunkSink) => void): string {
  const decoder = new TextDecoder();
  let text = '';
  fill((chunk) => {
    text += decoder.decode(chunk, { stream: true });
  });
  return text + decoder.decode();
}
