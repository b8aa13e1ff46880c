/**
 * Which fields of a program's context may be read and written, and at which widths: the rules the
 * verifier applies through each program type's is_valid_access callback (net/core/filter.c:
 * sk_filter_is_valid_access, tc_cls_act_is_valid_access, cg_skb_is_valid_access,
 * bpf_skb_is_valid_access, xdp_is_valid_access, bpf_sock_is_valid_access with
 * __sock_filter_check_attach_type; kernel/bpf/cgroup.c: cgroup_dev_is_valid_access;
 * kernel/trace/bpf_trace.c: pe_prog_is_valid_access and the tracing contexts). An access the
 * verifier would refuse with "invalid bpf_context access" is a compile error instead.
 *
 * A field's rule lists the access widths allowed for reads and for writes; an access must also be
 * aligned to its width (off % size == 0, as the verifier requires) and lie inside the field.
 */
import { sizeOf, type StructType } from './types.js';

/** The widths (bytes) a field may be read and written with; empty: not at all. */
export interface FieldAccess {
  read: readonly number[];
  write: readonly number[];
  /** Narrow accesses only at the field's first byte (the verifier matches its exact offset). */
  atStart?: boolean;
}

/** The context access rules of one program type (and attach point, where that matters). */
export interface ContextRules {
  /** Key of this entry, e.g. 'tc' or "cgroupSock('post_bind4')". */
  kind: string;
  /** Who is refused, as a sentence subject: 'socket filters', 'tc programs'. */
  who: string;
  /** The uapi struct the rules are about ('' for contexts any aligned read of is fine). */
  cName: string;
  /** The rule of a field (fields not listed are not accessible). */
  fields: Readonly<Record<string, FieldAccess>>;
  /** Read-only contexts where every aligned read inside the struct is fine (tracing). */
  anyRead?: boolean;
}

const NONE: readonly number[] = [];
const U32 = [4] as const;
const NARROW32 = [1, 2, 4] as const;
const U64 = [8] as const;
const NARROW64 = [1, 2, 4, 8] as const;
const r = (read: readonly number[]): FieldAccess => ({ read, write: NONE });
const rw = (read: readonly number[], write: readonly number[]): FieldAccess => ({ read, write });

// ---- __sk_buff (bpf_skb_is_valid_access and the per-type filters) -----------------------------

/** The __sk_buff fields bpf_skb_is_valid_access itself allows, before a program type narrows them. */
const SKB_BASE: Record<string, FieldAccess> = {
  // Plain u32 fields: narrow reads, full-width writes (when the program type lets them be written).
  ...Object.fromEntries(
    ['len', 'pkt_type', 'mark', 'queue_mapping', 'protocol', 'vlan_present', 'vlan_tci', 'vlan_proto', 'priority', 'ingress_ifindex', 'ifindex', 'tc_index', 'hash', 'tc_classid', 'napi_id', 'family', 'remote_port', 'local_port', 'wire_len', 'gso_segs', 'gso_size'].map((f) => [f, rw(NARROW32, U32)]),
  ),
  cb: rw(NARROW64, NARROW64),
  // Addresses and packet pointers: exactly 4 bytes.
  remote_ip4: rw(U32, U32),
  local_ip4: rw(U32, U32),
  remote_ip6: rw(U32, U32),
  local_ip6: rw(U32, U32),
  data: rw(U32, U32),
  data_meta: rw(U32, U32),
  data_end: rw(U32, U32),
  tstamp: rw(U64, U64),
  hwtstamp: r(U64),
  sk: r(U64),
  // flow_keys (flow dissector only) and tstamp_type (tc only) are refused here.
};

/** The __sk_buff rules of a program type: SKB_BASE minus `denied`, written only through `writable`. */
function skbRules(denied: string[], writable: string[], extra: Record<string, FieldAccess> = {}): Record<string, FieldAccess> {
  const out: Record<string, FieldAccess> = {};
  for (const [name, a] of Object.entries(SKB_BASE)) {
    if (denied.includes(name)) continue;
    out[name] = { read: a.read, write: writable.includes(name) ? a.write : NONE };
  }
  return { ...out, ...extra };
}

const SOCK_ADDR_FIELDS = ['family', 'remote_ip4', 'local_ip4', 'remote_ip6', 'local_ip6', 'remote_port', 'local_port'];

/** sk_filter_is_valid_access: no packet pointers, no tc or socket-address fields; writes cb only. */
const SOCKET_FILTER = skbRules(['tc_classid', 'data', 'data_meta', 'data_end', ...SOCK_ADDR_FIELDS, 'tstamp', 'wire_len', 'hwtstamp'], ['cb']);

/** tc_cls_act_is_valid_access: everything but the socket-address fields; tstamp_type as one byte. */
const TC = skbRules(SOCK_ADDR_FIELDS, ['mark', 'tc_index', 'priority', 'tc_classid', 'cb', 'tstamp', 'queue_mapping'], { tstamp_type: r([1]) });

/**
 * cg_skb_is_valid_access: no tc_classid, data_meta or wire_len; writes mark, priority, cb and
 * tstamp. (data, data_end and tstamp writes need CAP_BPF or CAP_SYS_ADMIN, which loading a
 * cgroup program needs anyway.)
 */
const CGROUP_SKB = skbRules(['tc_classid', 'data_meta', 'wire_len'], ['mark', 'priority', 'cb', 'tstamp']);

// ---- other contexts ------------------------------------------------------------------------------

/** xdp_is_valid_access: u32 reads; egress_ifindex only in devmap programs; no writes (offload aside). */
const XDP: Record<string, FieldAccess> = Object.fromEntries(['data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index'].map((f) => [f, r(U32)]));

/**
 * bpf_sock_is_valid_access with __sock_filter_check_attach_type: bound_dev_if, mark and priority
 * (u32 only) are read and written by sock_create and sock_release programs only; the source
 * address by post_bind programs of its family; the rest is read-only, narrow reads allowed.
 */
function sockRules(attach: string): Record<string, FieldAccess> {
  const out: Record<string, FieldAccess> = {};
  // family, type, protocol, state and rx_queue_mapping (and src_port below) are matched at their
  // exact offset, the addresses as ranges: narrow reads of the former only at their first byte.
  for (const f of ['family', 'type', 'protocol', 'state', 'rx_queue_mapping']) out[f] = { ...r(NARROW32), atStart: true };
  for (const f of ['dst_ip4', 'dst_ip6']) out[f] = r(NARROW32);
  out.dst_port = r([1, 2]);
  if (attach === 'sock_create' || attach === 'sock_release') {
    for (const f of ['bound_dev_if', 'mark', 'priority']) out[f] = rw(U32, U32);
  }
  if (attach === 'post_bind4') out.src_ip4 = r(NARROW32);
  if (attach === 'post_bind6') out.src_ip6 = r(NARROW32);
  if (attach === 'post_bind4' || attach === 'post_bind6') out.src_port = { ...r(NARROW32), atStart: true };
  return out;
}

/** cgroup_dev_is_valid_access: read-only; access_type narrow, major and minor as u32. */
const CGROUP_DEV: Record<string, FieldAccess> = { access_type: r(NARROW32), major: r(U32), minor: r(U32) };

/** pe_prog_is_valid_access: read-only; registers as longs, sample_period and addr narrow. */
const PERF_EVENT: Record<string, FieldAccess> = { regs: r(U64), sample_period: r(NARROW64), addr: r(NARROW64) };

const SOCK_ATTACH = ['sock_create', 'sock_release', 'post_bind4', 'post_bind6'];

/** Every structured-context entry, for the "where is it allowed instead" hints and the tests. */
export const CONTEXT_RULES: readonly ContextRules[] = [
  { kind: 'socketFilter', who: 'socket filters', cName: '__sk_buff', fields: SOCKET_FILTER },
  { kind: 'tc', who: 'tc programs', cName: '__sk_buff', fields: TC },
  { kind: 'cgroupSkb', who: 'cgroupSkb programs', cName: '__sk_buff', fields: CGROUP_SKB },
  { kind: 'xdp', who: 'xdp programs', cName: 'xdp_md', fields: XDP },
  ...SOCK_ATTACH.map((a) => ({ kind: `cgroupSock('${a}')`, who: `cgroupSock('${a}') programs`, cName: 'bpf_sock', fields: sockRules(a) })),
  { kind: 'cgroupDev', who: 'cgroupDev programs', cName: 'bpf_cgroup_dev_ctx', fields: CGROUP_DEV },
  { kind: 'perfEvent', who: 'perfEvent programs', cName: 'bpf_perf_event_data', fields: PERF_EVENT },
];

/**
 * The rules of a program declarator (`attach`: its first argument, for cgroupSock). Tracing
 * contexts (pt_regs, tracepoint records, raw tracepoint arguments) may be read anywhere at any
 * aligned width and never written.
 */
export function contextRules(declarator: string, attach: string | undefined): ContextRules {
  const kind = declarator === 'cgroupSock' ? `cgroupSock('${attach}')` : declarator;
  const found = CONTEXT_RULES.find((c) => c.kind === kind);
  if (found) return found;
  return { kind: declarator, who: `${declarator} programs`, cName: '', fields: {}, anyRead: true };
}

/**
 * Whether some field of this context struct is writable in some program type (when none is, as
 * for xdp_md or tracing contexts, a write is refused as "the context is read-only").
 */
export function writesContext(rules: ContextRules): boolean {
  return CONTEXT_RULES.some((c) => (c === rules || (c.cName === rules.cName && rules.cName !== '')) && Object.values(c.fields).some((a) => a.write.length > 0));
}

/** Why an access is refused: the message and the hint of the compile error. */
export interface AccessRefusal {
  message: string;
  hint: string;
}

/**
 * Checks a `size`-byte load (or store, `write`) at offset `off` of context struct `s` under
 * `rules`; undefined when the verifier accepts it.
 */
export function checkContextAccess(rules: ContextRules, s: StructType, off: number, size: number, write: boolean): AccessRefusal | undefined {
  const verb = write ? 'write' : 'read';
  const field = s.fields.find((f) => off >= f.offset && off < f.offset + sizeOf(f.type));
  const name = field ? `${s.cName}.${field.name}` : `${s.cName} at offset ${off}`;
  if (rules.anyRead) {
    if (write) return { message: `the context of ${rules.who} is read-only`, hint: 'copy the value into a local first' };
    if (off % size !== 0) return { message: `${rules.who} cannot read ${name} with a misaligned ${size}-byte load`, hint: 'read the field by itself' };
    return undefined;
  }
  const rule = field ? rules.fields[field.name] : undefined;
  const widths = rule ? (write ? rule.write : rule.read) : NONE;
  if (widths.length === 0 || !field) {
    const elsewhere = CONTEXT_RULES.filter((c) => c !== rules && c.cName === rules.cName && field && (write ? c.fields[field.name]?.write : c.fields[field.name]?.read)?.length);
    const able = write ? 'writable' : 'readable';
    let hint: string;
    if (elsewhere.length > 0) hint = `it is ${able} in ${listOf(elsewhere.map((c) => c.kind))} programs`;
    else if (write && rule && rule.read.length > 0) hint = 'no program type may write it; copy the value into a local first';
    else hint = `no program type of this compiler may ${verb} it`;
    if (write && rule && rule.read.length > 0 && elsewhere.length > 0) hint += '; here it is read-only';
    return { message: `${rules.who} cannot ${verb} ${name}`, hint };
  }
  const end = field.offset + sizeOf(field.type);
  if (!widths.includes(size) || off % size !== 0 || off + size > end || (rule!.atStart && off !== field.offset)) {
    const where = rule!.atStart ? 'at the start of the field' : 'aligned inside the field';
    return { message: `${rules.who} ${verb} ${name} only with ${listOf(widths.map((w) => `${w}`), 'or')}-byte ${write ? 'stores' : 'loads'} ${where}, not a ${size}-byte ${write ? 'store' : 'load'} at offset ${off}`, hint: `${verb} the field by itself` };
  }
  return undefined;
}

function listOf(xs: string[], and = 'and'): string {
  if (xs.length <= 1) return xs.join('');
  return `${xs.slice(0, -1).join(', ')} ${and} ${xs[xs.length - 1]}`;
}
