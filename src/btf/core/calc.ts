/**
 * Relocation values: libbpf's bpf_core_calc_field_relo(), bpf_core_calc_type_relo(),
 * bpf_core_calc_enumval_relo() and bpf_core_calc_relo() (relo_core.c). Each is computed once
 * from the local spec (what the compiler assumed, checked against the instruction) and once
 * from the target spec (what gets patched in); a missing target spec means the field, type or
 * enumerator does not exist on the target.
 */
import { BtfKind } from '../kinds.js';
import { CoreReloKind } from '../ext.js';
import type { Btf } from '../parser.js';
import { isAnyEnum, sizeOrFail, skip } from './btf-util.js';
import { fail } from './errors.js';
import { isEnumvalBased, isFieldBased, isTypeBased, type CoreSpec } from './spec.js';

/** struct bpf_core_relo_res: everything the patcher needs. */
export interface CoreReloRes {
  /** Value the instruction must hold now (unless !validate). */
  origVal: bigint;
  /** Value to patch in. */
  newVal: bigint;
  /** The relocation cannot be satisfied: replace the instruction with an invalid call. */
  poison: boolean;
  /** Whether to check the instruction's current value against origVal. */
  validate: boolean;
  /** The field's size changed in a way a load/store cannot be adjusted to (poison LDX/ST/STX). */
  failMemszAdjust: boolean;
  /** Field sizes for adjusting the size of direct loads and stores (0: not applicable). */
  origSz: number;
  newSz: number;
  origTypeId: number;
  newTypeId: number;
  /** Why the relocation was poisoned, for the description. */
  poisonReason?: string;
}

interface FieldValue {
  val: bigint;
  fieldSz: number;
  typeId: number;
  validate: boolean;
}

const u64 = (n: number | bigint): bigint => BigInt.asUintN(64, BigInt(n));

/**
 * bpf_core_calc_field_relo(). `spec` undefined: the field is missing on the target (0 for
 * FIELD_EXISTS, poison otherwise). `littleEndian` only matters for LSHIFT_U64 of bitfields; libbpf
 * uses the host's byte order, which is the target kernel's.
 */
function calcField(kind: number, spec: CoreSpec | undefined, littleEndian: boolean): FieldValue | 'poison' {
  if (kind === CoreReloKind.FIELD_EXISTS) return { val: spec ? 1n : 0n, fieldSz: 0, typeId: 0, validate: true };
  if (!spec) return 'poison';
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;

  // the path ends in an array element: a[n]
  if (acc.name === undefined) {
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      // the load/store size is that of the innermost element, even for arrays of arrays
      return { val: u64(Math.floor(spec.bitOffset / 8)), fieldSz: innermostElementSize(btf, acc.typeId), typeId: acc.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) {
      return { val: u64(sizeOrFail(btf, acc.typeId, 'the array element')), fieldSz: 0, typeId: 0, validate: true };
    }
    fail(`relocation kind ${kind} cannot be applied to an array element access`);
  }

  const t = btf.type(acc.typeId);
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) fail(`type [${acc.typeId}] holding field '${acc.name}' is not a struct or union`);
  const m = t.members[acc.idx]!;
  const fieldTypeId = skip(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    // the smallest aligned load of the field's int size (doubling up to 8 bytes) covering it
    byteSz = btf.sizeOrType(fieldTypeId);
    if (byteSz === 0) fail(`bitfield '${acc.name}' has a type without a size`);
    byteOff = Math.floor(Math.floor(bitOff / 8) / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) fail(`bitfield '${acc.name}' cannot be read with one 64-bit load`);
      byteSz *= 2;
      byteOff = Math.floor(Math.floor(bitOff / 8) / byteSz) * byteSz;
    }
  } else {
    byteSz = sizeOrFail(btf, fieldTypeId, `the type of field '${acc.name}'`);
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  // for bitfields the compiler's choices of offset, size and shifts may legitimately differ from
  // ours, so only signedness and the right shift are checked
  const validate = !bitfield;

  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return bitfield
        ? { val: u64(byteOff), fieldSz: 0, typeId: 0, validate }
        : { val: u64(byteOff), fieldSz: innermostElementSize(btf, fieldTypeId), typeId: fieldTypeId, validate };
    case CoreReloKind.FIELD_BYTE_SIZE:
      return { val: u64(byteSz), fieldSz: 0, typeId: 0, validate };
    case CoreReloKind.FIELD_SIGNED: {
      const mt = btf.type(fieldTypeId);
      const signed = (isAnyEnum(mt.kind) && btf.info(fieldTypeId) >>> 31 === 1) || (mt.kind === BtfKind.INT && (mt.encoding & 1) !== 0);
      return { val: signed ? 1n : 0n, fieldSz: 0, typeId: 0, validate: true };
    }
    case CoreReloKind.FIELD_LSHIFT_U64: {
      const shift = littleEndian ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8);
      return { val: u64(shift), fieldSz: 0, typeId: 0, validate };
    }
    case CoreReloKind.FIELD_RSHIFT_U64:
      return { val: u64(64 - bitSz), fieldSz: 0, typeId: 0, validate: true };
    default:
      fail(`unknown field relocation kind ${kind}`);
  }
}

/** Size of the element type under any number of array levels (the memory access size). */
function innermostElementSize(btf: Btf, id: number): number {
  let elem = skip(btf, id);
  for (let i = 0; btf.kindOf(elem) === BtfKind.ARRAY; i++) {
    if (i > 64) fail(`array type [${id}] nests too deep`);
    const a = btf.type(elem);
    if (a.kind !== BtfKind.ARRAY) break;
    elem = skip(btf, a.type);
  }
  return sizeOrFail(btf, elem, 'the field element type');
}

/** bpf_core_calc_type_relo(): type-based relocations are 0 when the target type is missing. */
function calcType(kind: number, spec: CoreSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      // ids change when objects are linked: the compiler's value is not checked
      return { val: BigInt(spec.rootTypeId), validate: false };
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { val: 1n, validate: true };
    case CoreReloKind.TYPE_SIZE:
      return { val: u64(sizeOrFail(spec.btf, spec.rootTypeId, 'the type')), validate: true };
    default:
      fail(`unknown type relocation kind ${kind}`);
  }
}

/**
 * bpf_core_calc_enumval_relo(). A 32-bit enumerator is read as libbpf reads btf_enum.val, a
 * signed 32-bit number sign-extended to 64 bits whatever the enum's signedness.
 */
function calcEnumval(kind: number, spec: CoreSpec | undefined): bigint | 'poison' {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (kind !== CoreReloKind.ENUMVAL_VALUE) fail(`unknown enum relocation kind ${kind}`);
  if (!spec) return 'poison';
  const acc = spec.accessors[0]!;
  const t = spec.btf.type(acc.typeId);
  if (t.kind === BtfKind.ENUM) return u64(t.values[acc.idx]!.value | 0);
  if (t.kind === BtfKind.ENUM64) return u64(t.values[acc.idx]!.value);
  fail(`type [${acc.typeId}] is not an enum`);
}

/**
 * bpf_core_calc_relo(): local and target values of one relocation for one target spec (or none),
 * with the decision whether a changed field size can be applied to a load or store: only when
 * both are pointers, or both are ints that are not signed (zero extension keeps the value).
 */
export function calcRelo(kind: number, local: CoreSpec, target: CoreSpec | undefined, littleEndian: boolean): CoreReloRes {
  const res: CoreReloRes = {
    origVal: 0n, newVal: 0n, poison: false, validate: true, failMemszAdjust: false,
    origSz: 0, newSz: 0, origTypeId: 0, newTypeId: 0,
  };
  if (isFieldBased(kind)) {
    const l = calcField(kind, local, littleEndian);
    if (l === 'poison') fail('unreachable: the local spec always exists');
    res.origVal = l.val;
    res.origSz = l.fieldSz;
    res.origTypeId = l.typeId;
    res.validate = l.validate;
    const t = calcField(kind, target, littleEndian);
    if (t === 'poison') {
      res.poison = true;
      res.poisonReason = 'field not found in the target';
      return res;
    }
    res.newVal = t.val;
    res.newSz = t.fieldSz;
    res.newTypeId = t.typeId;
    if (res.origSz !== res.newSz) {
      const lk = local.btf.kindOf(res.origTypeId);
      const tk = target!.btf.kindOf(res.newTypeId);
      const unsignedInt = (btf: Btf, id: number): boolean => {
        const ty = id === 0 ? undefined : btf.type(id);
        return ty?.kind === BtfKind.INT && ty.encoding !== 1;
      };
      const ok =
        (lk === BtfKind.PTR && tk === BtfKind.PTR) ||
        (unsignedInt(local.btf, res.origTypeId) && unsignedInt(target!.btf, res.newTypeId));
      res.failMemszAdjust = !ok;
    }
  } else if (isTypeBased(kind)) {
    const l = calcType(kind, local);
    res.origVal = l.val;
    res.validate = l.validate;
    res.newVal = calcType(kind, target).val;
  } else if (isEnumvalBased(kind)) {
    const l = calcEnumval(kind, local);
    if (l === 'poison') fail('unreachable: the local spec always exists');
    res.origVal = l;
    const t = calcEnumval(kind, target);
    if (t === 'poison') {
      res.poison = true;
      res.poisonReason = 'enumerator not found in the target';
    } else {
      res.newVal = t;
    }
  } else {
    fail(`unknown relocation kind ${kind}`);
  }
  return res;
}
