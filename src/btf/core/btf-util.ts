/**
 * Small BTF predicates CO-RE shares, named after their libbpf counterparts (btf.h and
 * relo_core.c) so the ported rules read the same.
 */
import { BtfKind, type BtfMember, type BtfType } from '../kinds.js';
import { resolveType, sizeOf } from '../layout.js';
import type { Btf } from '../parser.js';
import { fail } from './errors.js';

/** BPF_CORE_SPEC_MAX_LEN: the longest access path libbpf follows. */
export const CORE_SPEC_MAX_LEN = 64;

/** btf_is_composite(): STRUCT or UNION. */
export function isComposite(kind: number): boolean {
  return kind === BtfKind.STRUCT || kind === BtfKind.UNION;
}

/** btf_is_any_enum(): ENUM or ENUM64. */
export function isAnyEnum(kind: number): boolean {
  return kind === BtfKind.ENUM || kind === BtfKind.ENUM64;
}

/** btf_kind_core_compat(): same kind, or both enums of either width. */
export function kindCoreCompat(a: number, b: number): boolean {
  return a === b || (isAnyEnum(a) && isAnyEnum(b));
}

/** skip_mods_and_typedefs(): follows typedefs and qualifiers to the first other type. */
export function skip(btf: Btf, id: number): number {
  return resolveType(btf, id);
}

/** The decoded type, or undefined for void (id 0). */
export function typeOrVoid(btf: Btf, id: number): BtfType | undefined {
  return id === 0 ? undefined : btf.type(id);
}

/** Members of a struct/union id (already resolved); throws for other kinds. */
export function membersOf(btf: Btf, id: number): BtfMember[] {
  const t = btf.type(id);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) fail(`type [${id}] is not a struct or union`);
  return t.members;
}

/** Number of members/enumerators/params (btf_vlen()). */
export function vlenOf(btf: Btf, id: number): number {
  return btf.info(id) & 0xffff;
}

/** btf__resolve_size(), failing like libbpf's -EINVAL for types without a size. */
export function sizeOrFail(btf: Btf, id: number, what: string): number {
  const size = sizeOf(btf, id);
  if (size === undefined) fail(`cannot determine the size of ${what} [${id}] ${describeType(btf, id)}`);
  return size;
}

/** 'struct task_struct', 'typedef pid_t', 'enum <anon>', 'void'. */
export function describeType(btf: Btf, id: number): string {
  if (id === 0) return 'void';
  const kind = btf.kindOf(id);
  const name = btf.nameOf(id);
  // ints and floats are named like C types already ('unsigned int')
  if ((kind === BtfKind.INT || kind === BtfKind.FLOAT) && name !== '') return name;
  const label = KIND_LABEL[kind] ?? 'type';
  return `${label} ${name === '' ? '<anon>' : name}`;
}

const KIND_LABEL: Record<number, string> = {
  [BtfKind.INT]: 'int',
  [BtfKind.PTR]: 'ptr',
  [BtfKind.ARRAY]: 'array',
  [BtfKind.STRUCT]: 'struct',
  [BtfKind.UNION]: 'union',
  [BtfKind.ENUM]: 'enum',
  [BtfKind.FWD]: 'fwd',
  [BtfKind.TYPEDEF]: 'typedef',
  [BtfKind.VOLATILE]: 'volatile',
  [BtfKind.CONST]: 'const',
  [BtfKind.RESTRICT]: 'restrict',
  [BtfKind.FUNC]: 'func',
  [BtfKind.FUNC_PROTO]: 'func_proto',
  [BtfKind.VAR]: 'var',
  [BtfKind.DATASEC]: 'datasec',
  [BtfKind.FLOAT]: 'float',
  [BtfKind.DECL_TAG]: 'decl_tag',
  [BtfKind.TYPE_TAG]: 'type_tag',
  [BtfKind.ENUM64]: 'enum',
};
