/**
 * Type layout helpers the loader and compiler need: skipping typedefs and qualifiers, size and
 * alignment (as libbpf's btf__resolve_size() and btf__align_of() compute them), and member lookup
 * by name through anonymous nested structs and unions. Every walk is bounded, so malformed BTF
 * with reference cycles ends in a FormatError instead of a hang or a stack overflow.
 */
import { FormatError } from '../errors.js';
import { BtfIntEncoding, BtfKind, type BtfMember } from './kinds.js';
import type { Btf } from './parser.js';

/** Longest typedef/qualifier/array chain followed before the BTF is declared cyclic. */
export const MAX_CHAIN = 64;
/** Deepest nesting of anonymous members or struct layouts walked. */
export const MAX_NESTING = 256;

function tooDeep(btf: Btf, id: number, what: string): FormatError {
  return new FormatError('BTF', id === 0 ? btf.typesStart : btf.recordOffset(id), `type [${id}]: ${what} is cyclic or nested deeper than ${MAX_CHAIN}`);
}

/**
 * Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG from `id` and returns the first other
 * type id (0 for void).
 */
export function resolveType(btf: Btf, id: number): number {
  const start = id;
  for (let i = 0; i <= MAX_CHAIN; i++) {
    btf.checkId(id);
    if (id === 0) return 0;
    const k = btf.kindOf(id);
    if (k !== BtfKind.TYPEDEF && k !== BtfKind.CONST && k !== BtfKind.VOLATILE && k !== BtfKind.RESTRICT && k !== BtfKind.TYPE_TAG) return id;
    id = btf.sizeOrType(id);
  }
  throw tooDeep(btf, start, 'typedef/qualifier chain');
}

/**
 * Whether `id` (typedefs and qualifiers followed) is a C `char`: a one-byte INT named 'char' or
 * with the CHAR encoding, as bpftool decides that an array is a string. `signed char` and
 * `unsigned char` are small integers. The BTF value codec decodes `char[N]` as a string and
 * the TypeScript formatter types it so; both ask here.
 */
export function isCharType(btf: Btf, id: number): boolean {
  const rid = resolveType(btf, id);
  if (rid === 0) return false;
  const t = btf.type(rid);
  return t.kind === BtfKind.INT && t.size === 1 && (t.name === 'char' || (t.encoding & BtfIntEncoding.CHAR) !== 0);
}

/** Follows only CONST, VOLATILE, RESTRICT and TYPE_TAG (keeps typedefs). */
export function skipModifiers(btf: Btf, id: number): number {
  const start = id;
  for (let i = 0; i <= MAX_CHAIN; i++) {
    btf.checkId(id);
    if (id === 0) return 0;
    const k = btf.kindOf(id);
    if (k !== BtfKind.CONST && k !== BtfKind.VOLATILE && k !== BtfKind.RESTRICT && k !== BtfKind.TYPE_TAG) return id;
    id = btf.sizeOrType(id);
  }
  throw tooDeep(btf, start, 'qualifier chain');
}

/**
 * Size in bytes of a value of type `id`, as libbpf's btf__resolve_size(): arrays multiply,
 * pointers take the BTF's pointer size, VAR and DECL_TAG are followed. Undefined for types without
 * a size (void, FWD, FUNC, FUNC_PROTO) and for sizes over 4 GiB.
 */
export function sizeOf(btf: Btf, id: number): number | undefined {
  const start = id;
  let nelems = 1;
  for (let i = 0; i <= MAX_CHAIN; i++) {
    btf.checkId(id);
    if (id === 0) return undefined;
    const k = btf.kindOf(id);
    switch (k) {
      case BtfKind.INT:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.DATASEC:
      case BtfKind.FLOAT: {
        const size = nelems * btf.sizeOrType(id);
        return size > 0xffffffff ? undefined : size;
      }
      case BtfKind.PTR:
        return nelems * btf.pointerSize;
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.VAR:
      case BtfKind.DECL_TAG:
      case BtfKind.TYPE_TAG:
        id = btf.sizeOrType(id);
        break;
      case BtfKind.ARRAY: {
        const a = btf.type(id);
        if (a.kind !== BtfKind.ARRAY) return undefined;
        nelems *= a.nelems;
        if (nelems > 0xffffffff) return undefined;
        id = a.type;
        break;
      }
      default:
        return undefined;
    }
  }
  throw tooDeep(btf, start, 'size chain');
}

/**
 * Alignment in bytes of type `id`, as libbpf's btf__align_of(): scalars align to their size
 * (capped at the pointer size), structs to their most aligned member, or 1 when their layout shows
 * they are packed. 0 for types without an alignment (void, FWD, FUNC_PROTO, ...).
 */
export function alignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > MAX_NESTING) throw tooDeep(btf, id, 'alignment walk');
  for (let i = 0; i <= MAX_CHAIN; i++) {
    btf.checkId(id);
    if (id === 0) return 0;
    const k = btf.kindOf(id);
    switch (k) {
      case BtfKind.INT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FLOAT:
        return Math.min(btf.pointerSize, btf.sizeOrType(id));
      case BtfKind.PTR:
        return btf.pointerSize;
      case BtfKind.TYPEDEF:
      case BtfKind.VOLATILE:
      case BtfKind.CONST:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
        id = btf.sizeOrType(id);
        break;
      case BtfKind.ARRAY: {
        const a = btf.type(id);
        id = a.kind === BtfKind.ARRAY ? a.type : 0;
        break;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const t = btf.type(id);
        if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return 0;
        let max = 1;
        for (const m of t.members) {
          const a = alignOf(btf, m.type, depth + 1);
          if (a <= 0) return a;
          max = Math.max(max, a);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        return 0;
    }
  }
  throw tooDeep(btf, id, 'alignment chain');
}

/** A member found by findMember(). */
export interface MemberLocation {
  /** The member itself. */
  member: BtfMember;
  /** The struct/union type id that directly contains it (an anonymous one when nested). */
  parent: number;
  /** Offset in bits from the start of the outer type, summed over anonymous parents. */
  bitOffset: number;
  /** Member indices from the outer type down: the CO-RE access path without the leading 0. */
  path: number[];
}

/**
 * Finds member `name` of the struct or union `id` (typedefs and qualifiers are skipped),
 * descending into anonymous struct/union members as C does. Undefined if there is none.
 */
export function findMember(btf: Btf, id: number, name: string): MemberLocation | undefined {
  return findIn(btf, resolveType(btf, id), name, 0, [], 0);
}

function findIn(btf: Btf, id: number, name: string, base: number, path: number[], depth: number): MemberLocation | undefined {
  if (depth > MAX_NESTING) throw tooDeep(btf, id, 'anonymous member nesting');
  if (id === 0) return undefined;
  const t = btf.type(id);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return undefined;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (m.name === name) return { member: m, parent: id, bitOffset: base + m.bitOffset, path: [...path, i] };
  }
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (m.name !== '') continue;
    const found = findIn(btf, resolveType(btf, m.type), name, base + m.bitOffset, [...path, i], depth + 1);
    if (found) return found;
  }
  return undefined;
}
