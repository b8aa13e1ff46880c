/**
 * The local side of a relocation: bpf_core_parse_spec() of libbpf's relo_core.c. An access
 * string such as '0:1:2:3' becomes a low-level spec (the numbers) and a high-level spec (the
 * semantically meaningful steps: the root array index, each *named* member, each array index;
 * anonymous struct/union members are walked through but not recorded), plus the bit offset the
 * path reaches in the local layout.
 */
import { BtfKind } from '../kinds.js';
import { CoreReloKind, type CoreRelo } from '../ext.js';
import type { Btf } from '../parser.js';
import { CORE_SPEC_MAX_LEN, describeType, isAnyEnum, isComposite, membersOf, sizeOrFail, skip, vlenOf } from './btf-util.js';
import { fail } from './errors.js';

/** One high-level step: a named member of `typeId`, or (name undefined) an array index. */
export interface CoreAccessor {
  /** For members: the struct/union holding it (possibly anonymous). For indices: the element type. */
  typeId: number;
  /** Member index or array index. */
  idx: number;
  /** Member (or enumerator) name; undefined for an array index. */
  name: string | undefined;
}

/** struct bpf_core_spec: a parsed access path in one BTF. */
export interface CoreSpec {
  btf: Btf;
  /** The relocation's type id, not resolved through typedefs. */
  rootTypeId: number;
  kind: number;
  /** High-level spec: named members and array indices. */
  accessors: CoreAccessor[];
  /** Low-level spec: one number per step, anonymous members included. */
  raw: number[];
  /** Bit offset of the accessed field from the start of the root. */
  bitOffset: number;
}

/** core_relo_is_field_based(). */
export function isFieldBased(kind: number): boolean {
  return kind >= CoreReloKind.FIELD_BYTE_OFFSET && kind <= CoreReloKind.FIELD_RSHIFT_U64;
}

/** core_relo_is_type_based(). */
export function isTypeBased(kind: number): boolean {
  return (
    kind === CoreReloKind.TYPE_ID_LOCAL ||
    kind === CoreReloKind.TYPE_ID_TARGET ||
    kind === CoreReloKind.TYPE_EXISTS ||
    kind === CoreReloKind.TYPE_MATCHES ||
    kind === CoreReloKind.TYPE_SIZE
  );
}

/** core_relo_is_enumval_based(). */
export function isEnumvalBased(kind: number): boolean {
  return kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
}

/** An empty spec rooted at `rootTypeId` (what type-based relocations carry). */
export function emptySpec(btf: Btf, rootTypeId: number, kind: number): CoreSpec {
  return { btf, rootTypeId, kind, accessors: [], raw: [], bitOffset: 0 };
}

/**
 * Whether the array reached after `prev` is a flexible array member: a zero-length array that is
 * the last member of its struct (is_flex_arr()). Such arrays accept any index.
 */
export function isFlexArray(btf: Btf, prev: CoreAccessor | undefined, nelems: number): boolean {
  if (!prev || prev.name === undefined || nelems > 0) return false;
  return prev.idx === vlenOf(btf, prev.typeId) - 1;
}

/** Adds a bit distance to an offset, failing where libbpf's u32 bit offset would wrap. */
export function addBits(offset: number, bits: number): number {
  const sum = offset + bits;
  if (!Number.isSafeInteger(sum) || sum > 0xffffffff) fail(`bit offset ${sum} does not fit 32 bits`);
  return sum;
}

/** Splits the access string like libbpf: non-negative decimal int32 numbers separated by ':'. */
function parseRaw(accessStr: string): number[] {
  if (accessStr === '' || !/^\d+(:\d+)*$/.test(accessStr)) {
    fail(`access string '${accessStr}' is not colon-separated non-negative numbers`);
  }
  const raw = accessStr.split(':').map(Number);
  if (raw.some((n) => n > 0x7fffffff)) fail(`access string '${accessStr}' has an index above 2^31-1`);
  if (raw.length > CORE_SPEC_MAX_LEN) fail(`access string '${accessStr}' is longer than ${CORE_SPEC_MAX_LEN} steps`);
  return raw;
}

/**
 * Parses a relocation's access string against the local BTF (bpf_core_parse_spec()). Throws a
 * CoreFailure for malformed records: unknown kind, unknown type id, bad access string, member
 * or array index out of range, a step into a type that has no members or elements.
 */
export function parseLocalSpec(btf: Btf, relo: CoreRelo): CoreSpec {
  const { kind, typeId, accessStr } = relo;
  if (!(Number.isInteger(kind) && kind >= 0 && kind <= CoreReloKind.TYPE_MATCHES)) fail(`unknown relocation kind ${kind}`);
  if (!(Number.isInteger(typeId) && typeId >= 0 && typeId < btf.typeCount)) {
    fail(`local type id ${typeId} does not exist (the object's BTF has ids 0..${btf.typeCount - 1})`);
  }
  const spec = emptySpec(btf, typeId, kind);

  // type-based relocations have no field path: their access string is always "0"
  if (isTypeBased(kind)) {
    if (accessStr !== '0') fail(`type-based relocation must have access string '0', not '${accessStr}'`);
    return spec;
  }

  spec.raw = parseRaw(accessStr);
  let id = skip(btf, typeId);
  const first = spec.raw[0]!;

  if (isEnumvalBased(kind)) {
    // the one index names an enumerator of the (resolved) enum
    const k = btf.kindOf(id);
    if (!isAnyEnum(k)) fail(`enum value relocation on ${describeType(btf, id)}, which is not an enum`);
    if (spec.raw.length > 1) fail(`enum value relocation has access string '${accessStr}' with more than one index`);
    const t = btf.type(id);
    if (t.kind !== BtfKind.ENUM && t.kind !== BtfKind.ENUM64) fail('unreachable');
    if (first >= t.values.length) fail(`enumerator index ${first} is out of range: ${describeType(btf, id)} has ${t.values.length}`);
    spec.accessors.push({ typeId: id, idx: first, name: t.values[first]!.name });
    return spec;
  }

  // field-based: the first index is an array index on the root (&p[n] ...)
  spec.accessors.push({ typeId: id, idx: first, name: undefined });
  spec.bitOffset = addBits(0, first * sizeOrFail(btf, id, 'the root type') * 8);

  for (let i = 1; i < spec.raw.length; i++) {
    id = skip(btf, id);
    const idx = spec.raw[i]!;
    const k = btf.kindOf(id);
    if (isComposite(k)) {
      const members = membersOf(btf, id);
      if (idx >= members.length) fail(`member index ${idx} (step ${i}) is out of range: ${describeType(btf, id)} has ${members.length} members`);
      const m = members[idx]!;
      spec.bitOffset = addBits(spec.bitOffset, m.bitOffset);
      // anonymous members are walked through but are not high-level steps
      if (m.name !== '') spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (k === BtfKind.ARRAY) {
      const a = btf.type(id);
      if (a.kind !== BtfKind.ARRAY) fail('unreachable');
      id = skip(btf, a.type);
      const flex = isFlexArray(btf, spec.accessors[spec.accessors.length - 1], a.nelems);
      if (!flex && idx >= a.nelems) fail(`array index ${idx} (step ${i}) is out of range: the array has ${a.nelems} elements`);
      spec.accessors.push({ typeId: id, idx, name: undefined });
      spec.bitOffset = addBits(spec.bitOffset, idx * sizeOrFail(btf, id, 'the array element type') * 8);
    } else {
      fail(`step ${i} of '${accessStr}' indexes into ${describeType(btf, id)}, which has neither members nor elements`);
    }
  }
  return spec;
}
