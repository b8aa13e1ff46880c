/**
 * Type queries as users type them: `task_struct`, `struct task_struct`, `union bpf_attr`,
 * `enum bpf_map_type`, `typedef u32`, or a numeric id.
 */
import { ParseError } from '../errors.js';
import { BtfKind } from './kinds.js';
import type { Btf } from './parser.js';

const PREFIX: Record<string, number> = {
  struct: BtfKind.STRUCT,
  union: BtfKind.UNION,
  enum: BtfKind.ENUM,
  typedef: BtfKind.TYPEDEF,
};

/** Ids matching `query`; throws ParseError('type', ...) when nothing matches. */
export function findTypes(btf: Btf, query: string): number[] {
  const q = query.trim();
  if (/^\d+$/.test(q)) {
    const id = Number(q);
    if (id < 1 || id >= btf.typeCount) throw new ParseError('type', 1, 1, `type id ${id} does not exist (ids 1..${btf.typeCount - 1})`);
    return [id];
  }
  const m = /^(struct|union|enum|typedef)\s+(\S+)$/.exec(q);
  const name = m ? m[2]! : q;
  const kind = m ? PREFIX[m[1]!] : undefined;
  const ids = btf.idsByName(name).filter((id) => {
    if (kind === undefined) return true;
    const k = btf.kindOf(id);
    return k === kind || (kind === BtfKind.ENUM && k === BtfKind.ENUM64);
  });
  if (ids.length === 0) throw new ParseError('type', 1, 1, `no type named '${q}' in the BTF`);
  return ids;
}
