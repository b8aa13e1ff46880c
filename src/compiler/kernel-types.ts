/**
 * Kernel types for the compiler, from vmlinux BTF (/sys/kernel/btf/vmlinux, or a file given in
 * the options): kernel structs read through CO-RE, the uapi context structs (xdp_md,
 * __sk_buff, ...), tp_btf/fentry/LSM argument lists. Only what a program names is decoded.
 */
import { existsSync } from 'node:fs';
import { BtfKind, type BtfType } from '../btf/kinds.js';
import { findMember, resolveType } from '../btf/layout.js';
import type { Btf } from '../btf/parser.js';
import { kernelBtfBytes, kernelBtfFile } from './kernel-btf-cache.js';
import { fail, type Span } from './diagnostics.js';
import { BOOL, INT, intOf, VOID, type Field, type StructType, type Type } from './types.js';

/** Where the running kernel publishes its BTF. */
export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** A member of a kernel struct as the compiler uses it. */
export interface KernelMember {
  name: string;
  type: Type;
  /** Byte offset from the start of the struct (through anonymous members). */
  offset: number;
  bitfield: boolean;
}

/** Lazily decoded kernel types. */
export class KernelTypes {
  private btfCache: Btf | undefined;
  private readonly structs = new Map<number, StructType>();

  constructor(private readonly path: string | Uint8Array | undefined) {}

  /** Whether kernel BTF can be had (without failing). */
  available(): boolean {
    return this.btfCache !== undefined || this.path instanceof Uint8Array || existsSync(typeof this.path === 'string' ? this.path : VMLINUX_BTF);
  }

  /** The kernel BTF (parsed once per process: kernel-btf-cache.ts); a Problem at `at` when there is none. */
  btf(at: Span | undefined): Btf {
    if (this.btfCache) return this.btfCache;
    const path = this.path ?? VMLINUX_BTF;
    if (path instanceof Uint8Array) return (this.btfCache = kernelBtfBytes(path));
    const btf = kernelBtfFile(path);
    if (!btf) fail(at, `kernel types need the kernel's BTF, and ${path} does not exist`, 'compile on a kernel with CONFIG_DEBUG_INFO_BTF (5.4+), or pass the BTF file: compile(src, { kernelBtf: "vmlinux.btf" }) / tsbpf build --btf FILE');
    return (this.btfCache = btf);
  }

  /** The kernel struct (or union) named `cName`, or undefined. */
  structByName(cName: string, at: Span | undefined): StructType | undefined {
    const btf = this.btf(at);
    const found = btf.typeByName(cName, BtfKind.STRUCT) ?? btf.typeByName(cName, BtfKind.UNION);
    if (!found) return undefined;
    return this.struct(found.id, at);
  }

  /** The struct for BTF id `id` (fields resolved on demand by `member`). */
  struct(id: number, at: Span | undefined): StructType {
    let s = this.structs.get(id);
    if (s) return s;
    const btf = this.btf(at);
    const t = btf.type(id) as Extract<BtfType, { kind: 4 | 5 }>;
    s = { kind: 'struct', name: t.name || '(anonymous)', cName: t.name, size: t.size, align: 8, fields: [], origin: 'kernel', kernelId: id, union: t.kind === BtfKind.UNION };
    this.structs.set(id, s);
    return s;
  }

  /** Member `name` of kernel struct `s` (found through anonymous members), or undefined. */
  member(s: StructType, name: string, at: Span | undefined): KernelMember | undefined {
    const btf = this.btf(at);
    const loc = findMember(btf, s.kernelId!, name);
    if (!loc) return undefined;
    return { name, type: this.toType(loc.member.type, at), offset: loc.bitOffset / 8, bitfield: loc.member.bitfieldSize !== 0 || loc.bitOffset % 8 !== 0 };
  }

  /** Names of the members of `s` (for "did you mean" hints). */
  memberNames(s: StructType, at: Span | undefined): string[] {
    const t = this.btf(at).type(s.kernelId!);
    return t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION ? t.members.map((m) => m.name).filter((n) => n !== '') : [];
  }

  /** A context struct (uapi: fields read with direct loads at their offsets) with all members. */
  contextStruct(cName: string, at: Span | undefined): StructType {
    const btf = this.btf(at);
    const found = btf.typeByName(cName, BtfKind.STRUCT);
    if (!found || found.type.kind !== BtfKind.STRUCT) fail(at, `the kernel's BTF has no struct ${cName}`, 'this program type needs a kernel that defines its context struct');
    const fields: Field[] = [];
    const walk = (id: number, base: number): void => {
      const t = btf.type(resolveType(btf, id));
      if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return;
      for (const m of t.members) {
        if (m.bitfieldSize !== 0) continue;
        if (m.name === '') walk(m.type, base + m.bitOffset / 8);
        else fields.push({ name: m.name, type: this.toType(m.type, at, true), offset: base + m.bitOffset / 8 });
      }
    };
    walk(found.id, 0);
    return { kind: 'struct', name: cName, cName, size: (found.type as { size: number }).size, align: 8, fields, origin: 'context' };
  }

  /** Converts a kernel BTF type to a dialect type (`ctxPointers`: pointers in uapi structs are u64 fields). */
  toType(id: number, at: Span | undefined, ctxPointers = false): Type {
    const btf = this.btf(at);
    const rid = resolveType(btf, id);
    if (rid === 0) return VOID;
    const t = btf.type(rid);
    switch (t.kind) {
      case BtfKind.INT:
        if (t.encoding & 4) return BOOL;
        return intOf(Math.min(8, t.size), (t.encoding & 1) !== 0 || (t.size === 1 && (t.encoding & 2) !== 0 && false));
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return intOf(t.size, t.signed);
      case BtfKind.PTR: {
        if (ctxPointers) return INT.u64;
        const target = resolveType(btf, t.type);
        const tt = target === 0 ? undefined : btf.type(target);
        if (tt && (tt.kind === BtfKind.STRUCT || tt.kind === BtfKind.UNION)) return { kind: 'ptr', pointee: this.struct(target, at), space: 'kernel' };
        if (tt && tt.kind === BtfKind.FWD) {
          const full = btf.typeByName(tt.name, tt.union ? BtfKind.UNION : BtfKind.STRUCT);
          if (full) return { kind: 'ptr', pointee: this.struct(full.id, at), space: 'kernel' };
        }
        if (tt && (tt.kind === BtfKind.INT || tt.kind === BtfKind.ENUM || tt.kind === BtfKind.PTR)) return { kind: 'ptr', pointee: this.toType(target, at), space: 'kernel' };
        return { kind: 'ptr', pointee: VOID, space: 'kernel' };
      }
      case BtfKind.ARRAY: {
        const elem = resolveType(btf, t.type);
        const et = btf.type(elem);
        if (et.kind === BtfKind.INT && et.size === 1 && (et.encoding & 2 || et.name === 'char')) return { kind: 'chars', length: t.nelems };
        return { kind: 'array', elem: this.toType(elem, at, ctxPointers), length: t.nelems };
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        return this.struct(rid, at);
      case BtfKind.FUNC_PROTO:
        return INT.u64;
      default:
        return INT.u64;
    }
  }

  /**
   * The parameters of a kernel function's prototype: FUNC `name` (fentry, fexit, LSM's
   * bpf_lsm_<hook>) or the typedef `btf_trace_<name>` (tp_btf, whose first parameter is the
   * tracepoint's data pointer and is dropped).
   */
  functionParams(kind: 'func' | 'tracepoint', name: string, at: Span | undefined): { params: Array<{ name: string; type: Type }>; ret: Type } | undefined {
    const btf = this.btf(at);
    let protoId: number;
    if (kind === 'func') {
      const f = btf.typeByName(name, BtfKind.FUNC);
      if (!f || f.type.kind !== BtfKind.FUNC) return undefined;
      protoId = f.type.type;
    } else {
      const td = btf.typeByName(`btf_trace_${name}`, BtfKind.TYPEDEF);
      if (!td || td.type.kind !== BtfKind.TYPEDEF) return undefined;
      const ptr = btf.type(resolveType(btf, td.type.type));
      if (ptr.kind !== BtfKind.PTR) return undefined;
      protoId = ptr.type;
    }
    const proto = btf.type(protoId);
    if (proto.kind !== BtfKind.FUNC_PROTO) return undefined;
    const params = proto.params.slice(kind === 'tracepoint' ? 1 : 0).map((p, i) => {
      const ty = this.toType(p.type, at);
      return { name: p.name || `arg${i}`, type: ty.kind === 'ptr' ? { ...ty, space: 'btf' as const } : ty };
    });
    return { params, ret: this.toType(proto.returnType, at) };
  }
}
