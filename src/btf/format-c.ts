/**
 * The C dump: compilable C declarations as `bpftool btf dump file F format c` prints them
 * (bpftool 7.1 with the libbpf btf_dump.c of Linux 6.1.y). This is an independent TypeScript
 * implementation of the same algorithm, so that output is identical:
 *
 * 1. a type's dependencies are topologically ordered; a dependency reached through a pointer to
 *    a named struct/union/typedef is a "weak" link that a forward declaration satisfies;
 * 2. anonymous structs, unions and enums are emitted inline where they are used; a top-level
 *    anonymous enum (referenced by no type) is emitted on its own;
 * 3. struct members get explicit `type: N;` padding where natural alignment would not put the
 *    next member at its recorded offset, and `__attribute__((packed))` when no natural layout can;
 * 4. duplicate names get a `___N` suffix (struct/union/enum tags and typedef/enumerator
 *    identifiers are separate namespaces);
 * 5. declarations are written inside-out with the usual C declarator syntax (arrays of pointers
 *    to functions returning pointers, ...).
 *
 * Differences from btf_dump.c: malformed BTF (reference cycles through pointers or modifiers,
 * ids out of range) raises a FormatError instead of recursing forever or reading out of bounds.
 */
import { FormatError } from '../errors.js';
import { BtfKind, type BtfEnum, type BtfEnum64, type BtfRef, type BtfStruct, type BtfType } from './kinds.js';
import type { Btf } from './parser.js';
import { alignOf, sizeOf, MAX_NESTING } from './layout.js';
import type { ChunkSink } from './out.js';

/** Options of the C dump. */
export interface CDumpOptions {
  /** Dump only these types and what they need, instead of every type. */
  ids?: readonly number[];
  /** Leave out the `#ifndef __VMLINUX_H__` guard and preserve_access_index pragmas. */
  noPreamble?: boolean;
}

const PREAMBLE =
  '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n' +
  '#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n';
const EPILOGUE = '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n';

/** Streams the C dump of `btf` to `sink`. */
export function writeC(btf: Btf, sink: ChunkSink, options: CDumpOptions = {}): void {
  const d = new CDumper(btf, sink);
  if (!options.noPreamble) d.out(PREAMBLE);
  if (options.ids) for (const id of options.ids) d.dumpType(id);
  else for (let id = 1; id < btf.typeCount; id++) d.dumpType(id);
  if (!options.noPreamble) d.out(EPILOGUE);
  d.flush();
}

/** The C dump of `btf` as a string. */
export function formatC(btf: Btf, options: CDumpOptions = {}): string {
  const parts: string[] = [];
  const decoder = new TextDecoder();
  writeC(btf, (c) => parts.push(decoder.decode(c, { stream: true })), options);
  return parts.join('');
}

/**
 * A C type name for `id` as it would appear in a cast, e.g. `const char *`, `int (*)(void *)`,
 * `struct task_struct[4]`; anonymous types show as `struct (anon)`.
 */
export function cTypeName(btf: Btf, id: number): string {
  const parts: string[] = [];
  const decoder = new TextDecoder();
  const d = new CDumper(btf, (c) => parts.push(decoder.decode(c, { stream: true })), true);
  d.emitTypeDecl(id, '', 0);
  d.flush();
  return parts.join('');
}

const ORDERING = 1;
const ORDERED = 2;
const EMITTING = 1;
const EMITTED = 2;

const TABS = '\t'.repeat(13);
/** Indentation as btf_dump.c's pfx(): at most 13 tabs. */
function pfx(lvl: number): string {
  return lvl >= 13 ? TABS : TABS.slice(0, lvl);
}

/** A view on a shared declaration stack (btf_dump.c's struct id_stack). */
interface DeclStack {
  ids: number[];
  cnt: number;
}

const FLUSH_AT = 1 << 16;
/** Largest padding hole emitted (2 MiB); bigger ones only come from corrupt sizes. */
const MAX_PADDING_BITS = 1 << 24;
/** Bound on declarations emitted by one dump (vmlinux needs about 1 million). */
const MAX_WORK = 50_000_000;

class CDumper {
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private readonly ptrSize: number;
  private emitQueue: number[] = [];
  private parts: string[] = [];
  private partsLen = 0;
  private readonly encoder = new TextEncoder();
  private depth = 0;
  private work = 0;

  constructor(
    private readonly btf: Btf,
    private readonly sink: ChunkSink,
    /** cTypeName() mode: anonymous types by name only, no ___N renaming. */
    private readonly nameOnly = false,
  ) {
    const n = btf.typeCount;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.ptrSize = btf.pointerSize;
    // void is always "ordered" and "emitted" (btf_dump_resize())
    this.orderState[0] = ORDERED;
    this.emitState[0] = EMITTED;
    if (!nameOnly) this.markReferenced();
  }

  out(s: string): void {
    this.parts.push(s);
    this.partsLen += s.length;
    if (this.partsLen > FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.sink(this.encoder.encode(this.parts.join('')));
    this.parts = [];
    this.partsLen = 0;
  }

  private fail(id: number, detail: string): FormatError {
    return new FormatError('BTF', id > 0 && id < this.btf.typeCount ? this.btf.recordOffset(id) : this.btf.typesStart, `type [${id}]: ${detail}`);
  }

  private enter(id: number): void {
    if (++this.depth > MAX_NESTING) throw this.fail(id, `declarations nested deeper than ${MAX_NESTING} (or a reference cycle)`);
  }

  private ref(from: number, id: number): number {
    if (id >= this.btf.typeCount) throw this.fail(from, `refers to type id ${id}, which does not exist`);
    return id;
  }

  private t(id: number): BtfType {
    return this.btf.type(id);
  }

  /** Marks every type referenced by another one (to tell top-level anonymous enums apart). */
  private markReferenced(): void {
    const btf = this.btf;
    const r = this.referenced;
    for (let id = 1; id < btf.typeCount; id++) {
      const o = btf.owner(id);
      const v = o.view;
      const le = o.littleEndian;
      const p = btf.recordOffset(id);
      const info = v.getUint32(p + 4, le);
      const vlen = info & 0xffff;
      const q = p + 12;
      switch ((info >>> 24) & 0x1f) {
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.PTR:
        case BtfKind.TYPEDEF:
        case BtfKind.FUNC:
        case BtfKind.VAR:
        case BtfKind.DECL_TAG:
        case BtfKind.TYPE_TAG:
          r[this.ref(id, v.getUint32(p + 8, le))] = 1;
          break;
        case BtfKind.ARRAY:
          r[this.ref(id, v.getUint32(q, le))] = 1;
          r[this.ref(id, v.getUint32(q + 4, le))] = 1;
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          for (let i = 0; i < vlen; i++) r[this.ref(id, v.getUint32(q + 12 * i + 4, le))] = 1;
          break;
        case BtfKind.FUNC_PROTO:
          for (let i = 0; i < vlen; i++) r[this.ref(id, v.getUint32(q + 8 * i + 4, le))] = 1;
          break;
        case BtfKind.DATASEC:
          for (let i = 0; i < vlen; i++) r[this.ref(id, v.getUint32(q + 12 * i, le))] = 1;
          break;
        default:
          break;
      }
    }
  }

  /** btf_dump__dump_type(): emits `id` and every type it needs that was not emitted yet. */
  dumpType(id: number): void {
    this.btf.checkId(id);
    this.emitQueue = [];
    this.depth = 0;
    this.orderType(id, false);
    for (const q of this.emitQueue) {
      this.depth = 0;
      this.emitType(q, 0);
    }
  }

  /** Topological ordering; returns true for a strong link (a full definition is needed first). */
  private orderType(id: number, throughPtr: boolean): boolean {
    this.ref(0, id);
    if (this.orderState[id] === ORDERED) return true;
    const t = this.t(id);
    if (this.orderState[id] === ORDERING) {
      if ((t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) && throughPtr && t.name !== '') return false;
      throw this.fail(id, 'unsatisfiable type cycle');
    }
    this.enter(id);
    try {
      switch (t.kind) {
        case BtfKind.INT:
        case BtfKind.FLOAT:
          this.orderState[id] = ORDERED;
          return false;
        case BtfKind.PTR: {
          const r = this.orderType(t.type, true);
          this.orderState[id] = ORDERED;
          return r;
        }
        case BtfKind.ARRAY:
          return this.orderType(t.type, false);
        case BtfKind.STRUCT:
        case BtfKind.UNION: {
          if (throughPtr && t.name !== '') return false;
          this.orderState[id] = ORDERING;
          for (const m of t.members) this.orderType(m.type, false);
          if (t.name !== '') this.emitQueue.push(id);
          this.orderState[id] = ORDERED;
          return true;
        }
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
        case BtfKind.FWD:
          if (t.name !== '' || !this.referenced[id]) this.emitQueue.push(id);
          this.orderState[id] = ORDERED;
          return true;
        case BtfKind.TYPEDEF: {
          const strong = this.orderType(t.type, throughPtr);
          if (throughPtr && !strong) return false;
          this.emitQueue.push(id);
          this.orderState[id] = ORDERED;
          return true;
        }
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
          return this.orderType(t.type, throughPtr);
        case BtfKind.FUNC_PROTO: {
          let strong = this.orderType(t.returnType, throughPtr);
          for (const p of t.params) if (this.orderType(p.type, throughPtr)) strong = true;
          return strong;
        }
        default: // FUNC, VAR, DATASEC, DECL_TAG
          this.orderState[id] = ORDERED;
          return false;
      }
    } finally {
      this.depth--;
    }
  }

  private isBlacklisted(id: number): boolean {
    const t = this.t(id);
    return t.name === '__builtin_va_list';
  }

  /** btf_dump_emit_type(): emits the definition of `id` (and forward declarations it needs). */
  private emitType(id: number, contId: number): void {
    if (id === 0) return;
    this.ref(0, id);
    if (this.emitState[id] === EMITTED) return;
    const t = this.t(id);
    const topLevel = contId === 0;
    if (this.emitState[id] === EMITTING) {
      if (this.fwdEmitted[id]) return;
      switch (t.kind) {
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          if (id === contId) return;
          if (t.name === '') return; // anonymous struct/union loop: btf_dump.c warns and goes on
          this.emitStructFwd(id, t);
          this.out(';\n\n');
          this.fwdEmitted[id] = 1;
          break;
        case BtfKind.TYPEDEF:
          if (!this.isBlacklisted(id)) {
            this.emitTypedefDef(id, t, 0);
            this.out(';\n\n');
          }
          this.fwdEmitted[id] = 1;
          break;
        default:
          break;
      }
      return;
    }
    this.enter(id);
    try {
      switch (t.kind) {
        case BtfKind.INT:
          this.emitMissingAliases(id);
          this.emitState[id] = EMITTED;
          break;
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
          if (topLevel) {
            this.emitEnumDef(id, t, 0);
            this.out(';\n\n');
          }
          this.emitState[id] = EMITTED;
          break;
        case BtfKind.PTR:
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
          this.emitType(t.type, contId);
          break;
        case BtfKind.ARRAY:
          this.emitType(t.type, contId);
          break;
        case BtfKind.FWD:
          this.emitFwdDef(id, t);
          this.out(';\n\n');
          this.emitState[id] = EMITTED;
          break;
        case BtfKind.TYPEDEF:
          this.emitState[id] = EMITTING;
          this.emitType(t.type, id);
          if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
            this.emitTypedefDef(id, t, 0);
            this.out(';\n\n');
          }
          this.emitState[id] = EMITTED;
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          this.emitState[id] = EMITTING;
          if (topLevel || t.name === '') {
            const cont = t.name === '' ? contId : id;
            for (const m of t.members) this.emitType(m.type, cont);
          } else if (!this.fwdEmitted[id] && id !== contId) {
            this.emitStructFwd(id, t);
            this.out(';\n\n');
            this.fwdEmitted[id] = 1;
          }
          if (topLevel) {
            this.emitStructDef(id, t, 0);
            this.out(';\n\n');
            this.emitState[id] = EMITTED;
          } else {
            this.emitState[id] = 0;
          }
          break;
        case BtfKind.FUNC_PROTO:
          this.emitType(t.returnType, contId);
          for (const p of t.params) this.emitType(p.type, contId);
          break;
        default:
          break;
      }
    } finally {
      this.depth--;
    }
  }

  private isStructPacked(t: BtfStruct): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = alignOf(this.btf, m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return t.size % maxAlign !== 0;
  }

  /** btf_dump_emit_bit_padding(): explicit `type: N;` fillers for a gap natural alignment leaves. */
  private emitBitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    if (curOff >= nextOff) return;
    if (nextOff - curOff > MAX_PADDING_BITS) {
      throw new FormatError('BTF', this.btf.typesStart, `a struct has a ${nextOff - curOff}-bit hole between members, more than ${MAX_PADDING_BITS} bits`);
    }
    const pads: [string, number][] = [['long', this.ptrSize * 8], ['int', 32], ['short', 16], ['char', 8]];
    let newOff = 0;
    let padBits = 0;
    let padType = '';
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, padBits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      if (inBitfield || (newOff === nextOff && roundup(curOff, nextAlign * 8) !== newOff) || (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        this.out(`\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        this.out(`\n${pfx(lvl)}${padType}: ${padBits};`);
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        padType = pads[i]![0];
        padBits = pads[i]![1];
        if (padBits < bits) continue;
        this.out(`\n${pfx(lvl)}${padType}: ${bits};`);
        curOff += bits;
        break;
      }
    }
  }

  private emitStructFwd(id: number, t: BtfStruct): void {
    const kw = t.kind === BtfKind.STRUCT ? 'struct' : 'union';
    if (this.nameOnly) this.out(t.name === '' ? `${kw} (anon)` : `${kw} ${t.name}`);
    else this.out(`${kw}${t.name !== '' ? ' ' : ''}${this.typeName(id)}`);
  }

  private emitStructDef(id: number, t: BtfStruct, lvl: number): void {
    const isStruct = t.kind === BtfKind.STRUCT;
    const align = alignOf(this.btf, id);
    const packed = isStruct ? this.isStructPacked(t) : false;
    this.out(`${isStruct ? 'struct' : 'union'}${t.name !== '' ? ' ' : ''}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : alignOf(this.btf, m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      this.emitBitPadding(off, m.bitOffset, mAlign, inBitfield, lvl + 1);
      this.out(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (m.bitfieldSize) {
        this.out(`: ${m.bitfieldSize}`);
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        off = m.bitOffset + (sizeOf(this.btf, m.type) ?? 0) * 8;
        prevBitfield = false;
      }
      this.out(';');
    }
    if (isStruct) this.emitBitPadding(off, (t.size * 8) | 0, align, false, lvl + 1); // int, as in C
    if (t.members.length || t.size) this.out(`\n${pfx(lvl)}}`);
    else this.out('}');
    if (packed) this.out(' __attribute__((packed))');
  }

  private emitMissingAliases(id: number): void {
    const name = this.typeName(id);
    const alias = MISSING_BASE_TYPES.get(name);
    if (alias) this.out(`typedef ${alias} ${name};\n\n`);
  }

  private emitEnumFwd(id: number, t: BtfEnum | BtfEnum64): void {
    if (this.nameOnly) this.out(t.name === '' ? 'enum (anon)' : `enum ${t.name}`);
    else this.out(`enum ${this.typeName(id)}`);
  }

  private emitEnumDef(id: number, t: BtfEnum | BtfEnum64, lvl: number): void {
    this.out(`enum${t.name !== '' ? ' ' : ''}${this.typeName(id)}`);
    if (t.values.length === 0) return;
    this.out(' {');
    const suffix = t.kind === BtfKind.ENUM64 ? (t.signed ? 'LL' : 'ULL') : '';
    for (const v of t.values) {
      const dups = this.nameDups(this.identNames, v.name);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      this.out(`\n${pfx(lvl + 1)}${name} = ${v.value}${suffix},`);
    }
    this.out(`\n${pfx(lvl)}}`);
  }

  private emitFwdDef(id: number, t: BtfType & { kind: typeof BtfKind.FWD }): void {
    const name = this.nameOnly ? t.name : this.typeName(id);
    this.out(t.union ? `union ${name}` : `struct ${name}`);
  }

  private emitTypedefDef(id: number, t: BtfRef, lvl: number): void {
    const name = this.identName(id);
    if (t.type === 0 && name === '__gnuc_va_list') {
      this.out('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.out('typedef ');
    this.emitTypeDecl(t.type, name, lvl);
  }

  /** btf_dump_emit_type_decl(): a declaration of `fname` with type `id` in C declarator syntax. */
  emitTypeDecl(id: number, fname: string, lvl: number): void {
    if (++this.work > MAX_WORK) throw this.fail(id, `declarations expand to more than ${MAX_WORK} parts (anonymous types nested exponentially)`);
    const ids: number[] = [];
    for (let guard = 0; ; guard++) {
      if (guard > 4096) throw this.fail(id, 'declaration chain is cyclic');
      this.ref(0, id);
      ids.push(id);
      if (id === 0) break;
      const t = this.t(id);
      let next = -1;
      switch (t.kind) {
        case BtfKind.PTR:
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
        case BtfKind.ARRAY:
          next = t.type;
          break;
        case BtfKind.FUNC_PROTO:
          next = t.returnType;
          break;
        default:
          break;
      }
      if (next < 0) break;
      id = next;
    }
    this.enter(id);
    try {
      this.emitTypeChain({ ids, cnt: ids.length }, fname, lvl);
    } finally {
      this.depth--;
    }
  }

  private emitMods(decls: DeclStack): void {
    while (decls.cnt) {
      const id = decls.ids[decls.cnt - 1]!;
      const kind = id === 0 ? 0 : this.btf.kindOf(id);
      if (kind === BtfKind.VOLATILE) this.out('volatile ');
      else if (kind === BtfKind.CONST) this.out('const ');
      else if (kind === BtfKind.RESTRICT) this.out('restrict ');
      else return;
      decls.cnt--;
    }
  }

  private dropMods(decls: DeclStack): void {
    while (decls.cnt) {
      const id = decls.ids[decls.cnt - 1]!;
      const kind = id === 0 ? 0 : this.btf.kindOf(id);
      if (kind !== BtfKind.VOLATILE && kind !== BtfKind.CONST && kind !== BtfKind.RESTRICT && kind !== BtfKind.TYPE_TAG) return;
      decls.cnt--;
    }
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.out(name !== '' && !lastWasPtr ? ` ${name}` : name);
  }

  private emitTypeChain(decls: DeclStack, fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt]!;
      if (id === 0) {
        this.emitMods(decls);
        this.out('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case BtfKind.INT:
        case BtfKind.FLOAT:
          this.emitMods(decls);
          this.out(t.name);
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION:
          this.emitMods(decls);
          if (t.name === '' && !this.nameOnly) this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
          this.emitMods(decls);
          if (t.name === '' && !this.nameOnly) this.emitEnumDef(id, t, lvl);
          else this.emitEnumFwd(id, t);
          break;
        case BtfKind.FWD:
          this.emitMods(decls);
          this.emitFwdDef(id, t);
          break;
        case BtfKind.TYPEDEF:
          this.emitMods(decls);
          this.out(this.nameOnly ? t.name : this.identName(id));
          break;
        case BtfKind.PTR:
          this.out(lastWasPtr ? '*' : ' *');
          break;
        case BtfKind.VOLATILE:
          this.out(' volatile');
          break;
        case BtfKind.CONST:
          this.out(' const');
          break;
        case BtfKind.RESTRICT:
          this.out(' restrict');
          break;
        case BtfKind.TYPE_TAG:
          this.emitMods(decls);
          this.out(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case BtfKind.ARRAY: {
          this.dropMods(decls);
          if (decls.cnt === 0) {
            this.emitName(fname, lastWasPtr);
            this.out(`[${t.nelems}]`);
            return;
          }
          const nextId = decls.ids[decls.cnt - 1]!;
          const multidim = nextId !== 0 && this.btf.kindOf(nextId) === BtfKind.ARRAY;
          if (fname !== '' && !lastWasPtr) this.out(' ');
          if (!multidim) this.out('(');
          this.emitTypeChain(decls, fname, lvl);
          if (!multidim) this.out(')');
          this.out(`[${t.nelems}]`);
          return;
        }
        case BtfKind.FUNC_PROTO: {
          this.dropMods(decls);
          if (decls.cnt) {
            this.out(' (');
            this.emitTypeChain(decls, fname, lvl);
            this.out(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.out('(');
          const ps = t.params;
          // no parameters, or clang's single void parameter: `(void)` (Linux 6.1.y btf_dump.c has
          // libbpf commit "Fix no-args func prototype BTF dumping syntax")
          if (ps.length === 0 || (ps.length === 1 && ps[0]!.type === 0)) {
            this.out('void)');
            return;
          }
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) this.out(', ');
            if (i === ps.length - 1 && ps[i]!.type === 0) {
              this.out('...');
              break;
            }
            this.emitTypeDecl(ps[i]!.type, ps[i]!.name, lvl);
          }
          this.out(')');
          return;
        }
        default:
          // FUNC, VAR, DATASEC, DECL_TAG cannot appear in a declaration; btf_dump.c warns and stops
          return;
      }
      lastWasPtr = t.kind === BtfKind.PTR;
    }
    this.emitName(fname, lastWasPtr);
  }

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.name === '') return '';
    if (this.nameOnly) return t.name;
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    this.nameResolved[id] = 1;
    if (t.kind === BtfKind.FWD || (t.kind === BtfKind.ENUM && t.values.length === 0)) return t.name;
    const dups = this.nameDups(map, t.name);
    if (dups > 1) {
      const renamed = `${t.name}___${dups}`;
      this.cachedNames.set(id, renamed);
      return renamed;
    }
    return t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }
}

/** btf_dump.c's missing_base_types: GCC's internal ARM SIMD polynomial types. */
const MISSING_BASE_TYPES = new Map([
  ['__Poly8_t', 'unsigned char'],
  ['__Poly16_t', 'unsigned short'],
  ['__Poly64_t', 'unsigned long long'],
  ['__Poly128_t', 'unsigned __int128'],
]);

function roundup(x: number, y: number): number {
  return Math.ceil(x / y) * y;
}
