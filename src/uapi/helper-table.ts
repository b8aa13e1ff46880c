import { HELPER_ROWS } from './helpers.js';

/** A BPF helper function as include/uapi/linux/bpf.h declares it. */
export interface HelperProto {
  /** The call's imm: BPF_FUNC_<name without bpf_>. */
  id: number;
  /** e.g. 'bpf_map_lookup_elem'. */
  name: string;
  /** C return type, e.g. 'void *' or 'long'. */
  returns: string;
  /** C parameters with names, e.g. ['void *map', 'const void *key']; '...' for varargs. */
  params: readonly string[];
}

const byId = new Map<number, HelperProto>();
const byName = new Map<string, HelperProto>();
for (const [id, name, returns, params] of HELPER_ROWS) {
  const proto = { id, name, returns, params };
  byId.set(id, proto);
  byName.set(name, proto);
}

/** The helper with call number `id`, or undefined for an unknown id. */
export function helperById(id: number): HelperProto | undefined {
  return byId.get(id);
}

/** The helper named `name` ('bpf_ktime_get_ns' or 'ktime_get_ns'). */
export function helperByName(name: string): HelperProto | undefined {
  return byName.get(name.startsWith('bpf_') ? name : `bpf_${name}`);
}

/** `name(params)`, e.g. 'bpf_map_lookup_elem(void *map, const void *key)'. */
export function helperSignature(proto: HelperProto): string {
  return `${proto.name}(${proto.params.join(', ')})`;
}
