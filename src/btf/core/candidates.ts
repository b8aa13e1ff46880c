/**
 * Candidate target types: libbpf's bpf_core_find_cands()/bpf_core_add_cands(). A candidate has
 * a CO-RE compatible kind (btf_kind_core_compat(): equal, or ENUM vs ENUM64) and the same
 * "essential" name as the local type: the name with a trailing `___flavour` removed, so
 * `task_struct___old` and `task_struct` are candidates for each other.
 */
import { Buffer } from 'node:buffer';
import type { Btf } from '../parser.js';
import { kindCoreCompat } from './btf-util.js';

/** bpf_core_is_flavor_sep(): `X___Y` where X and Y are not underscores. */
function isFlavorSep(name: string, i: number): boolean {
  return name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_';
}

/**
 * Length of the name before its last flavour separator (bpf_core_essential_name_len()):
 * 'task_struct___old' -> 11; names without a flavour keep their full length.
 */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (isFlavorSep(name, i)) return i + 1;
  }
  return name.length;
}

/** The name without its `___flavour` suffix: 'task_struct___old' -> 'task_struct'. */
export function essentialName(name: string): string {
  return name.slice(0, essentialNameLength(name));
}

/**
 * Per BTF blob (own string section only): flavoured strings by essential name. Found by scanning
 * the string bytes for '___', so vmlinux costs one native search, not 100 000 decoded names.
 */
const flavouredCache = new WeakMap<Btf, Map<string, string[]>>();

function flavouredNames(btf: Btf): Map<string, string[]> {
  let map = flavouredCache.get(btf);
  if (map) return map;
  map = new Map();
  const bytes = Buffer.from(btf.bytes.buffer, btf.bytes.byteOffset + btf.strStart, btf.strEnd - btf.strStart);
  for (let p = bytes.indexOf('___'); p >= 0; ) {
    const start = bytes.lastIndexOf(0, p) + 1;
    let end = bytes.indexOf(0, p);
    if (end < 0) end = bytes.length;
    const name = btf.str(btf.strBase + start);
    const essential = essentialName(name);
    if (essential !== name) {
      let list = map.get(essential);
      if (!list) map.set(essential, (list = []));
      list.push(name);
    }
    p = bytes.indexOf('___', end + 1);
  }
  flavouredCache.set(btf, map);
  return map;
}

/**
 * Ids of the target types that are candidates for local type `localId`, in id order.
 *
 * Follows libbpf's search order for vmlinux and modules: when the target is split BTF (a module
 * on top of vmlinux), candidates in the base are used if there are any, and the split BTF's own
 * types only otherwise. Anonymous types are never candidates.
 */
export function findCandidates(localBtf: Btf, localId: number, targetBtf: Btf): number[] {
  const localName = localBtf.nameOf(localId);
  const localKind = localBtf.kindOf(localId);
  const essential = essentialName(localName);
  if (essential === '') return [];
  const names = new Set([essential]);
  for (let b: Btf | undefined = targetBtf; b; b = b.base) {
    for (const n of flavouredNames(b).get(essential) ?? []) names.add(n);
  }
  const ids = new Set<number>();
  for (const n of names) {
    for (const id of targetBtf.idsByName(n)) {
      if (!kindCoreCompat(targetBtf.kindOf(id), localKind)) continue;
      // 'a___b' is not a candidate for 'a___b___c': its essential name is 'a'
      if (essentialName(targetBtf.nameOf(id)) !== essential) continue;
      ids.add(id);
    }
  }
  const sorted = [...ids].sort((a, b) => a - b);
  // vmlinux first (the innermost base), then the split BTF layers outwards
  const layers: Btf[] = [];
  for (let b: Btf | undefined = targetBtf; b; b = b.base) layers.unshift(b);
  for (const layer of layers) {
    const own = sorted.filter((id) => id >= layer.firstId && id < layer.typeCount);
    if (own.length > 0) return own;
  }
  return [];
}
