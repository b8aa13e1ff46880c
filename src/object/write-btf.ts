/**
 * The BTF an object writer emits: every type of the spec's BTF at its original id (so the ids the
 * spec holds stay valid) with its string table reproduced first (so string offsets stay valid
 * too), then the types the writer adds. Types are held as plain objects until `finish`, so
 * DATASECs and VARs can be rewritten in place.
 */
import { BtfBuilder, BtfExtBuilder } from '../btf/builder.js';
import { BtfIntEncoding, BtfKind, type BtfFuncProto, type BtfType, type BtfVarSecinfo } from '../btf/kinds.js';
import { sizeOf } from '../btf/layout.js';
import type { Btf } from '../btf/parser.js';
import type { CoreRelo, FuncInfo, LineInfo } from '../btf/ext.js';
import { ObjectWriteError } from './write-error.js';

/** .BTF.ext records of one ELF section, offsets in bytes within the section. */
export interface SectionExt {
  section: string;
  funcInfos: FuncInfo[];
  lineInfos: LineInfo[];
  coreRelos: CoreRelo[];
}

/** A mutable BTF type list; id n is `types[n - 1]`. */
export class TypeTable {
  private readonly types: BtfType[] = [];
  private readonly seed: string[] = [];
  private readonly cache = new Map<string, number>();
  /** DATASECs written by putDatasec. */
  private readonly written = new Set<number>();
  /** Ids below this came from the spec's BTF. */
  readonly sourceCount: number;

  constructor(readonly source: Btf | undefined) {
    if (source) {
      if (source.base) throw new ObjectWriteError('unsupported', '.BTF', 'spec.btf', 'split BTF (with a base) cannot be written into an object');
      for (let id = 1; id < source.typeCount; id++) this.types.push(structuredClone(source.type(id)));
      const bytes = source.bytes.subarray(source.strStart, source.strEnd);
      const decoder = new TextDecoder();
      for (let p = 0; p < bytes.length; ) {
        const nul = bytes.indexOf(0, p);
        const end = nul < 0 ? bytes.length : nul;
        this.seed.push(decoder.decode(bytes.subarray(p, end)));
        p = end + 1;
      }
    }
    this.sourceCount = this.types.length + 1;
  }

  /** Number of ids including void: valid ids are 0 .. count - 1. */
  get count(): number {
    return this.types.length + 1;
  }

  /** The type of `id` (not void). */
  get(id: number): BtfType {
    const t = this.types[id - 1];
    if (!t) throw new ObjectWriteError('missing-btf', `[${id}]`, 'BTF', `type id ${id} is not in the BTF (ids 1..${this.count - 1})`);
    return t;
  }

  /** Replaces the type of `id`, keeping the id. */
  set(id: number, t: BtfType): void {
    this.get(id);
    this.types[id - 1] = t;
  }

  add(t: BtfType): number {
    this.types.push(t);
    return this.types.length;
  }

  /** The first id whose type satisfies `pred`. */
  find(pred: (t: BtfType, id: number) => boolean): number | undefined {
    const i = this.types.findIndex((t, i) => pred(t, i + 1));
    return i < 0 ? undefined : i + 1;
  }

  /** Size of a type of the spec's BTF (as libbpf's btf__resolve_size), undefined if it has none. */
  sourceSize(id: number): number | undefined {
    if (!this.source || id <= 0 || id >= this.sourceCount) return undefined;
    try {
      return sizeOf(this.source, id);
    } catch {
      return undefined; // cyclic or malformed: no size
    }
  }

  /** Checks that `id` names a type of this table (0, void, only when `allowVoid`). */
  check(id: number, allowVoid: boolean, subject: string, where: string): void {
    if (!Number.isInteger(id) || id < (allowVoid ? 0 : 1) || id >= this.count) {
      throw new ObjectWriteError('missing-btf', subject, where, `type id ${id} is not in the spec's BTF (ids 1..${this.count - 1})`);
    }
  }

  private cached(key: string, make: () => BtfType): number {
    let id = this.cache.get(key);
    if (id === undefined) {
      id = this.add(make());
      this.cache.set(key, id);
    }
    return id;
  }

  private int(name: string, size: number, encoding: number): number {
    const found = this.find((t) => t.kind === BtfKind.INT && t.name === name && t.size === size && t.encoding === encoding && t.bits === size * 8 && t.bitsOffset === 0);
    return found ?? this.cached(`int:${name}`, () => ({ kind: BtfKind.INT, name, size, encoding, bitsOffset: 0, bits: size * 8 }));
  }

  /** `int`, as clang describes it. */
  intType(): number {
    return this.int('int', 4, BtfIntEncoding.SIGNED);
  }

  /** `unsigned int`. */
  uintType(): number {
    return this.int('unsigned int', 4, BtfIntEncoding.NONE);
  }

  /** `char` (clang's element type of `char LICENSE[]`). */
  charType(): number {
    return this.int('char', 1, BtfIntEncoding.SIGNED);
  }

  /** `unsigned char`, the element of the byte arrays that stand for untyped variables. */
  byteType(): number {
    return this.int('unsigned char', 1, BtfIntEncoding.NONE);
  }

  /** Clang's index type of arrays. */
  arraySizeType(): number {
    return this.int('__ARRAY_SIZE_TYPE__', 4, BtfIntEncoding.NONE);
  }

  /** An anonymous `T *`. */
  pointer(to: number): number {
    return this.cached(`ptr:${to}`, () => ({ kind: BtfKind.PTR, name: '', type: to }));
  }

  /** `T [n]`. */
  array(elem: number, nelems: number): number {
    const index = this.arraySizeType();
    return this.cached(`array:${elem}:${nelems}`, () => ({ kind: BtfKind.ARRAY, name: '', type: elem, indexType: index, nelems }));
  }

  /** `CONST T`. */
  constOf(to: number): number {
    return this.cached(`const:${to}`, () => ({ kind: BtfKind.CONST, name: '', type: to }));
  }

  /** A FUNC_PROTO returning int, with unnamed-or-named parameters. */
  proto(params: BtfFuncProto['params']): number {
    const key = `proto:${params.map((p) => `${p.name}=${p.type}`).join(',')}`;
    const ret = this.intType();
    return this.cached(key, () => ({ kind: BtfKind.FUNC_PROTO, name: '', returnType: ret, params }));
  }

  /** The VAR named `name` among the variables of the spec's DATASEC `section`, if any. */
  datasecVar(section: string, name: string): number | undefined {
    for (const t of this.types) {
      if (t.kind !== BtfKind.DATASEC || t.name !== section) continue;
      for (const v of t.vars) {
        const vt = v.type > 0 && v.type < this.count ? this.get(v.type) : undefined;
        if (vt && (vt.kind === BtfKind.VAR || vt.kind === BtfKind.FUNC) && vt.name === name) return v.type;
      }
    }
    return undefined;
  }

  /** Writes DATASEC `name`, in place of the one of that name if there is one; returns its id. */
  putDatasec(name: string, size: number, vars: BtfVarSecinfo[]): number {
    const t: BtfType = { kind: BtfKind.DATASEC, name, size, vars };
    let id = this.find((x, i) => x.kind === BtfKind.DATASEC && x.name === name && !this.written.has(i));
    if (id === undefined) id = this.add(t);
    else this.set(id, t);
    this.written.add(id);
    return id;
  }

  /**
   * Turns the DATASECs putDatasec did not write (sections the object does not have) into anonymous `void *` types: libbpf
   * would look for their sections and symbols, the kernel rejects empty ones, and removing them
   * would renumber every later type.
   */
  retireDatasecs(): void {
    this.types.forEach((t, i) => {
      if (t.kind === BtfKind.DATASEC && !this.written.has(i + 1)) this.types[i] = { kind: BtfKind.PTR, name: '', type: 0 };
    });
  }

  /** Encodes .BTF and .BTF.ext (strings of both in .BTF, the spec's string offsets kept). */
  finish(littleEndian: boolean, ext: readonly SectionExt[]): { btf: Uint8Array; ext: Uint8Array | undefined } {
    const builder = new BtfBuilder();
    for (const s of this.seed) builder.addString(s);
    builder.addAll(this.types);
    const hasExt = ext.some((e) => e.funcInfos.length + e.lineInfos.length + e.coreRelos.length > 0);
    const extBuilder = new BtfExtBuilder(builder);
    for (const e of ext) {
      for (const r of e.funcInfos) extBuilder.addFuncInfo(e.section, r);
      for (const r of e.lineInfos) extBuilder.addLineInfo(e.section, r);
      for (const r of e.coreRelos) extBuilder.addCoreRelo(e.section, r);
    }
    const extBytes = hasExt ? extBuilder.finish({ littleEndian }) : undefined;
    return { btf: builder.finish({ littleEndian }), ext: extBytes };
  }
}
