/**
 * The raw dump: byte for byte what `bpftool btf dump file F` prints (bpftool 7.1,
 * tools/bpf/bpftool/btf.c dump_btf_type()). It reads the type records directly and writes bytes
 * into one large buffer, names being copied from the string section without decoding: dumping
 * vmlinux creates almost no JavaScript strings.
 */
import { BtfKind, BTF_KIND_NAMES } from './kinds.js';
import type { Btf } from './parser.js';
import { collectText, type ChunkSink } from './out.js';

/** Options of the raw dump. */
export interface RawDumpOptions {
  /** Types to dump, in this order; default every type the blob defines (not its base's). */
  ids?: readonly number[];
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const KIND = BTF_KIND_NAMES.map((k) => ascii(` ${k} '`));
const INT_ENC = ['(none)', 'SIGNED', 'CHAR', 'UNKN', 'BOOL'].map((e) => ascii(` encoding=${e}`));
const ENC_UNKN = ascii(' encoding=UNKN');
const LINK = ['static', 'global', 'extern'].map(ascii);
const LINK_UNKN = ascii('(unknown)');
const S = {
  size: ascii("' size="),
  bitsOffset: ascii(' bits_offset='),
  nrBits: ascii(' nr_bits='),
  typeId: ascii("' type_id="),
  arrIndex: ascii(' index_type_id='),
  nrElems: ascii(' nr_elems='),
  vlen: ascii(' vlen='),
  memberHead: ascii('\n\t\''),
  bitfield: ascii(' bitfield_size='),
  encSigned: ascii("' encoding=SIGNED size="),
  encUnsigned: ascii("' encoding=UNSIGNED size="),
  val: ascii("' val="),
  fwdStruct: ascii("' fwd_kind=struct"),
  fwdUnion: ascii("' fwd_kind=union"),
  linkage: ascii(' linkage='),
  varLinkage: ascii(', linkage='),
  retType: ascii("' ret_type_id="),
  secVar: ascii('\n\ttype_id='),
  offset: ascii(' offset='),
  sizeEq: ascii(' size='),
  componentIdx: ascii(' component_idx='),
  anon: ascii('(anon)'),
  invalid: ascii('(invalid)'),
};

/** Flush threshold; the buffer has SLACK bytes beyond it so one line never needs a check. */
const CHUNK = 1 << 20;
const SLACK = 1 << 16;
/** Names are copied with a bound check against this; longer ones take the slow path. */
const NAME_ROOM = SLACK - 256;

/** Streams the raw dump of `btf` to `sink` in chunks of about 1 MiB. */
export function writeRaw(btf: Btf, sink: ChunkSink, options: RawDumpOptions = {}): void {
  const w = new RawWriter(btf, sink);
  if (options.ids) {
    for (const id of options.ids) {
      btf.checkId(id);
      if (id !== 0) w.type(id);
    }
  } else {
    for (let id = btf.firstId; id < btf.typeCount; id++) w.type(id);
  }
  w.flush();
}

/** The raw dump of `btf` as a string. */
export function formatRaw(btf: Btf, options: RawDumpOptions = {}): string {
  return collectText((sink) => writeRaw(btf, sink, options));
}

function put(buf: Uint8Array, p: number, s: Uint8Array): number {
  for (let i = 0; i < s.length; i++) buf[p++] = s[i]!;
  return p;
}

function putU32(buf: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  if (n < 100) {
    const t = (n * 205) >>> 11; // n / 10 for n < 1024
    buf[p] = 48 + t;
    buf[p + 1] = 48 + n - t * 10;
    return p + 2;
  }
  let digits = 3;
  for (let x = 1000; x <= n && digits < 10; x *= 10) digits++;
  let q = p + digits;
  const end = q;
  while (n >= 10) {
    const d = Math.floor(n / 10);
    buf[--q] = 48 + (n - d * 10);
    n = d;
  }
  buf[--q] = 48 + n;
  return end;
}

function putI32(buf: Uint8Array, p: number, n: number): number {
  if (n < 0) {
    buf[p] = 45;
    return putU32(buf, p + 1, -n);
  }
  return putU32(buf, p, n);
}

function putAscii(buf: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  return p;
}

class RawWriter {
  private buf = new Uint8Array(CHUNK + SLACK);
  private p = 0;
  private readonly v: DataView;
  private readonly le: boolean;
  private readonly strBytes: Uint8Array;
  private readonly strLo: number;
  private readonly strHi: number;
  private readonly strDelta: number;

  constructor(private readonly btf: Btf, private readonly sink: ChunkSink) {
    this.v = btf.view;
    this.le = btf.littleEndian;
    this.strBytes = btf.bytes;
    this.strLo = btf.strBase;
    this.strHi = btf.strBase + btf.header.strLen;
    this.strDelta = btf.strStart - btf.strBase;
  }

  flush(): void {
    if (this.p > 0) this.sink(this.buf.subarray(0, this.p));
    this.p = 0;
  }

  /** btf_str(): '(anon)' for offset 0, '(invalid)' outside the strings, else the bytes. */
  private name(p: number, off: number): number {
    const buf = this.buf;
    if (off === 0) return put(buf, p, S.anon);
    let bytes = this.strBytes;
    let pos: number;
    if (off >= this.strLo && off < this.strHi) pos = off + this.strDelta;
    else {
      const owner = this.btf.stringOwner(off);
      if (!owner) return put(buf, p, S.invalid);
      bytes = owner.bytes;
      pos = owner.strStart + off - owner.strBase;
    }
    const limit = p + NAME_ROOM;
    for (;;) {
      const c = bytes[pos++]!;
      if (c === 0) return p;
      if (p === limit) return this.longName(p, bytes, pos - 1);
      buf[p++] = c;
    }
  }

  /** A name too long for the slack: flush and copy it through a big enough buffer. */
  private longName(p: number, bytes: Uint8Array, pos: number): number {
    const end = bytes.indexOf(0, pos);
    this.p = p;
    this.flush();
    if (this.buf.length < end - pos + SLACK) this.buf = new Uint8Array(end - pos + CHUNK + SLACK);
    this.buf.set(bytes.subarray(pos, end), 0);
    return end - pos;
  }

  private maybeFlush(p: number): number {
    if (p < CHUNK) return p;
    this.p = p;
    this.flush();
    return 0;
  }

  type(id: number): void {
    const btf = this.btf;
    const o = id < btf.firstId ? btf.owner(id) : btf;
    const v = o === btf ? this.v : o.view;
    const le = o === btf ? this.le : o.littleEndian;
    const rec = btf.recordOffset(id);
    const info = v.getUint32(rec + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31;
    const st = v.getUint32(rec + 8, le);
    const q = rec + 12;
    let buf = this.buf;
    let p = this.p;

    buf[p++] = 91; // [
    p = putU32(buf, p, id);
    buf[p++] = 93; // ]
    p = put(buf, p, KIND[kind]!);
    p = this.name(p, v.getUint32(rec, le));
    buf = this.buf; // name() may have replaced it for a huge name

    switch (kind) {
      case BtfKind.INT: {
        const x = v.getUint32(q, le);
        p = put(buf, p, S.size);
        p = putU32(buf, p, st);
        p = put(buf, p, S.bitsOffset);
        p = putU32(buf, p, (x >>> 16) & 0xff);
        p = put(buf, p, S.nrBits);
        p = putU32(buf, p, x & 0xff);
        p = put(buf, p, INT_ENC[(x >>> 24) & 0x0f] ?? ENC_UNKN);
        break;
      }
      case BtfKind.PTR:
      case BtfKind.CONST:
      case BtfKind.VOLATILE:
      case BtfKind.RESTRICT:
      case BtfKind.TYPEDEF:
      case BtfKind.TYPE_TAG:
        p = put(buf, p, S.typeId);
        p = putU32(buf, p, st);
        break;
      case BtfKind.ARRAY:
        p = put(buf, p, S.typeId);
        p = putU32(buf, p, v.getUint32(q, le));
        p = put(buf, p, S.arrIndex);
        p = putU32(buf, p, v.getUint32(q + 4, le));
        p = put(buf, p, S.nrElems);
        p = putU32(buf, p, v.getUint32(q + 8, le));
        break;
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        p = put(buf, p, S.size);
        p = putU32(buf, p, st);
        p = put(buf, p, S.vlen);
        p = putU32(buf, p, vlen);
        for (let i = 0; i < vlen; i++) {
          const m = q + 12 * i;
          p = this.maybeFlush(p);
          p = put(this.buf, p, S.memberHead);
          p = this.name(p, v.getUint32(m, le));
          buf = this.buf;
          p = put(buf, p, S.typeId);
          p = putU32(buf, p, v.getUint32(m + 4, le));
          const off = v.getUint32(m + 8, le);
          p = put(buf, p, S.bitsOffset);
          if (kflag) {
            p = putU32(buf, p, off & 0xffffff);
            if (off >>> 24) {
              p = put(buf, p, S.bitfield);
              p = putU32(buf, p, off >>> 24);
            }
          } else p = putU32(buf, p, off);
        }
        break;
      }
      case BtfKind.ENUM: {
        p = put(buf, p, kflag ? S.encSigned : S.encUnsigned);
        p = putU32(buf, p, st);
        p = put(buf, p, S.vlen);
        p = putU32(buf, p, vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          p = this.maybeFlush(p);
          p = put(this.buf, p, S.memberHead);
          p = this.name(p, v.getUint32(e, le));
          buf = this.buf;
          p = put(buf, p, S.val);
          p = kflag ? putI32(buf, p, v.getInt32(e + 4, le)) : putU32(buf, p, v.getUint32(e + 4, le));
        }
        break;
      }
      case BtfKind.ENUM64: {
        p = put(buf, p, kflag ? S.encSigned : S.encUnsigned);
        p = putU32(buf, p, st);
        p = put(buf, p, S.vlen);
        p = putU32(buf, p, vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          p = this.maybeFlush(p);
          p = put(this.buf, p, S.memberHead);
          p = this.name(p, v.getUint32(e, le));
          buf = this.buf;
          const raw = (BigInt(v.getUint32(e + 8, le)) << 32n) | BigInt(v.getUint32(e + 4, le));
          p = put(buf, p, S.val);
          p = putAscii(buf, p, kflag ? `${BigInt.asIntN(64, raw)}LL` : `${raw}ULL`);
        }
        break;
      }
      case BtfKind.FWD:
        p = put(buf, p, kflag ? S.fwdUnion : S.fwdStruct);
        break;
      case BtfKind.FUNC:
        p = put(buf, p, S.typeId);
        p = putU32(buf, p, st);
        p = put(buf, p, S.linkage);
        p = put(buf, p, LINK[vlen] ?? LINK_UNKN);
        break;
      case BtfKind.FUNC_PROTO: {
        p = put(buf, p, S.retType);
        p = putU32(buf, p, st);
        p = put(buf, p, S.vlen);
        p = putU32(buf, p, vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 8 * i;
          p = this.maybeFlush(p);
          p = put(this.buf, p, S.memberHead);
          p = this.name(p, v.getUint32(e, le));
          buf = this.buf;
          p = put(buf, p, S.typeId);
          p = putU32(buf, p, v.getUint32(e + 4, le));
        }
        break;
      }
      case BtfKind.VAR:
        p = put(buf, p, S.typeId);
        p = putU32(buf, p, st);
        p = put(buf, p, S.varLinkage);
        p = put(buf, p, LINK[v.getUint32(q, le)] ?? LINK_UNKN);
        break;
      case BtfKind.DATASEC: {
        p = put(buf, p, S.size);
        p = putU32(buf, p, st);
        p = put(buf, p, S.vlen);
        p = putU32(buf, p, vlen);
        for (let i = 0; i < vlen; i++) {
          const e = q + 12 * i;
          const vt = v.getUint32(e, le);
          p = this.maybeFlush(p);
          buf = this.buf;
          p = put(buf, p, S.secVar);
          p = putU32(buf, p, vt);
          p = put(buf, p, S.offset);
          p = putU32(buf, p, v.getUint32(e + 4, le));
          p = put(buf, p, S.sizeEq);
          p = putU32(buf, p, v.getUint32(e + 8, le));
          if (vt < btf.typeCount) {
            buf[p++] = 32; // ' ('
            buf[p++] = 40;
            p = putAscii(buf, p, BTF_KIND_NAMES[btf.kindOf(vt)] ?? 'UNKNOWN');
            buf[p++] = 32;
            buf[p++] = 39;
            p = this.name(p, btf.nameOffOf(vt));
            buf = this.buf;
            buf[p++] = 39;
            buf[p++] = 41;
          }
        }
        break;
      }
      case BtfKind.FLOAT:
        p = put(buf, p, S.size);
        p = putU32(buf, p, st);
        break;
      case BtfKind.DECL_TAG:
        p = put(buf, p, S.typeId);
        p = putU32(buf, p, st);
        p = put(buf, p, S.componentIdx);
        p = putI32(buf, p, v.getInt32(q, le));
        break;
      default:
        buf[p++] = 39;
        break;
    }
    buf[p++] = 10;
    this.p = this.maybeFlush(p);
  }
}
