/**
 * In-place editing of raw BTF, the way a loader must change an object's BTF before the kernel
 * sees it: rewrite a type's kind, size or extra words, append a few types and strings. Type ids
 * and string offsets of existing entries never move, so the object's .BTF.ext records
 * (func_info, line_info) still refer to the right types and strings afterwards. That rules out
 * rebuilding the blob with BtfBuilder, which renumbers strings.
 */
import type { Btf } from '../btf/index.js';
import { BTF_HEADER_SIZE } from '../btf/index.js';
import { TsbpfError } from '../errors.js';

const encoder = new TextEncoder();

/** A copy of a little-endian BTF blob that can be patched and re-encoded. */
export class BtfEditor {
  /** The type section (copied), patched in place. */
  private readonly types: Uint8Array;
  private readonly view: DataView;
  private readonly strings: Uint8Array;
  private readonly extraTypes: Uint8Array[] = [];
  private readonly extraStrings: Uint8Array[] = [];
  private extraStringLen = 0;
  private readonly addedStrings = new Map<string, number>();
  /** Type id the next appended type gets. */
  private nextId: number;

  constructor(readonly btf: Btf) {
    if (!btf.littleEndian) throw new TsbpfError('cannot load big-endian BTF on this little-endian host');
    if (btf.base) throw new TsbpfError('an object cannot carry split BTF');
    this.types = btf.bytes.slice(btf.typesStart, btf.typesStart + btf.header.typeLen);
    this.view = new DataView(this.types.buffer);
    this.strings = btf.bytes.slice(btf.strStart, btf.strEnd);
    this.nextId = btf.typeCount;
  }

  /** Offset in the type section of type `id`'s btf_type record. */
  private at(id: number): number {
    return this.btf.recordOffset(id) - this.btf.typesStart;
  }

  /** Word `n` (0: name_off, 1: info, 2: size/type, 3.. the extra data) of type `id`. */
  word(id: number, n: number): number {
    return this.view.getUint32(this.at(id) + 4 * n, true);
  }

  setWord(id: number, n: number, value: number): this {
    this.view.setUint32(this.at(id) + 4 * n, value >>> 0, true);
    return this;
  }

  /** Rewrites the info word: kind, vlen and kflag. */
  setInfo(id: number, kind: number, vlen: number, kflag = false): this {
    return this.setWord(id, 1, ((kflag ? 1 : 0) << 31) | (kind << 24) | (vlen & 0xffff));
  }

  /** Offset of `s` in the string section, appending it when it is not one of ours yet. */
  addString(s: string): number {
    const known = this.addedStrings.get(s);
    if (known !== undefined) return known;
    const bytes = encoder.encode(`${s}\0`);
    const off = this.strings.byteLength + this.extraStringLen;
    this.extraStrings.push(bytes);
    this.extraStringLen += bytes.byteLength;
    this.addedStrings.set(s, off);
    return off;
  }

  /**
   * Appends a type given as its u32 words (name_off, info, size/type, extra...) and returns its
   * id.
   */
  addType(words: readonly number[]): number {
    const bytes = new Uint8Array(words.length * 4);
    const v = new DataView(bytes.buffer);
    words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
    this.extraTypes.push(bytes);
    return this.nextId++;
  }

  /** Appends INT `name` of `size` bytes (encoding 0, all bits). */
  addInt(name: string, size: number, encoding = 0): number {
    return this.addType([this.addString(name), 1 << 24, size, (encoding << 24) | (size * 8)]);
  }

  /** Ids of the blob's own types (not the appended ones). */
  *ids(): IterableIterator<number> {
    for (let id = this.btf.firstId; id < this.btf.typeCount; id++) yield id;
  }

  /** Bytes of the edited blob: header, types (appended ones last), strings (appended ones last). */
  finish(): Uint8Array {
    const extraTypeLen = this.extraTypes.reduce((n, t) => n + t.byteLength, 0);
    const typeLen = this.types.byteLength + extraTypeLen;
    const strLen = this.strings.byteLength + this.extraStringLen;
    const out = new Uint8Array(BTF_HEADER_SIZE + typeLen + strLen);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    out[3] = 0;
    v.setUint32(4, BTF_HEADER_SIZE, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, strLen, true);
    let p = BTF_HEADER_SIZE;
    out.set(this.types, p);
    p += this.types.byteLength;
    for (const t of this.extraTypes) {
      out.set(t, p);
      p += t.byteLength;
    }
    out.set(this.strings, p);
    p += this.strings.byteLength;
    for (const s of this.extraStrings) {
      out.set(s, p);
      p += s.byteLength;
    }
    return out;
  }
}
