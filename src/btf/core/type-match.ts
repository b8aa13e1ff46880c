/**
 * TYPE_MATCHES: libbpf's __bpf_core_types_match() (relo_core.c), a stricter relation than the
 * compatibility of compat.ts, meant to tell whether a local type definition describes the
 * target's type:
 * - typedefs and qualifiers are skipped, and at every step the (resolved) names must match
 *   modulo flavour, anonymous only with anonymous;
 * - kinds must match, except that behind a pointer a struct/union also matches a forward
 *   declaration of the same flavour, and ENUM matches ENUM64;
 * - ints match when size and signedness are equal;
 * - pointers and arrays match when what they point to / contain matches (arrays: same length);
 * - structs/unions match when every local member has a same-named target member of a matching
 *   type (behind a pointer, only the names and kinds are compared);
 * - enums match when the sizes are equal and every local enumerator name exists in the target
 *   (values are ignored);
 * - function prototypes match with the same parameter count and matching parameter and return
 *   types;
 * - any other kind (FLOAT included, as in libbpf) does not match.
 */
import { BtfKind } from '../kinds.js';
import type { Btf } from '../parser.js';
import { skip } from './btf-util.js';
import { essentialName } from './candidates.js';
import { CORE_COMPAT_LEVELS } from './compat.js';
import { fail } from './errors.js';

/** bpf_core_names_match(): an anonymous target only matches an anonymous local name. */
function namesMatch(localName: string, targetName: string): boolean {
  if (targetName === '') return localName === '';
  return essentialName(localName) === essentialName(targetName);
}

function kflag(btf: Btf, id: number): boolean {
  return btf.info(id) >>> 31 === 1;
}

function enumNames(btf: Btf, id: number): string[] {
  const t = btf.type(id);
  return t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64 ? t.values.map((v) => v.name) : [];
}

/** bpf_core_enums_match(). */
function enumsMatch(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number): boolean {
  if (localBtf.sizeOrType(localId) !== targetBtf.sizeOrType(targetId)) return false;
  const local = enumNames(localBtf, localId);
  const target = enumNames(targetBtf, targetId);
  if (local.length > target.length) return false;
  return local.every((ln) => target.some((tn) => namesMatch(ln, tn)));
}

/** bpf_core_composites_match(). */
function compositesMatch(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number, behindPtr: boolean, level: number): boolean {
  const lt = localBtf.type(localId);
  const tt = targetBtf.type(targetId);
  if ((lt.kind !== BtfKind.STRUCT && lt.kind !== BtfKind.UNION) || (tt.kind !== BtfKind.STRUCT && tt.kind !== BtfKind.UNION)) return false;
  if (lt.members.length > tt.members.length) return false;
  for (const lm of lt.members) {
    let matched = false;
    for (const tm of tt.members) {
      if (!namesMatch(lm.name, tm.name)) continue;
      if (typesMatch(localBtf, lm.type, targetBtf, tm.type, behindPtr, level - 1)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

/**
 * Whether target type `targetId` matches local type `localId` (bpf_core_types_match() when
 * called with the defaults). Throws a CoreFailure where libbpf returns -EINVAL: nesting deeper
 * than `level` members/parameters or 32 pointer/array steps.
 */
export function typesMatch(
  localBtf: Btf,
  localId: number,
  targetBtf: Btf,
  targetId: number,
  behindPtr = false,
  level = CORE_COMPAT_LEVELS,
): boolean {
  if (level <= 0) fail(`type match nesting exceeds ${CORE_COMPAT_LEVELS} levels`);
  for (let depth = 32; ; ) {
    if (--depth < 0) fail('type match went more than 32 types deep');
    localId = skip(localBtf, localId);
    targetId = skip(targetBtf, targetId);
    // names are compared after skipping typedefs, at the root as well
    if (!namesMatch(localBtf.nameOf(localId), targetBtf.nameOf(targetId))) return false;
    const lk = localBtf.kindOf(localId);
    const tk = targetBtf.kindOf(targetId);
    switch (lk) {
      case BtfKind.UNKN:
        return lk === tk;
      case BtfKind.FWD: {
        // a FWD's kflag says union (1) or struct (0)
        const lf = kflag(localBtf, localId);
        if (behindPtr) {
          if (lk === tk) return lf === kflag(targetBtf, targetId);
          return (tk === BtfKind.STRUCT && !lf) || (tk === BtfKind.UNION && lf);
        }
        if (lk !== tk) return false;
        return lf === kflag(targetBtf, targetId);
      }
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        if (tk !== BtfKind.ENUM && tk !== BtfKind.ENUM64) return false;
        return enumsMatch(localBtf, localId, targetBtf, targetId);
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        if (behindPtr) {
          if (lk === tk) return true;
          if (tk !== BtfKind.FWD) return false;
          return (lk === BtfKind.UNION) === kflag(targetBtf, targetId);
        }
        if (lk !== tk) return false;
        return compositesMatch(localBtf, localId, targetBtf, targetId, behindPtr, level);
      case BtfKind.INT: {
        if (lk !== tk) return false;
        const l = localBtf.type(localId);
        const t = targetBtf.type(targetId);
        if (l.kind !== BtfKind.INT || t.kind !== BtfKind.INT) return false;
        return l.size === t.size && (l.encoding & 1) === (t.encoding & 1);
      }
      case BtfKind.PTR:
        if (lk !== tk) return false;
        behindPtr = true;
        localId = localBtf.sizeOrType(localId);
        targetId = targetBtf.sizeOrType(targetId);
        continue;
      case BtfKind.ARRAY: {
        if (lk !== tk) return false;
        const la = localBtf.type(localId);
        const ta = targetBtf.type(targetId);
        if (la.kind !== BtfKind.ARRAY || ta.kind !== BtfKind.ARRAY) return false;
        if (la.nelems !== ta.nelems) return false;
        localId = la.type;
        targetId = ta.type;
        continue;
      }
      case BtfKind.FUNC_PROTO: {
        if (lk !== tk) return false;
        const lp = localBtf.type(localId);
        const tp = targetBtf.type(targetId);
        if (lp.kind !== BtfKind.FUNC_PROTO || tp.kind !== BtfKind.FUNC_PROTO) return false;
        if (lp.params.length !== tp.params.length) return false;
        for (let i = 0; i < lp.params.length; i++) {
          if (!typesMatch(localBtf, lp.params[i]!.type, targetBtf, tp.params[i]!.type, behindPtr, level - 1)) return false;
        }
        localId = lp.returnType;
        targetId = tp.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
