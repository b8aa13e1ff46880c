/**
 * The lazy BTF decoder. Opening a blob checks the header and string section and makes one pass
 * over the type headers to record where each type starts; a type is decoded only when asked for,
 * and names are looked up through a hash of the raw string bytes, so finding 'task_struct' in
 * vmlinux never builds the other 120 000 types or their names.
 */
import { Buffer } from 'node:buffer';
import { FormatError } from '../errors.js';
import { ByteReader, latin1OrUtf8 } from '../bytes/reader.js';
import {
  BTF_HEADER_SIZE,
  BTF_KIND_MAX,
  BTF_MAGIC,
  BTF_MAX_STR_OFFSET,
  BTF_TYPE_SIZE,
  BtfKind,
  extraSize,
  kindName,
  type BtfType,
} from './kinds.js';

/** Options of parseBtf. */
export interface ParseBtfOptions {
  /**
   * The base BTF of split BTF (e.g. vmlinux for a kernel module's BTF): type ids and string
   * offsets of the blob continue after the base's.
   */
  base?: Btf;
}

/** The fields of struct btf_header. */
export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

const FORMAT = 'BTF';
const encoder = new TextEncoder();

/**
 * Parses BTF bytes (a raw file such as /sys/kernel/btf/vmlinux or the .BTF section of an
 * object), in either byte order. Throws FormatError for a bad header, string section or type
 * section layout; the contents of each type are checked when it is decoded.
 */
export function parseBtf(bytes: Uint8Array, options: ParseBtfOptions = {}): Btf {
  return new Btf(bytes, options.base);
}

/** One parsed BTF blob: type lookup by id and by name, strings, raw field access. */
export class Btf {
  /** The bytes given to parseBtf (not copied). */
  readonly bytes: Uint8Array;
  /** Bounds-checked reader over `bytes` in the blob's byte order. */
  readonly reader: ByteReader;
  /** DataView over `bytes`, for fast reads of ranges already checked by the header pass. */
  readonly view: DataView;
  /** Whether the blob is little-endian (from its magic). */
  readonly littleEndian: boolean;
  /** The base of split BTF, if any. */
  readonly base: Btf | undefined;
  /** The decoded header. */
  readonly header: BtfHeader;
  /** First type id defined by this blob: 1, or the base's typeCount for split BTF. */
  readonly firstId: number;
  /** Number of type ids including void (id 0) and the base's: valid ids are 0 .. typeCount-1. */
  readonly typeCount: number;
  /** First string offset belonging to this blob (the base's total string length for split BTF). */
  readonly strBase: number;
  /** Absolute offset in `bytes` of the type section. */
  readonly typesStart: number;
  /** Absolute offset in `bytes` of the string section. */
  readonly strStart: number;
  /** Absolute end (exclusive) of the string section. */
  readonly strEnd: number;

  /** Absolute offset in `bytes` of each own type, indexed by id - firstId. */
  private readonly offs: Uint32Array;
  private readonly cache: (BtfType | undefined)[];
  private readonly names = new Map<number, string>();
  private lookups = 0;
  private hashHead: Int32Array | undefined;
  private hashNext: Int32Array | undefined;
  private ptrSize = 0;

  constructor(bytes: Uint8Array, base?: Btf) {
    // A plain Uint8Array view: Buffer's indexOf/subarray are much slower per call.
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bytes = bytes;
    this.base = base;
    if (bytes.byteLength < BTF_HEADER_SIZE) {
      throw new FormatError(FORMAT, 0, `header: needs ${BTF_HEADER_SIZE} bytes but the data is ${bytes.byteLength} bytes long`);
    }
    const magicLe = bytes[0]! | (bytes[1]! << 8);
    let le: boolean;
    if (magicLe === BTF_MAGIC) le = true;
    else if (magicLe === 0x9feb) le = false;
    else throw new FormatError(FORMAT, 0, `bad magic 0x${magicLe.toString(16).padStart(4, '0')}, expected 0xeb9f in either byte order`);
    this.littleEndian = le;
    this.reader = new ByteReader(bytes, FORMAT, le);
    this.view = this.reader.view;
    const r = this.reader;
    const h: BtfHeader = {
      magic: BTF_MAGIC,
      version: r.u8(2),
      flags: r.u8(3),
      hdrLen: r.u32(4),
      typeOff: r.u32(8),
      typeLen: r.u32(12),
      strOff: r.u32(16),
      strLen: r.u32(20),
    };
    this.header = h;
    if (h.version !== 1) throw new FormatError(FORMAT, 2, `unsupported version ${h.version}, expected 1`);
    if (h.hdrLen < BTF_HEADER_SIZE || h.hdrLen > bytes.byteLength) {
      throw new FormatError(FORMAT, 4, `header length ${h.hdrLen} is outside ${BTF_HEADER_SIZE}..${bytes.byteLength}`);
    }
    const left = bytes.byteLength - h.hdrLen;
    if (h.strOff + h.strLen > left) {
      throw new FormatError(FORMAT, 16, `string section ${h.strOff}+${h.strLen} runs past the ${left} bytes after the header`);
    }
    if (h.typeOff + h.typeLen > h.strOff) {
      throw new FormatError(FORMAT, 8, `type section ${h.typeOff}+${h.typeLen} overlaps the string section at ${h.strOff}`);
    }
    if (h.typeOff % 4 !== 0) throw new FormatError(FORMAT, 8, `type section offset ${h.typeOff} is not 4-byte aligned`);

    this.typesStart = h.hdrLen + h.typeOff;
    this.strStart = h.hdrLen + h.strOff;
    this.strEnd = this.strStart + h.strLen;
    this.strBase = base ? base.strBase + base.header.strLen : 0;
    if (!(base && h.strLen === 0)) {
      if (h.strLen === 0 || h.strLen - 1 > BTF_MAX_STR_OFFSET || bytes[this.strEnd - 1] !== 0) {
        throw new FormatError(FORMAT, this.strStart, 'string section must be non-empty and end with a NUL byte');
      }
      if (!base && bytes[this.strStart] !== 0) {
        throw new FormatError(FORMAT, this.strStart, 'string section must start with the empty string');
      }
    }

    this.firstId = base ? base.typeCount : 1;
    this.offs = this.indexTypes(this.typesStart, this.typesStart + h.typeLen);
    this.typeCount = this.firstId + this.offs.length;
    this.cache = new Array(this.typeCount);
  }

  /** One pass over the type headers: checks kinds and sizes, records where each type starts. */
  private indexTypes(start: number, end: number): Uint32Array {
    const v = this.view;
    const le = this.littleEndian;
    // native-order aligned data is read through a Uint32Array: much faster before the JIT warms up
    const u32 = le === HOST_LE && (this.bytes.byteOffset + start) % 4 === 0 ? new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength >>> 2) : undefined;
    let offs = new Uint32Array(Math.max(16, ((end - start) / 24) | 0));
    let n = 0;
    let p = start;
    while (p + BTF_TYPE_SIZE <= end) {
      const info = u32 ? u32[(p + 4) >>> 2]! : v.getUint32(p + 4, le);
      const kind = (info >>> 24) & 0x1f;
      const fixed = FIXED_EXTRA[kind]!;
      if (fixed < 0) {
        throw new FormatError(FORMAT, p + 4, `type [${this.firstId + n}] has unknown kind ${kind}, expected 1..${BTF_KIND_MAX}`);
      }
      const next = p + BTF_TYPE_SIZE + fixed + VLEN_EXTRA[kind]! * (info & 0xffff);
      if (next > end) {
        throw new FormatError(FORMAT, p, `type [${this.firstId + n}] (${kindName(kind)}) needs ${next - p} bytes but the type section ends at 0x${end.toString(16)}`);
      }
      if (n === offs.length) {
        const bigger = new Uint32Array(offs.length * 2);
        bigger.set(offs);
        offs = bigger;
      }
      offs[n++] = p;
      p = next;
    }
    if (p !== end) throw new FormatError(FORMAT, p, `${end - p} trailing bytes in the type section, expected a whole btf_type`);
    return offs.slice(0, n);
  }

  /** Number of types this blob itself defines (without void and base types). */
  get ownTypeCount(): number {
    return this.offs.length;
  }

  /** Throws a FormatError unless `id` is a valid type id (0 .. typeCount-1). */
  checkId(id: number, where = this.typesStart, what = 'type id'): void {
    if (!(id >= 0 && id < this.typeCount) || !Number.isInteger(id)) {
      throw new FormatError(FORMAT, where, `${what} ${id} does not exist (the BTF has ids 0..${this.typeCount - 1})`);
    }
  }

  /** The Btf holding type `id` (this one or a base). */
  owner(id: number): Btf {
    let b: Btf = this;
    while (id < b.firstId && b.base) b = b.base;
    return b;
  }

  /** Absolute offset of type `id`'s btf_type record in `owner(id).bytes`; id must not be 0. */
  recordOffset(id: number): number {
    this.checkId(id);
    if (id === 0) throw new FormatError(FORMAT, this.typesStart, 'type id 0 (void) has no record');
    const o = this.owner(id);
    return o.offs[id - o.firstId]!;
  }

  /** Raw `info` word of type `id` (0 for void). */
  info(id: number): number {
    if (id === 0) return 0;
    const o = this.owner(id);
    this.checkId(id);
    return o.view.getUint32(o.offs[id - o.firstId]! + 4, o.littleEndian);
  }

  /** Kind number of type `id` (BtfKind.UNKN for void). */
  kindOf(id: number): number {
    return (this.info(id) >>> 24) & 0x1f;
  }

  /** Raw name offset of type `id` (0 for void). */
  nameOffOf(id: number): number {
    if (id === 0) return 0;
    const o = this.owner(id);
    this.checkId(id);
    return o.view.getUint32(o.offs[id - o.firstId]!, o.littleEndian);
  }

  /** Raw size/type word (the third u32) of type `id`. */
  sizeOrType(id: number): number {
    if (id === 0) return 0;
    const o = this.owner(id);
    this.checkId(id);
    return o.view.getUint32(o.offs[id - o.firstId]! + 8, o.littleEndian);
  }

  /** Name of type `id` ('' when anonymous or void). */
  nameOf(id: number): string {
    return this.str(this.nameOffOf(id), id === 0 ? 0 : this.recordOffset(id));
  }

  /** The Btf whose string section holds offset `off`, or undefined when `off` is out of range. */
  stringOwner(off: number): Btf | undefined {
    let b: Btf | undefined = this;
    while (b && off < b.strBase) b = b.base;
    if (!b || off - b.strBase >= b.header.strLen) return undefined;
    return b;
  }

  /**
   * Absolute position in `stringOwner(off).bytes` of the string at offset `off`, or -1 if the
   * offset is outside every string section. The string ends at the next NUL, which the section
   * is checked to contain.
   */
  stringPos(off: number): number {
    const b = this.stringOwner(off);
    return b ? b.strStart + off - b.strBase : -1;
  }

  /**
   * The string at offset `off` of the string section(s). Throws a FormatError naming `where` if
   * the offset is outside the section.
   */
  str(off: number, where = this.strStart): string {
    if (off === 0 && this.strBase === 0) return '';
    let s = this.names.get(off);
    if (s !== undefined) return s;
    const b = this.stringOwner(off);
    if (!b) throw new FormatError(FORMAT, where, `string offset ${off} is outside the string section (${this.strBase + this.header.strLen} bytes)`);
    const pos = b.strStart + off - b.strBase;
    const nul = b.bytes.indexOf(0, pos);
    s = latin1OrUtf8(b.bytes, pos, nul);
    this.names.set(off, s);
    return s;
  }

  /** Decodes type `id` (cached). Throws FormatError for out-of-range ids or bad name offsets. */
  type(id: number): BtfType {
    this.checkId(id);
    if (id === 0) throw new FormatError(FORMAT, this.typesStart, 'type id 0 is void, which has no type record');
    if (id < this.firstId) return this.base!.type(id);
    let t = this.cache[id];
    if (t === undefined) {
      t = this.decode(this.offs[id - this.firstId]!);
      this.cache[id] = t;
    }
    return t;
  }

  private decode(p: number): BtfType {
    const v = this.view;
    const le = this.littleEndian;
    const name = this.str(v.getUint32(p, le), p);
    const info = v.getUint32(p + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const st = v.getUint32(p + 8, le);
    const q = p + BTF_TYPE_SIZE;
    switch (kind) {
      case BtfKind.INT: {
        const x = v.getUint32(q, le);
        return { kind, name, size: st, encoding: (x >>> 24) & 0x0f, bitsOffset: (x >>> 16) & 0xff, bits: x & 0xff };
      }
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
        return { kind, name, type: st };
      case BtfKind.ARRAY:
        return { kind, name, type: v.getUint32(q, le), indexType: v.getUint32(q + 4, le), nelems: v.getUint32(q + 8, le) };
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const members = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const m = q + 12 * i;
          const off = v.getUint32(m + 8, le);
          members[i] = {
            name: this.str(v.getUint32(m, le), m),
            type: v.getUint32(m + 4, le),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          };
        }
        return { kind, name, size: st, members };
      }
      case BtfKind.ENUM: {
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          values[i] = { name: this.str(v.getUint32(e, le), e), value: kflag ? v.getInt32(e + 4, le) : v.getUint32(e + 4, le) };
        }
        return { kind, name, size: st, signed: kflag, values };
      }
      case BtfKind.ENUM64: {
        const values = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          const raw = (BigInt(v.getUint32(e + 8, le)) << 32n) | BigInt(v.getUint32(e + 4, le));
          values[i] = { name: this.str(v.getUint32(e, le), e), value: kflag ? BigInt.asIntN(64, raw) : raw };
        }
        return { kind, name, size: st, signed: kflag, values };
      }
      case BtfKind.FWD:
        return { kind, name, union: kflag };
      case BtfKind.FUNC:
        return { kind, name, type: st, linkage: vlen };
      case BtfKind.FUNC_PROTO: {
        const params = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          params[i] = { name: this.str(v.getUint32(e, le), e), type: v.getUint32(e + 4, le) };
        }
        return { kind, name, returnType: st, params };
      }
      case BtfKind.VAR:
        return { kind, name, type: st, linkage: v.getUint32(q, le) };
      case BtfKind.DATASEC: {
        const vars = new Array(vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          vars[i] = { type: v.getUint32(e, le), offset: v.getUint32(e + 4, le), size: v.getUint32(e + 8, le) };
        }
        return { kind, name, size: st, vars };
      }
      case BtfKind.FLOAT:
        return { kind, name, size: st };
      case BtfKind.DECL_TAG:
        return { kind, name, type: st, componentIdx: v.getInt32(q, le), attribute: kflag };
      case BtfKind.TYPE_TAG:
        return { kind, name, type: st, attribute: kflag };
      default:
        // indexTypes() rejected every other kind
        throw new FormatError(FORMAT, p + 4, `unknown kind ${kind}`);
    }
  }

  /** Ids of all types (this blob's and its base's) named `name`, in id order. */
  idsByName(name: string): number[] {
    const out = this.base ? this.base.idsByName(name) : [];
    if (name === '') {
      for (let i = 0; i < this.offs.length; i++) if (this.view.getUint32(this.offs[i]!, this.littleEndian) === 0) out.push(this.firstId + i);
      return out;
    }
    const key = encoder.encode(name);
    // the first few lookups search the string section natively and compare offsets; after
    // that a hash of all names pays off
    if (!this.hashHead && ++this.lookups <= 4) return out.concat(this.scanName(key));
    this.buildHash();
    const head = this.hashHead!;
    const next = this.hashNext!;
    const found: number[] = [];
    for (let i = head[hashBytes(key, 0, key.length) & (head.length - 1)]!; i >= 0; i = next[i]!) {
      const pos = this.stringPos(this.view.getUint32(this.offs[i]!, this.littleEndian));
      const sb = this.stringOwner(this.view.getUint32(this.offs[i]!, this.littleEndian))!.bytes;
      if (sameCString(sb, pos, key)) found.push(this.firstId + i);
    }
    found.sort((a, b) => a - b);
    return out.concat(found);
  }

  /** Own type ids whose name is `key`: find the string's offsets, then the types using them. */
  private scanName(key: Uint8Array): number[] {
    const b = this.bytes;
    const strs = Buffer.from(b.buffer, b.byteOffset + this.strStart, this.header.strLen);
    const needle = new Uint8Array(key.length + 2);
    needle.set(key, 1);
    const wanted: number[] = [];
    if (strs.length > key.length && sameCString(strs, 0, key)) wanted.push(this.strBase);
    for (let i = strs.indexOf(needle); i >= 0; i = strs.indexOf(needle, i + 1)) wanted.push(this.strBase + i + 1);
    const found: number[] = [];
    if (wanted.length === 0) return found;
    const v = this.view;
    const le = this.littleEndian;
    const offs = this.offs;
    const w0 = wanted[0]!;
    for (let i = 0; i < offs.length; i++) {
      const off = v.getUint32(offs[i]!, le);
      if (off === w0 || (wanted.length > 1 && wanted.includes(off))) found.push(this.firstId + i);
    }
    return found;
  }

  /** The first type named `name` (optionally of the given kind), or undefined. */
  typeByName(name: string, kind?: number): { id: number; type: BtfType } | undefined {
    for (const id of this.idsByName(name)) {
      if (kind === undefined || this.kindOf(id) === kind) return { id, type: this.type(id) };
    }
    return undefined;
  }

  /** Builds the name hash: one pass over own type headers hashing name bytes in place. */
  private buildHash(): void {
    if (this.hashHead) return;
    const n = this.offs.length;
    let size = 16;
    while (size < n * 2) size *= 2;
    const head = new Int32Array(size).fill(-1);
    const next = new Int32Array(n);
    const v = this.view;
    const le = this.littleEndian;
    for (let i = n - 1; i >= 0; i--) {
      const off = v.getUint32(this.offs[i]!, le);
      if (off === 0) continue;
      const b = this.stringOwner(off);
      if (!b) continue; // unreachable by name; decoding the type reports the bad offset
      const bytes = b.bytes;
      const pos = b.strStart + off - b.strBase;
      const end = bytes.indexOf(0, pos);
      const h = hashBytes(bytes, pos, end) & (size - 1);
      next[i] = head[h]!;
      head[h] = i;
    }
    this.hashHead = head;
    this.hashNext = next;
  }

  /**
   * Pointer size in bytes, guessed like libbpf's determine_ptr_size(): the size of an INT named
   * 'long', 'unsigned long' or an equivalent spelling; 8 when there is none.
   */
  get pointerSize(): number {
    if (this.ptrSize === 0) this.ptrSize = this.base ? this.base.pointerSize : this.guessPointerSize();
    return this.ptrSize;
  }

  /** Overrides the guessed pointer size (4 or 8). */
  set pointerSize(size: number) {
    this.ptrSize = size;
  }

  private guessPointerSize(): number {
    for (let id = this.firstId; id < this.typeCount; id++) {
      const info = this.info(id);
      if (((info >>> 24) & 0x1f) !== BtfKind.INT) continue;
      const size = this.sizeOrType(id);
      if (size !== 4 && size !== 8) continue;
      const b = this.stringOwner(this.nameOffOf(id));
      if (!b) continue;
      if (LONG_ALIASES.has(this.str(this.nameOffOf(id)))) return size;
    }
    return 8;
  }
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes after a btf_type: fixed part per kind (-1: invalid kind) and part per vlen entry. */
const FIXED_EXTRA = new Int8Array(32).fill(-1);
const VLEN_EXTRA = new Int8Array(32);
for (let k = 1; k <= BTF_KIND_MAX; k++) {
  FIXED_EXTRA[k] = extraSize(k, 0);
  VLEN_EXTRA[k] = extraSize(k, 1) - extraSize(k, 0);
}

const LONG_ALIASES = new Set([
  'long', 'long int', 'int long', 'unsigned long', 'long unsigned', 'unsigned long int',
  'unsigned int long', 'long unsigned int', 'long int unsigned', 'int unsigned long', 'int long unsigned',
]);

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Whether the NUL-terminated string at bytes[pos] equals key. */
function sameCString(bytes: Uint8Array, pos: number, key: Uint8Array): boolean {
  const n = key.length;
  if (pos + n >= bytes.length) return false;
  for (let i = 0; i < n; i++) if (bytes[pos + i] !== key[i]) return false;
  return bytes[pos + n] === 0;
}
