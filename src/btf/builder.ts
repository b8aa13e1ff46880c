/**
 * Writers for BTF and .BTF.ext: BtfBuilder takes decoded types (the model parseBtf returns) and
 * emits a valid blob with a deduplicated string table; BtfExtBuilder emits func_info, line_info
 * and CO-RE relocation records whose strings go into the same table. parse(build(x)) equals x.
 */
import { FormatError } from '../errors.js';
import { ByteWriter, StringTable } from '../bytes/writer.js';
import { BTF_HEADER_SIZE, BTF_MAGIC, BTF_VERSION, BtfKind, type BtfType } from './kinds.js';
import { BTF_EXT_HEADER_SIZE, EXT_MIN_RECORD, parseAccessString, type CoreRelo, type FuncInfo, type LineInfo } from './ext.js';
import type { Btf } from './parser.js';

/** Options of BtfBuilder. */
export interface BtfBuilderOptions {
  /** Build split BTF on top of this base: ids and string offsets continue after the base's. */
  base?: Btf;
}

/** Options of finish(). */
export interface BuildOptions {
  /** Byte order of the output; default little-endian. */
  littleEndian?: boolean;
}

function bad(detail: string): FormatError {
  return new FormatError('BTF', 0, `cannot build: ${detail}`);
}

const u32ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Builds BTF bytes from decoded types. */
export class BtfBuilder {
  private readonly types: BtfType[] = [];
  private readonly strings = new StringTable();
  private readonly base: Btf | undefined;
  private baseStrings: Map<string, number> | undefined;

  constructor(options: BtfBuilderOptions = {}) {
    this.base = options.base;
  }

  /** Id the next add() will return. */
  get nextId(): number {
    return (this.base ? this.base.typeCount : 1) + this.types.length;
  }

  /** Types added so far, in id order. */
  get added(): readonly BtfType[] {
    return this.types;
  }

  /**
   * Offset of `s` in the final string section (a base string is reused for split BTF), adding it
   * if new.
   */
  addString(s: string): number {
    if (this.base) {
      const inBase = this.findBaseString(s);
      if (inBase !== undefined) return inBase;
      return this.base.strBase + this.base.header.strLen + this.strings.add(s);
    }
    return this.strings.add(s);
  }

  private findBaseString(s: string): number | undefined {
    if (!this.baseStrings) {
      // index every base string once; only split builds pay for it
      this.baseStrings = new Map();
      for (let b: Btf | undefined = this.base; b; b = b.base) {
        const bytes = b.bytes;
        let p = b.strStart;
        while (p < b.strEnd) {
          const off = b.strBase + p - b.strStart;
          const str = b.str(off);
          if (!this.baseStrings.has(str)) this.baseStrings.set(str, off);
          p = bytes.indexOf(0, p) + 1;
        }
      }
    }
    return this.baseStrings.get(s);
  }

  /** Adds a type and returns its id. References to other ids are not checked until finish(). */
  add(type: BtfType): number {
    this.types.push(type);
    return this.nextId - 1;
  }

  /** Adds several types, returning the id of the first. */
  addAll(types: readonly BtfType[]): number {
    const first = this.nextId;
    for (const t of types) this.add(t);
    return first;
  }

  /** Encodes header, types and strings. Throws FormatError for values that do not fit. */
  finish(options: BuildOptions = {}): Uint8Array {
    const le = options.littleEndian ?? true;
    const w = new ByteWriter(le, 1024);
    const count = this.nextId;
    const ref = (id: number, what: string): number => {
      if (!u32ok(id) || id >= count) throw bad(`${what} refers to type id ${id}, but only ids 0..${count - 1} exist`);
      return id;
    };
    for (let i = 0; i < this.types.length; i++) this.encode(w, this.types[i]!, (id, what) => ref(id, `type [${this.nextId - this.types.length + i}] ${what}`));
    const typeSection = w.finish();
    const strs = this.strings.finish();
    const out = new ByteWriter(le, BTF_HEADER_SIZE + typeSection.length + strs.length);
    out.u16(BTF_MAGIC).u8(BTF_VERSION).u8(0).u32(BTF_HEADER_SIZE);
    out.u32(0).u32(typeSection.length).u32(typeSection.length).u32(strs.length);
    out.bytes(typeSection).bytes(strs);
    return out.finish();
  }

  private head(w: ByteWriter, name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number): void {
    if (vlen > 0xffff) throw bad(`${vlen} members/values/params exceed the 16-bit vlen`);
    if (!u32ok(sizeOrType)) throw bad(`size/type ${sizeOrType} is not a u32`);
    w.u32(this.addString(name));
    w.u32(((kflag ? 1 : 0) << 31) | (kind << 24) | vlen);
    w.u32(sizeOrType);
  }

  private encode(w: ByteWriter, t: BtfType, ref: (id: number, what: string) => number): void {
    switch (t.kind) {
      case BtfKind.INT:
        if (t.encoding > 0xf || t.bitsOffset > 0xff || t.bits > 0xff) throw bad(`INT '${t.name}' encoding/offset/bits out of range`);
        this.head(w, t.name, t.kind, 0, false, t.size);
        w.u32((t.encoding << 24) | (t.bitsOffset << 16) | t.bits);
        break;
      case BtfKind.PTR:
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
        this.head(w, t.name, t.kind, 0, false, ref(t.type, 'target'));
        break;
      case BtfKind.ARRAY:
        this.head(w, t.name, t.kind, 0, false, 0);
        w.u32(ref(t.type, 'element type')).u32(ref(t.indexType, 'index type'));
        if (!u32ok(t.nelems)) throw bad(`array length ${t.nelems} is not a u32`);
        w.u32(t.nelems);
        break;
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const kflag = t.members.some((m) => m.bitfieldSize !== 0);
        this.head(w, t.name, t.kind, t.members.length, kflag, t.size);
        for (const m of t.members) {
          w.u32(this.addString(m.name)).u32(ref(m.type, `member '${m.name}'`));
          if (kflag) {
            if (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff || m.bitOffset < 0 || m.bitfieldSize < 0) {
              throw bad(`member '${m.name}': offset ${m.bitOffset} or bitfield size ${m.bitfieldSize} too large for a struct with bitfields`);
            }
            w.u32((m.bitfieldSize << 24) | m.bitOffset);
          } else {
            if (!u32ok(m.bitOffset)) throw bad(`member '${m.name}' offset ${m.bitOffset} is not a u32`);
            w.u32(m.bitOffset);
          }
        }
        break;
      }
      case BtfKind.ENUM:
        this.head(w, t.name, t.kind, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          if (!Number.isInteger(v.value) || v.value < -0x80000000 || v.value > 0xffffffff) throw bad(`enumerator '${v.name}' value ${v.value} does not fit 32 bits`);
          w.u32(this.addString(v.name)).u32(v.value >>> 0);
        }
        break;
      case BtfKind.ENUM64:
        this.head(w, t.name, t.kind, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          w.u32(this.addString(v.name)).u32(Number(u & 0xffffffffn)).u32(Number(u >> 32n));
        }
        break;
      case BtfKind.FWD:
        this.head(w, t.name, t.kind, 0, t.union, 0);
        break;
      case BtfKind.FUNC:
        this.head(w, t.name, t.kind, t.linkage, false, ref(t.type, 'prototype'));
        break;
      case BtfKind.FUNC_PROTO:
        this.head(w, t.name, t.kind, t.params.length, false, ref(t.returnType, 'return type'));
        for (const p of t.params) w.u32(this.addString(p.name)).u32(ref(p.type, `parameter '${p.name}'`));
        break;
      case BtfKind.VAR:
        this.head(w, t.name, t.kind, 0, false, ref(t.type, 'type'));
        if (!u32ok(t.linkage)) throw bad(`VAR '${t.name}' linkage ${t.linkage} is not a u32`);
        w.u32(t.linkage);
        break;
      case BtfKind.DATASEC:
        this.head(w, t.name, t.kind, t.vars.length, false, t.size);
        for (const v of t.vars) {
          if (!u32ok(v.offset) || !u32ok(v.size)) throw bad(`DATASEC '${t.name}' variable offset/size out of range`);
          w.u32(ref(v.type, 'variable')).u32(v.offset).u32(v.size);
        }
        break;
      case BtfKind.FLOAT:
        this.head(w, t.name, t.kind, 0, false, t.size);
        break;
      case BtfKind.DECL_TAG:
        this.head(w, t.name, t.kind, 0, t.attribute, ref(t.type, 'tagged type'));
        if (!Number.isInteger(t.componentIdx) || t.componentIdx < -1 || t.componentIdx > 0x7fffffff) throw bad(`DECL_TAG component_idx ${t.componentIdx}`);
        w.i32(t.componentIdx);
        break;
      case BtfKind.TYPE_TAG:
        this.head(w, t.name, t.kind, 0, t.attribute, ref(t.type, 'tagged type'));
        break;
      default:
        throw bad(`unknown kind ${(t as { kind: unknown }).kind}`);
    }
  }
}

/** Builds a .BTF.ext blob; its strings go into the BtfBuilder given (add records before finishing it). */
export class BtfExtBuilder {
  private readonly funcInfo = new Map<string, FuncInfo[]>();
  private readonly lineInfo = new Map<string, LineInfo[]>();
  private readonly coreRelos = new Map<string, CoreRelo[]>();

  constructor(private readonly btf: BtfBuilder) {}

  private static push<T>(map: Map<string, T[]>, section: string, rec: T): void {
    let list = map.get(section);
    if (!list) map.set(section, (list = []));
    list.push(rec);
  }

  /** Records that the FUNC `typeId` starts at byte `insnOff` of ELF section `section`. */
  addFuncInfo(section: string, rec: FuncInfo): this {
    this.btf.addString(section);
    BtfExtBuilder.push(this.funcInfo, section, rec);
    return this;
  }

  /** Records the source position of the instruction at byte `insnOff` of `section`. */
  addLineInfo(section: string, rec: LineInfo): this {
    if (rec.column > 0x3ff || rec.line > 0x3fffff) throw bad(`line ${rec.line} column ${rec.column} out of range (22/10 bits)`);
    this.btf.addString(section);
    this.btf.addString(rec.fileName);
    this.btf.addString(rec.lineText);
    BtfExtBuilder.push(this.lineInfo, section, rec);
    return this;
  }

  /** Records a CO-RE relocation of the instruction at byte `insnOff` of `section`. */
  addCoreRelo(section: string, rec: CoreRelo): this {
    parseAccessString(rec.accessStr);
    this.btf.addString(section);
    this.btf.addString(rec.accessStr);
    BtfExtBuilder.push(this.coreRelos, section, rec);
    return this;
  }

  /** Encodes the header and the three record sections. */
  finish(options: BuildOptions = {}): Uint8Array {
    const le = options.littleEndian ?? true;
    const s = (x: string): number => this.btf.addString(x);
    const fi = this.section(le, this.funcInfo, EXT_MIN_RECORD.funcInfo, (w, r) => w.u32(r.insnOff).u32(r.typeId));
    const li = this.section(le, this.lineInfo, EXT_MIN_RECORD.lineInfo, (w, r) =>
      w.u32(r.insnOff).u32(s(r.fileName)).u32(s(r.lineText)).u32(((r.line << 10) | r.column) >>> 0),
    );
    const cr = this.section(le, this.coreRelos, EXT_MIN_RECORD.coreRelo, (w, r) => w.u32(r.insnOff).u32(r.typeId).u32(s(r.accessStr)).u32(r.kind));
    const w = new ByteWriter(le, BTF_EXT_HEADER_SIZE + fi.length + li.length + cr.length);
    w.u16(BTF_MAGIC).u8(BTF_VERSION).u8(0).u32(BTF_EXT_HEADER_SIZE);
    w.u32(0).u32(fi.length);
    w.u32(fi.length).u32(li.length);
    w.u32(fi.length + li.length).u32(cr.length);
    return w.bytes(fi).bytes(li).bytes(cr).finish();
  }

  private section<T>(le: boolean, map: Map<string, T[]>, recSize: number, write: (w: ByteWriter, r: T) => void): Uint8Array {
    if (map.size === 0) return new Uint8Array(0);
    const w = new ByteWriter(le);
    w.u32(recSize);
    for (const [name, list] of map) {
      w.u32(this.btf.addString(name)).u32(list.length);
      for (const r of list) write(w, r);
    }
    return w.finish();
  }
}
