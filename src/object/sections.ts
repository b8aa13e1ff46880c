/**
 * libbpf's ELF section naming convention (SEC("...")): which program type and expected attach
 * type a section name implies, and what follows the prefix. The table mirrors `section_defs` in
 * libbpf's src/libbpf.c (libbpf 1.6) and the program-type table of its documentation
 * (Documentation/bpf/libbpf/program_types.rst). Names are the kernel's enum member names
 * without their BPF_PROG_TYPE_ / BPF_ prefixes; numbers come from uapi at load time.
 */

/**
 * How a section name must look for a definition to match it: 'exact', or 'plus' (libbpf's
 * `type+`): the prefix alone or followed by '/' and extras. libbpf 1.0 dropped the legacy
 * loose prefix matching ('xdp_foo'), and so does tsbpf.
 */
type Match = 'exact' | 'plus';

/** What libbpf knows about a section name. */
export interface SectionDef {
  /** The prefix as libbpf spells it, without the '+'. */
  prefix: string;
  match: Match;
  /** Program type, e.g. 'TRACEPOINT' for BPF_PROG_TYPE_TRACEPOINT. */
  progType: string;
  /** Expected attach type, e.g. 'TRACE_RAW_TP' for BPF_TRACE_RAW_TP, or undefined. */
  attachType?: string;
  /** The program needs a BTF id of its attach target (fentry, tp_btf, lsm, iter, ...). */
  attachBtf?: boolean;
  sleepable?: boolean;
  /** XDP programs that handle multi-buffer packets (BPF_F_XDP_HAS_FRAGS). */
  xdpFrags?: boolean;
  /** USDT programs need the usdt.bpf.h spec maps. */
  usdt?: boolean;
  /** Which link module auto-attaches this program kind, if it can. */
  autoAttach?: AttachKind;
}

/** The attach kinds the loader's links know, one link module each. */
export type AttachKind =
  | 'kprobe'
  | 'kprobe.multi'
  | 'kprobe.session'
  | 'ksyscall'
  | 'uprobe'
  | 'uprobe.multi'
  | 'usdt'
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'tracing'
  | 'lsm'
  | 'iter';

type Row = [prefix: string, progType: string, attachType: string | undefined, flags: string, attach?: AttachKind];

// Flags column: '+' = prefix or prefix/extras, B = needs attach BTF id,
// S = sleepable, F = xdp frags, U = usdt.
const ROWS: readonly Row[] = [
  ['socket', 'SOCKET_FILTER', undefined, ''],
  ['sk_reuseport/migrate', 'SK_REUSEPORT', 'SK_REUSEPORT_SELECT_OR_MIGRATE', ''],
  ['sk_reuseport', 'SK_REUSEPORT', 'SK_REUSEPORT_SELECT', ''],
  ['kprobe', 'KPROBE', undefined, '+', 'kprobe'],
  ['uprobe', 'KPROBE', undefined, '+', 'uprobe'],
  ['uprobe.s', 'KPROBE', undefined, '+S', 'uprobe'],
  ['kretprobe', 'KPROBE', undefined, '+', 'kprobe'],
  ['uretprobe', 'KPROBE', undefined, '+', 'uprobe'],
  ['uretprobe.s', 'KPROBE', undefined, '+S', 'uprobe'],
  ['kprobe.multi', 'KPROBE', 'TRACE_KPROBE_MULTI', '+', 'kprobe.multi'],
  ['kretprobe.multi', 'KPROBE', 'TRACE_KPROBE_MULTI', '+', 'kprobe.multi'],
  ['kprobe.session', 'KPROBE', 'TRACE_KPROBE_SESSION', '+', 'kprobe.session'],
  ['uprobe.multi', 'KPROBE', 'TRACE_UPROBE_MULTI', '+', 'uprobe.multi'],
  ['uretprobe.multi', 'KPROBE', 'TRACE_UPROBE_MULTI', '+', 'uprobe.multi'],
  ['uprobe.session', 'KPROBE', 'TRACE_UPROBE_SESSION', '+', 'uprobe.multi'],
  ['uprobe.multi.s', 'KPROBE', 'TRACE_UPROBE_MULTI', '+S', 'uprobe.multi'],
  ['uretprobe.multi.s', 'KPROBE', 'TRACE_UPROBE_MULTI', '+S', 'uprobe.multi'],
  ['uprobe.session.s', 'KPROBE', 'TRACE_UPROBE_SESSION', '+S', 'uprobe.multi'],
  ['ksyscall', 'KPROBE', undefined, '+', 'ksyscall'],
  ['kretsyscall', 'KPROBE', undefined, '+', 'ksyscall'],
  ['usdt', 'KPROBE', undefined, '+U', 'usdt'],
  ['usdt.s', 'KPROBE', undefined, '+US', 'usdt'],
  ['tc/ingress', 'SCHED_CLS', 'TCX_INGRESS', ''],
  ['tc/egress', 'SCHED_CLS', 'TCX_EGRESS', ''],
  ['tcx/ingress', 'SCHED_CLS', 'TCX_INGRESS', ''],
  ['tcx/egress', 'SCHED_CLS', 'TCX_EGRESS', ''],
  ['tc', 'SCHED_CLS', undefined, ''],
  ['classifier', 'SCHED_CLS', undefined, ''],
  ['action', 'SCHED_ACT', undefined, ''],
  ['netkit/primary', 'SCHED_CLS', 'NETKIT_PRIMARY', ''],
  ['netkit/peer', 'SCHED_CLS', 'NETKIT_PEER', ''],
  ['tracepoint', 'TRACEPOINT', undefined, '+', 'tracepoint'],
  ['tp', 'TRACEPOINT', undefined, '+', 'tracepoint'],
  ['tracepoint.s', 'TRACEPOINT', undefined, '+S', 'tracepoint'],
  ['tp.s', 'TRACEPOINT', undefined, '+S', 'tracepoint'],
  ['raw_tracepoint', 'RAW_TRACEPOINT', undefined, '+', 'raw_tracepoint'],
  ['raw_tp', 'RAW_TRACEPOINT', undefined, '+', 'raw_tracepoint'],
  ['raw_tracepoint.s', 'RAW_TRACEPOINT', undefined, '+S', 'raw_tracepoint'],
  ['raw_tp.s', 'RAW_TRACEPOINT', undefined, '+S', 'raw_tracepoint'],
  ['raw_tracepoint.w', 'RAW_TRACEPOINT_WRITABLE', undefined, '+', 'raw_tracepoint'],
  ['raw_tp.w', 'RAW_TRACEPOINT_WRITABLE', undefined, '+', 'raw_tracepoint'],
  ['tp_btf', 'TRACING', 'TRACE_RAW_TP', '+B', 'tracing'],
  ['tp_btf.s', 'TRACING', 'TRACE_RAW_TP', '+BS', 'tracing'],
  ['fentry', 'TRACING', 'TRACE_FENTRY', '+B', 'tracing'],
  ['fmod_ret', 'TRACING', 'MODIFY_RETURN', '+B', 'tracing'],
  ['fexit', 'TRACING', 'TRACE_FEXIT', '+B', 'tracing'],
  ['fentry.s', 'TRACING', 'TRACE_FENTRY', '+BS', 'tracing'],
  ['fmod_ret.s', 'TRACING', 'MODIFY_RETURN', '+BS', 'tracing'],
  ['fexit.s', 'TRACING', 'TRACE_FEXIT', '+BS', 'tracing'],
  ['freplace', 'EXT', undefined, '+B', 'tracing'],
  ['lsm', 'LSM', 'LSM_MAC', '+B', 'lsm'],
  ['lsm.s', 'LSM', 'LSM_MAC', '+BS', 'lsm'],
  ['lsm_cgroup', 'LSM', 'LSM_CGROUP', '+B'],
  ['iter', 'TRACING', 'TRACE_ITER', '+B', 'iter'],
  ['iter.s', 'TRACING', 'TRACE_ITER', '+BS', 'iter'],
  ['syscall', 'SYSCALL', undefined, 'S'],
  ['xdp.frags/devmap', 'XDP', 'XDP_DEVMAP', 'F'],
  ['xdp/devmap', 'XDP', 'XDP_DEVMAP', ''],
  ['xdp.frags/cpumap', 'XDP', 'XDP_CPUMAP', 'F'],
  ['xdp/cpumap', 'XDP', 'XDP_CPUMAP', ''],
  ['xdp.frags', 'XDP', 'XDP', 'F'],
  ['xdp', 'XDP', 'XDP', ''],
  ['perf_event', 'PERF_EVENT', undefined, ''],
  ['lwt_in', 'LWT_IN', undefined, ''],
  ['lwt_out', 'LWT_OUT', undefined, ''],
  ['lwt_xmit', 'LWT_XMIT', undefined, ''],
  ['lwt_seg6local', 'LWT_SEG6LOCAL', undefined, ''],
  ['sockops', 'SOCK_OPS', 'CGROUP_SOCK_OPS', ''],
  ['sk_skb/stream_parser', 'SK_SKB', 'SK_SKB_STREAM_PARSER', ''],
  ['sk_skb/stream_verdict', 'SK_SKB', 'SK_SKB_STREAM_VERDICT', ''],
  ['sk_skb/verdict', 'SK_SKB', 'SK_SKB_VERDICT', ''],
  ['sk_skb', 'SK_SKB', undefined, ''],
  ['sk_msg', 'SK_MSG', 'SK_MSG_VERDICT', ''],
  ['lirc_mode2', 'LIRC_MODE2', 'LIRC_MODE2', ''],
  ['flow_dissector', 'FLOW_DISSECTOR', 'FLOW_DISSECTOR', ''],
  ['cgroup_skb/ingress', 'CGROUP_SKB', 'CGROUP_INET_INGRESS', ''],
  ['cgroup_skb/egress', 'CGROUP_SKB', 'CGROUP_INET_EGRESS', ''],
  ['cgroup/skb', 'CGROUP_SKB', undefined, ''],
  ['cgroup/sock_create', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_CREATE', ''],
  ['cgroup/sock_release', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_RELEASE', ''],
  ['cgroup/sock', 'CGROUP_SOCK', 'CGROUP_INET_SOCK_CREATE', ''],
  ['cgroup/post_bind4', 'CGROUP_SOCK', 'CGROUP_INET4_POST_BIND', ''],
  ['cgroup/post_bind6', 'CGROUP_SOCK', 'CGROUP_INET6_POST_BIND', ''],
  ['cgroup/bind4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_BIND', ''],
  ['cgroup/bind6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_BIND', ''],
  ['cgroup/connect4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_CONNECT', ''],
  ['cgroup/connect6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_CONNECT', ''],
  ['cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_CONNECT', ''],
  ['cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP4_SENDMSG', ''],
  ['cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP6_SENDMSG', ''],
  ['cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_SENDMSG', ''],
  ['cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP4_RECVMSG', ''],
  ['cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'CGROUP_UDP6_RECVMSG', ''],
  ['cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_RECVMSG', ''],
  ['cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_GETPEERNAME', ''],
  ['cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_GETPEERNAME', ''],
  ['cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_GETPEERNAME', ''],
  ['cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'CGROUP_INET4_GETSOCKNAME', ''],
  ['cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'CGROUP_INET6_GETSOCKNAME', ''],
  ['cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'CGROUP_UNIX_GETSOCKNAME', ''],
  ['cgroup/sysctl', 'CGROUP_SYSCTL', 'CGROUP_SYSCTL', ''],
  ['cgroup/getsockopt', 'CGROUP_SOCKOPT', 'CGROUP_GETSOCKOPT', ''],
  ['cgroup/setsockopt', 'CGROUP_SOCKOPT', 'CGROUP_SETSOCKOPT', ''],
  ['cgroup/dev', 'CGROUP_DEVICE', 'CGROUP_DEVICE', ''],
  ['struct_ops', 'STRUCT_OPS', undefined, '+'],
  ['struct_ops.s', 'STRUCT_OPS', undefined, '+S'],
  ['sk_lookup', 'SK_LOOKUP', 'SK_LOOKUP', ''],
  ['netfilter', 'NETFILTER', 'NETFILTER', ''],
];

/** Every section definition, in libbpf's matching order. */
export const SECTION_DEFS: readonly SectionDef[] = ROWS.map(([prefix, progType, attachType, flags, autoAttach]) => {
  const def: SectionDef = {
    prefix,
    match: flags.includes('+') ? 'plus' : 'exact',
    progType,
  };
  if (attachType) def.attachType = attachType;
  if (flags.includes('B')) def.attachBtf = true;
  if (flags.includes('S')) def.sleepable = true;
  if (flags.includes('F')) def.xdpFrags = true;
  if (flags.includes('U')) def.usdt = true;
  if (autoAttach) def.autoAttach = autoAttach;
  return def;
});

/** A section name resolved against the table. */
export interface SectionMatch {
  def: SectionDef;
  /** What follows 'prefix/' (e.g. 'syscalls/sys_enter_execve'), or '' when nothing does. */
  extras: string;
}

/**
 * Finds the definition libbpf would pick for a section name, in the table's order.
 *
 * @example
 * matchSection('tracepoint/syscalls/sys_enter_execve');
 * // { def: { prefix: 'tracepoint', progType: 'TRACEPOINT', ... }, extras: 'syscalls/sys_enter_execve' }
 */
export function matchSection(name: string): SectionMatch | undefined {
  for (const def of SECTION_DEFS) {
    if (name === def.prefix) return { def, extras: '' };
    if (def.match === 'plus' && name.startsWith(def.prefix + '/')) {
      return { def, extras: name.slice(def.prefix.length + 1) };
    }
  }
  return undefined;
}
