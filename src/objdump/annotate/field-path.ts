/**
 * Names the member of a BTF struct that an access at (offset, size) touches: 'minor',
 * 'args[1]', 'sk.family'. Used to turn `*(u32 *)(r1 + 8)` into `ctx->minor`.
 */
import { BtfKind, resolveType, sizeOf, type Btf } from '../../btf/index.js';

const MAX_DEPTH = 16;

/** The member path covering [offset, offset + size) in type `id`, or undefined. */
export function fieldPath(btf: Btf, id: number, offset: number, size: number, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  id = resolveType(btf, id);
  if (id === 0) return undefined;
  const t = btf.type(id);
  if (t.kind === BtfKind.ARRAY) {
    const elemSize = sizeOf(btf, t.type) ?? 0;
    if (elemSize <= 0) return undefined;
    const index = Math.floor(offset / elemSize);
    // A flexible array member (nelems 0) may be indexed past its declared length.
    if (t.nelems !== 0 && index >= t.nelems) return undefined;
    const inner = fieldPath(btf, t.type, offset - index * elemSize, size, depth + 1);
    return `[${index}]${inner ? joinPath(inner) : ''}`;
  }
  if (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) return undefined;
  for (const m of t.members) {
    if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) continue;
    const start = m.bitOffset / 8;
    const memberType = resolveType(btf, m.type);
    const kind = memberType === 0 ? -1 : btf.kindOf(memberType);
    const flexible = kind === BtfKind.ARRAY && (btf.type(memberType) as { nelems: number }).nelems === 0;
    const memberSize = flexible ? Infinity : (sizeOf(btf, m.type) ?? 0);
    if (offset < start || offset + size > start + memberSize) continue;
    const inner = offset === start && size === memberSize ? undefined : fieldPath(btf, m.type, offset - start, size, depth + 1);
    // The fields of an anonymous struct or union member read as the outer struct's own.
    if (!m.name) {
      if (inner) return inner;
      continue;
    }
    return inner ? `${m.name}${joinPath(inner)}` : m.name;
  }
  return undefined;
}

function joinPath(inner: string): string {
  return inner.startsWith('[') ? inner : `.${inner}`;
}
