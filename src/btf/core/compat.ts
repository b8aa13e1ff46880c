/**
 * libbpf's two loose compatibility relations (relo_core.c): __bpf_core_types_are_compat() for
 * type-based relocations (TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET) and
 * bpf_core_fields_are_compat() for the type of a field matched by name. TYPE_MATCHES uses the
 * stricter relation in type-match.ts.
 */
import { BtfKind } from '../kinds.js';
import { MAX_CHAIN } from '../layout.js';
import type { Btf } from '../parser.js';
import { isComposite, kindCoreCompat, skip } from './btf-util.js';
import { essentialNameLength } from './candidates.js';
import { fail } from './errors.js';

/** Default recursion budget of bpf_core_types_are_compat() (and of types_match). */
export const CORE_COMPAT_LEVELS = 32;

function intOffset(btf: Btf, id: number): number {
  const t = btf.type(id);
  return t.kind === BtfKind.INT ? t.bitsOffset : 0;
}

/**
 * __bpf_core_types_are_compat(): whether target type `targetId` is compatible with local type
 * `localId` for a type-based relocation. The root names were matched by the candidate search;
 * below the root, names are ignored:
 * - qualifiers and typedefs are skipped; kinds must match (ENUM and ENUM64 mix);
 * - void, structs, unions, enums and forward declarations are compatible as they are;
 * - ints are compatible unless either is a legacy bitfield-like int (non-zero bit offset);
 * - pointers and arrays compare their target/element types (array lengths are ignored);
 * - function prototypes need the same number of parameters and compatible parameter and
 *   return types, each parameter check taking one of `level` nesting levels;
 * - every other kind (FLOAT included) is not compatible.
 * Throws a CoreFailure where libbpf returns -EINVAL (more than 32 steps, or out of levels).
 */
export function typesAreCompat(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number, level = CORE_COMPAT_LEVELS): boolean {
  if (!kindCoreCompat(localBtf.kindOf(localId), targetBtf.kindOf(targetId))) return false;
  for (let depth = 32; ; ) {
    if (--depth < 0) fail('type compatibility check went more than 32 types deep');
    localId = skip(localBtf, localId);
    targetId = skip(targetBtf, targetId);
    const lk = localBtf.kindOf(localId);
    const tk = targetBtf.kindOf(targetId);
    if (!kindCoreCompat(lk, tk)) return false;
    switch (lk) {
      case BtfKind.UNKN:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.FWD:
      case BtfKind.ENUM64:
        return true;
      case BtfKind.INT:
        return intOffset(localBtf, localId) === 0 && intOffset(targetBtf, targetId) === 0;
      case BtfKind.PTR:
        localId = localBtf.sizeOrType(localId);
        targetId = targetBtf.sizeOrType(targetId);
        continue;
      case BtfKind.ARRAY: {
        const la = localBtf.type(localId);
        const ta = targetBtf.type(targetId);
        if (la.kind !== BtfKind.ARRAY || ta.kind !== BtfKind.ARRAY) return false;
        localId = la.type;
        targetId = ta.type;
        continue;
      }
      case BtfKind.FUNC_PROTO: {
        const lp = localBtf.type(localId);
        const tp = targetBtf.type(targetId);
        if (lp.kind !== BtfKind.FUNC_PROTO || tp.kind !== BtfKind.FUNC_PROTO) return false;
        if (lp.params.length !== tp.params.length) return false;
        for (let i = 0; i < lp.params.length; i++) {
          if (level <= 0) fail(`function prototype nesting exceeds ${CORE_COMPAT_LEVELS} levels`);
          const l = skip(localBtf, lp.params[i]!.type);
          const t = skip(targetBtf, tp.params[i]!.type);
          if (!typesAreCompat(localBtf, l, targetBtf, t, level - 1)) return false;
        }
        // then the return types
        localId = skip(localBtf, lp.returnType);
        targetId = skip(targetBtf, tp.returnType);
        continue;
      }
      default:
        return false;
    }
  }
}

/**
 * bpf_core_fields_are_compat(): whether a target field's type can stand in for the local
 * field's type once their names matched:
 * - any two structs/unions are compatible (their members are matched by later steps);
 * - pointers (to anything) and floats are compatible;
 * - enums (either width) and forward declarations need equal essential names, unless either
 *   is anonymous;
 * - ints are compatible regardless of size and signedness, unless bitfield-like;
 * - arrays compare element types, ignoring lengths;
 * - nothing else is compatible.
 */
export function fieldsAreCompat(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number): boolean {
  for (let steps = 0; steps <= MAX_CHAIN; steps++) {
    localId = skip(localBtf, localId);
    targetId = skip(targetBtf, targetId);
    const lk = localBtf.kindOf(localId);
    const tk = targetBtf.kindOf(targetId);
    if (isComposite(lk) && isComposite(tk)) return true;
    if (!kindCoreCompat(lk, tk)) return false;
    switch (lk) {
      case BtfKind.PTR:
      case BtfKind.FLOAT:
        return true;
      case BtfKind.FWD:
      case BtfKind.ENUM:
      case BtfKind.ENUM64: {
        const ln = localBtf.nameOf(localId);
        const tn = targetBtf.nameOf(targetId);
        const ll = essentialNameLength(ln);
        const tl = essentialNameLength(tn);
        return ll === 0 || tl === 0 || (ll === tl && ln.slice(0, ll) === tn.slice(0, tl));
      }
      case BtfKind.INT:
        return intOffset(localBtf, localId) === 0 && intOffset(targetBtf, targetId) === 0;
      case BtfKind.ARRAY: {
        const la = localBtf.type(localId);
        const ta = targetBtf.type(targetId);
        if (la.kind !== BtfKind.ARRAY || ta.kind !== BtfKind.ARRAY) return false;
        localId = la.type;
        targetId = ta.type;
        continue;
      }
      default:
        return false;
    }
  }
  fail(`array nesting deeper than ${MAX_CHAIN} while comparing field types`);
}
