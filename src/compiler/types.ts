/**
 * The dialect's types as the compiler sees them, and their C layout (natural alignment, as clang
 * lays out the same declarations, so user space decodes values through the emitted BTF).
 */
import type { Span } from './diagnostics.js';

/** Integer type names. */
export type IntName = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';

export interface IntType {
  kind: 'int';
  name: IntName;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
}

/** A struct or union member. */
export interface Field {
  name: string;
  type: Type;
  /** Byte offset in the struct. */
  offset: number;
  /** For kernel structs: the member index path from the struct (through anonymous members), for CO-RE. */
  kernelIndex?: number;
}

/**
 * A struct: declared by an interface (local), or a kernel struct read through CO-RE (`btfId`
 * in vmlinux), or a context layout (tracepoint records, uapi context structs).
 */
export interface StructType {
  kind: 'struct';
  name: string;
  size: number;
  align: number;
  fields: Field[];
  origin: 'local' | 'kernel' | 'context';
  /** Kernel structs: id in the kernel BTF the layout came from; fields are resolved lazily. */
  kernelId?: number;
  /** The C name (kernel and context structs), e.g. 'task_struct'. */
  cName?: string;
  union?: boolean;
  at?: Span;
}

export interface ArrayType {
  kind: 'array';
  elem: Type;
  length: number;
}

/** CharArray<N>: a C string buffer. */
export interface CharsType {
  kind: 'chars';
  length: number;
}

/**
 * Where a pointer points, which decides how it is dereferenced: 'kernel' and 'user' through
 * probe reads, 'btf' with direct loads (PTR_TO_BTF_ID), 'any' (an address of unknown kind,
 * read as kernel memory).
 */
export type PointerSpace = 'kernel' | 'user' | 'btf' | 'any';

/** Ptr<T>: an address held in a 64-bit register. */
export interface PtrType {
  kind: 'ptr';
  pointee: Type;
  space: PointerSpace;
  /**
   * Internal: the pointer addresses memory the program reads with direct loads (its context,
   * or a struct a subprogram received by reference), in this place space.
   */
  direct?: 'ctx' | 'local';
}

export interface BoolType {
  kind: 'bool';
}
export interface VoidType {
  kind: 'void';
}
/** A string literal (printk formats, strEq/strCopy operands). */
export interface StringType {
  kind: 'string';
}
/** An integer literal not yet given a type by its context. */
export interface LiteralType {
  kind: 'literal';
  bigint: boolean;
}
/** Opaque: a type the dialect names but cannot hold (SpinLock). */
export interface OpaqueType {
  kind: 'opaque';
  name: string;
  size: number;
  align: number;
  cName: string;
}

export type Type = IntType | BoolType | VoidType | StructType | ArrayType | CharsType | PtrType | StringType | LiteralType | OpaqueType;

const intType = (name: IntName, size: 1 | 2 | 4 | 8, signed: boolean): IntType => ({ kind: 'int', name, size, signed });

/** The integer types by name. */
export const INT: Record<IntName, IntType> = {
  u8: intType('u8', 1, false),
  u16: intType('u16', 2, false),
  u32: intType('u32', 4, false),
  u64: intType('u64', 8, false),
  i8: intType('i8', 1, true),
  i16: intType('i16', 2, true),
  i32: intType('i32', 4, true),
  i64: intType('i64', 8, true),
};
export const BOOL: BoolType = { kind: 'bool' };
export const VOID: VoidType = { kind: 'void' };
export const STRING: StringType = { kind: 'string' };
export const NUM_LITERAL: LiteralType = { kind: 'literal', bigint: false };
export const BIG_LITERAL: LiteralType = { kind: 'literal', bigint: true };

/** The integer type of a size and signedness. */
export function intOf(size: number, signed: boolean): IntType {
  const bits = size * 8;
  return INT[`${signed ? 'i' : 'u'}${bits}` as IntName] ?? INT.u64;
}

export function isInt(t: Type): t is IntType {
  return t.kind === 'int';
}

/** Scalars live in registers: integers, bools, pointers, literals. */
export function isScalar(t: Type): boolean {
  return t.kind === 'int' || t.kind === 'bool' || t.kind === 'ptr' || t.kind === 'literal';
}

/** Aggregates live in memory: structs, arrays, C strings. */
export function isAggregate(t: Type): t is StructType | ArrayType | CharsType {
  return t.kind === 'struct' || t.kind === 'array' || t.kind === 'chars';
}

/** Whether a scalar is handled with 64-bit operations (u64, i64, pointers, bigint literals). */
export function is64(t: Type): boolean {
  return (t.kind === 'int' && t.size === 8) || t.kind === 'ptr' || (t.kind === 'literal' && t.bigint);
}

/** Whether the TypeScript side sees this type as a bigint. */
export function isBigint(t: Type): boolean {
  return (t.kind === 'int' && t.size === 8) || (t.kind === 'literal' && t.bigint);
}

/** Byte size in memory. */
export function sizeOf(t: Type): number {
  switch (t.kind) {
    case 'int':
      return t.size;
    case 'bool':
      return 1;
    case 'ptr':
      return 8;
    case 'struct':
      return t.size;
    case 'array':
      return sizeOf(t.elem) * t.length;
    case 'chars':
      return t.length;
    case 'opaque':
      return t.size;
    case 'literal':
      return t.bigint ? 8 : 4;
    default:
      return 0;
  }
}

/** Alignment in memory. */
export function alignOf(t: Type): number {
  switch (t.kind) {
    case 'int':
      return t.size;
    case 'ptr':
      return 8;
    case 'struct':
      return t.align;
    case 'array':
      return alignOf(t.elem);
    case 'opaque':
      return t.align;
    case 'literal':
      return t.bigint ? 8 : 4;
    default:
      return 1;
  }
}

/** Rounds `n` up to a multiple of `a`. */
export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Lays out members in order with natural alignment, as a C compiler does. */
export function layoutStruct(name: string, members: Array<{ name: string; type: Type }>, at?: Span): StructType {
  let offset = 0;
  let align = 1;
  const fields: Field[] = [];
  for (const m of members) {
    const a = alignOf(m.type);
    offset = alignUp(offset, a);
    fields.push({ name: m.name, type: m.type, offset });
    offset += sizeOf(m.type);
    align = Math.max(align, a);
  }
  const t: StructType = { kind: 'struct', name, size: alignUp(offset, align), align, fields, origin: 'local' };
  if (at) t.at = at;
  return t;
}

/** The name of a type as the user wrote it, for messages. */
export function typeName(t: Type): string {
  switch (t.kind) {
    case 'int':
      return t.name;
    case 'bool':
      return 'bool';
    case 'void':
      return 'void';
    case 'struct':
      return t.name;
    case 'array':
      return `FixedArray<${typeName(t.elem)}, ${t.length}>`;
    case 'chars':
      return t.length === 16 ? 'Comm' : `CharArray<${t.length}>`;
    case 'ptr':
      return `Ptr<${typeName(t.pointee)}>`;
    case 'string':
      return 'string';
    case 'literal':
      return t.bigint ? 'bigint literal' : 'number literal';
    case 'opaque':
      return t.name;
  }
}

/** Structural equality (structs by identity, or by C name for kernel structs). */
export function sameType(a: Type, b: Type): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'int':
      return a.name === (b as IntType).name;
    case 'struct': {
      const s = b as StructType;
      return a.origin !== 'local' && a.cName !== undefined && a.cName === s.cName;
    }
    case 'array':
      return a.length === (b as ArrayType).length && sameType(a.elem, (b as ArrayType).elem);
    case 'chars':
      return a.length === (b as CharsType).length;
    case 'ptr':
      return sameType(a.pointee, (b as PtrType).pointee) || a.pointee.kind === 'void' || (b as PtrType).pointee.kind === 'void';
    case 'opaque':
      return a.name === (b as OpaqueType).name;
    default:
      return true;
  }
}
