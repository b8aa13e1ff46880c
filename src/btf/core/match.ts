/**
 * Matching the local spec against one candidate target type: libbpf's bpf_core_spec_match()
 * and bpf_core_match_member() (relo_core.c). Fields are found by *name*, searching anonymous
 * structs/unions of the target recursively, so a field that moved into or out of an anonymous
 * member still matches; array indices must be within the target array's bounds (any index for a
 * flexible array member).
 */
import { BtfKind } from '../kinds.js';
import type { Btf } from '../parser.js';
import { CORE_SPEC_MAX_LEN, isAnyEnum, isComposite, sizeOrFail, skip } from './btf-util.js';
import { essentialNameLength } from './candidates.js';
import { fieldsAreCompat, typesAreCompat } from './compat.js';
import { fail } from './errors.js';
import { addBits, emptySpec, isEnumvalBased, isFieldBased, isFlexArray, isTypeBased, type CoreAccessor, type CoreSpec } from './spec.js';
import { CoreReloKind } from '../ext.js';
import { typesMatch } from './type-match.js';

/**
 * Looks for the member `local` names inside target struct/union `targetId` (through anonymous
 * members), extending `spec`'s low-level path and bit offset as it descends. Returns the
 * member's type id when found with a compatible type, undefined otherwise.
 */
function matchMember(localBtf: Btf, local: CoreAccessor, targetBtf: Btf, targetId: number, spec: CoreSpec): number | undefined {
  targetId = skip(targetBtf, targetId);
  if (!isComposite(targetBtf.kindOf(targetId))) return undefined;
  const lt = localBtf.type(local.typeId);
  if (lt.kind !== BtfKind.STRUCT && lt.kind !== BtfKind.UNION) return undefined;
  const localMember = lt.members[local.idx]!;
  const tt = targetBtf.type(targetId);
  if (tt.kind !== BtfKind.STRUCT && tt.kind !== BtfKind.UNION) return undefined;
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    if (spec.raw.length === CORE_SPEC_MAX_LEN) fail(`target access path is longer than ${CORE_SPEC_MAX_LEN} steps`);
    // speculate that this member is the one
    const before = spec.bitOffset;
    spec.bitOffset = addBits(spec.bitOffset, m.bitOffset);
    spec.raw.push(i);
    if (m.name === '') {
      // an anonymous struct/union: look inside
      const found = matchMember(localBtf, local, targetBtf, m.type, spec);
      if (found !== undefined) return found;
    } else if (m.name === localMember.name) {
      if (!fieldsAreCompat(localBtf, localMember.type, targetBtf, m.type)) return undefined;
      spec.accessors.push({ typeId: targetId, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset = before;
    spec.raw.pop();
  }
  return undefined;
}

/**
 * bpf_core_spec_match(): the target spec of `local` in candidate `targetId`, or undefined when
 * the candidate does not match. Type-based relocations only compare types (TYPE_MATCHES with
 * the strict relation), enum value relocations look for the enumerator by essential name, and
 * field relocations walk the high-level path.
 */
export function matchSpec(local: CoreSpec, targetBtf: Btf, targetId: number): CoreSpec | undefined {
  const spec = emptySpec(targetBtf, targetId, local.kind);
  const localBtf = local.btf;

  if (isTypeBased(local.kind)) {
    const ok =
      local.kind === CoreReloKind.TYPE_MATCHES
        ? typesMatch(localBtf, local.rootTypeId, targetBtf, targetId)
        : typesAreCompat(localBtf, local.rootTypeId, targetBtf, targetId);
    return ok ? spec : undefined;
  }

  if (isEnumvalBased(local.kind)) {
    const id = skip(targetBtf, targetId);
    if (!isAnyEnum(targetBtf.kindOf(id))) return undefined;
    const t = targetBtf.type(id);
    if (t.kind !== BtfKind.ENUM && t.kind !== BtfKind.ENUM64) return undefined;
    const localName = local.accessors[0]!.name!;
    const len = essentialNameLength(localName);
    for (let i = 0; i < t.values.length; i++) {
      const name = t.values[i]!.name;
      if (essentialNameLength(name) !== len || name.slice(0, len) !== localName.slice(0, len)) continue;
      spec.accessors.push({ typeId: id, idx: i, name });
      spec.raw.push(i);
      return spec;
    }
    return undefined;
  }

  if (!isFieldBased(local.kind)) fail(`unknown relocation kind ${local.kind}`);

  let id = targetId;
  for (let i = 0; i < local.accessors.length; i++) {
    id = skip(targetBtf, id);
    const acc = local.accessors[i]!;
    if (acc.name !== undefined) {
      const next = matchMember(localBtf, acc, targetBtf, id, spec);
      if (next === undefined) return undefined;
      id = next;
      continue;
    }
    // an array index; for i = 0 the root itself is the element type (p[n])
    if (i > 0) {
      if (targetBtf.kindOf(id) !== BtfKind.ARRAY) return undefined;
      const a = targetBtf.type(id);
      if (a.kind !== BtfKind.ARRAY) return undefined;
      const flex = isFlexArray(targetBtf, spec.accessors[spec.accessors.length - 1], a.nelems);
      if (!flex && acc.idx >= a.nelems) return undefined;
      id = skip(targetBtf, a.type);
    }
    if (spec.raw.length === CORE_SPEC_MAX_LEN) fail(`target access path is longer than ${CORE_SPEC_MAX_LEN} steps`);
    spec.accessors.push({ typeId: id, idx: acc.idx, name: undefined });
    spec.raw.push(acc.idx);
    spec.bitOffset = addBits(spec.bitOffset, acc.idx * sizeOrFail(targetBtf, id, 'the target array element type') * 8);
  }
  return spec;
}
