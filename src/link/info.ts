/**
 * What the kernel says about a link: BPF_OBJ_GET_INFO_BY_FD with struct bpf_link_info, decoded
 * per link type (the union's member for that type), and enumeration of every link in the
 * system with BPF_LINK_GET_NEXT_ID, which `tsbpf link list` shows.
 */
import { cString } from '../bytes/reader.js';
import { newInfo, objectIds, objInfo, openById, type InfoField } from '../kernel/obj-info.js';
import type { Fd } from '../sys/index.js';
import { AttachType, LinkType } from '../uapi/enums.js';

/** A link type name as in `enum bpf_link_type` without BPF_LINK_TYPE_ ('PERF_EVENT', 'XDP', ...). */
export type LinkTypeName = keyof typeof LinkType;

/** enum bpf_perf_event_type (include/uapi/linux/bpf.h), lower-cased. */
const PERF_EVENT_TYPES = ['unspec', 'uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'tracepoint', 'event'] as const;
/** What a perf-event link is attached to. */
export type PerfEventKind = (typeof PERF_EVENT_TYPES)[number];

/** struct bpf_link_info, decoded. Only the fields of the link's type are set. */
export interface LinkInfo {
  id: number;
  /** The link type ('UNSPEC' for a type this build does not know, see `typeNumber`). */
  type: LinkTypeName;
  typeNumber: number;
  progId: number;
  /** cgroup, tracing, tcx, netkit, netns, sockmap links: the attach type. */
  attachType?: string;
  /** raw_tracepoint (also tp_btf) links and perf-event tracepoints: the tracepoint's name. */
  tracepoint?: string;
  /** tracing links: the BTF object (0 = vmlinux) and type id of the target. */
  targetObjId?: number;
  targetBtfId?: number;
  /** cgroup links. */
  cgroupId?: bigint;
  /** iter links: the iterator ('task', 'bpf_map_elem', ...), and its parameters. */
  iterTarget?: string;
  mapId?: number;
  pid?: number;
  tid?: number;
  /** netns links. */
  netnsIno?: number;
  /** xdp, tcx, netkit links. */
  ifindex?: number;
  /** perf-event links: what the perf event is. */
  perfEvent?: PerfEventKind;
  /** uprobe (perf or multi): the binary. */
  file?: string;
  /** kprobe: the function. */
  symbol?: string;
  /** kprobe/uprobe offset. */
  offset?: number;
  address?: bigint;
  refCtrOffset?: bigint;
  /** BPF cookie given at attach time. */
  cookie?: bigint;
  /** Probes missed (kprobe, kprobe.multi). */
  missed?: bigint;
  /** perf events: perf_event_attr type and config. */
  perfType?: number;
  config?: bigint;
  /** kprobe.multi / uprobe.multi: number of probes, and flags. */
  count?: number;
  flags?: number;
  /** netfilter links. */
  netfilter?: { pf: number; hooknum: number; priority: number; flags: number };
}

type Field = InfoField<'bpf_link_info'>;

const nameOf = <T extends Record<string, number>>(table: T, v: number): string => Object.entries(table).find(([, x]) => x === v)?.[0] ?? String(v);

/** The string fields each link type has: pointer field, length field. */
const STRING_FIELDS: Partial<Record<LinkTypeName, [Field, Field]>> = {
  RAW_TRACEPOINT: ['raw_tracepoint.tp_name', 'raw_tracepoint.tp_name_len'],
  ITER: ['iter.target_name', 'iter.target_name_len'],
  UPROBE_MULTI: ['uprobe_multi.path', 'uprobe_multi.path_size'],
  // uprobe file_name, kprobe func_name and tracepoint tp_name share offset and length field.
  PERF_EVENT: ['perf_event.tracepoint.tp_name', 'perf_event.tracepoint.name_len'],
};

/** Reads and decodes the bpf_link_info of a link fd. */
export function linkInfoOfFd(fd: number): LinkInfo {
  let info = objInfo(fd, newInfo('bpf_link_info'), 'link');
  const typeNumber = info.num('type');
  const type = (nameOf(LinkType, typeNumber) in LinkType ? nameOf(LinkType, typeNumber) : 'UNSPEC') as LinkTypeName;
  let name: string | undefined;
  const strings = STRING_FIELDS[type];
  const perfKind = PERF_EVENT_TYPES[info.num('perf_event.type')] ?? 'unspec';
  if (strings && !(type === 'PERF_EVENT' && (perfKind === 'event' || perfKind === 'unspec'))) {
    // The first call reported the length the string needs (NUL included), or nothing (PATH_MAX).
    const size = info.num(strings[1]) || 4096;
    const buf = new Uint8Array(size);
    info = objInfo(fd, newInfo('bpf_link_info').set(strings[0], buf).set(strings[1], size), 'link');
    name = cString(buf);
  }
  const out: LinkInfo = { id: info.num('id'), type, typeNumber, progId: info.num('prog_id') };
  const attach = (f: Field) => nameOf(AttachType, info.num(f));
  switch (type) {
    case 'RAW_TRACEPOINT':
      out.tracepoint = name;
      out.cookie = info.get('raw_tracepoint.cookie') as bigint;
      break;
    case 'TRACING':
      out.attachType = attach('tracing.attach_type');
      out.targetObjId = info.num('tracing.target_obj_id');
      out.targetBtfId = info.num('tracing.target_btf_id');
      out.cookie = info.get('tracing.cookie') as bigint;
      break;
    case 'CGROUP':
      out.cgroupId = info.get('cgroup.cgroup_id') as bigint;
      out.attachType = attach('cgroup.attach_type');
      break;
    case 'ITER':
      out.iterTarget = name;
      if (name === 'bpf_map_elem' || name === 'bpf_sk_storage_map' || name === 'sockmap') out.mapId = info.num('iter.map.map_id');
      if (name === 'task' || name === 'task_file' || name === 'task_vma') {
        out.tid = info.num('iter.task.tid');
        out.pid = info.num('iter.task.pid');
      }
      if (name === 'cgroup') out.cgroupId = info.get('iter.cgroup.cgroup_id') as bigint;
      break;
    case 'NETNS':
      out.netnsIno = info.num('netns.netns_ino');
      out.attachType = attach('netns.attach_type');
      break;
    case 'XDP':
      out.ifindex = info.num('xdp.ifindex');
      break;
    case 'TCX':
      out.ifindex = info.num('tcx.ifindex');
      out.attachType = attach('tcx.attach_type');
      break;
    case 'NETKIT':
      out.ifindex = info.num('netkit.ifindex');
      out.attachType = attach('netkit.attach_type');
      break;
    case 'SOCKMAP':
      out.mapId = info.num('sockmap.map_id');
      out.attachType = attach('sockmap.attach_type');
      break;
    case 'STRUCT_OPS':
      out.mapId = info.num('struct_ops.map_id');
      break;
    case 'NETFILTER':
      out.netfilter = { pf: info.num('netfilter.pf'), hooknum: info.num('netfilter.hooknum'), priority: info.num('netfilter.priority') | 0, flags: info.num('netfilter.flags') };
      break;
    case 'KPROBE_MULTI':
      out.count = info.num('kprobe_multi.count');
      out.flags = info.num('kprobe_multi.flags');
      out.missed = info.get('kprobe_multi.missed') as bigint;
      break;
    case 'UPROBE_MULTI':
      out.file = name;
      out.count = info.num('uprobe_multi.count');
      out.flags = info.num('uprobe_multi.flags');
      out.pid = info.num('uprobe_multi.pid');
      break;
    case 'PERF_EVENT':
      out.perfEvent = perfKind;
      if (perfKind === 'uprobe' || perfKind === 'uretprobe') {
        out.file = name;
        out.offset = info.num('perf_event.uprobe.offset');
        out.refCtrOffset = info.get('perf_event.uprobe.ref_ctr_offset') as bigint;
        out.cookie = info.get('perf_event.uprobe.cookie') as bigint;
      } else if (perfKind === 'kprobe' || perfKind === 'kretprobe') {
        out.symbol = name;
        out.offset = info.num('perf_event.kprobe.offset');
        out.address = info.get('perf_event.kprobe.addr') as bigint;
        out.missed = info.get('perf_event.kprobe.missed') as bigint;
        out.cookie = info.get('perf_event.kprobe.cookie') as bigint;
      } else if (perfKind === 'tracepoint') {
        out.tracepoint = name;
        out.cookie = info.get('perf_event.tracepoint.cookie') as bigint;
      } else if (perfKind === 'event') {
        out.perfType = info.num('perf_event.event.type');
        out.config = info.get('perf_event.event.config') as bigint;
        out.cookie = info.get('perf_event.event.cookie') as bigint;
      }
      break;
    default:
      break;
  }
  return out;
}

/** One line saying what a link is attached to, as `tsbpf link list` prints it. */
export function describeLinkInfo(info: LinkInfo): string {
  const parts: string[] = [];
  if (info.perfEvent && info.perfEvent !== 'tracepoint') parts.push(info.perfEvent);
  if (info.tracepoint !== undefined) parts.push(`tracepoint ${info.tracepoint}`);
  if (info.iterTarget !== undefined) parts.push(`iter ${info.iterTarget}`);
  if (info.symbol !== undefined) parts.push(`${info.symbol}+${info.offset ?? 0}`);
  if (info.file !== undefined) parts.push(info.offset !== undefined ? `${info.file}:0x${info.offset.toString(16)}` : info.file);
  if (info.refCtrOffset) parts.push(`ref_ctr 0x${info.refCtrOffset.toString(16)}`);
  if (info.attachType !== undefined) parts.push(info.attachType);
  if (info.cgroupId !== undefined) parts.push(`cgroup ${info.cgroupId}`);
  if (info.ifindex !== undefined) parts.push(`ifindex ${info.ifindex}`);
  if (info.netnsIno !== undefined) parts.push(`netns ${info.netnsIno}`);
  if (info.targetBtfId !== undefined) parts.push(`btf ${info.targetObjId}:${info.targetBtfId}`);
  if (info.mapId) parts.push(`map ${info.mapId}`);
  if (info.pid) parts.push(`pid ${info.pid}`);
  if (info.tid) parts.push(`tid ${info.tid}`);
  if (info.count !== undefined) parts.push(`${info.count} probes`);
  if (info.perfType !== undefined) parts.push(`perf type ${info.perfType} config ${info.config}`);
  if (info.netfilter) parts.push(`pf ${info.netfilter.pf} hook ${info.netfilter.hooknum} prio ${info.netfilter.priority}`);
  if (info.cookie) parts.push(`cookie ${info.cookie}`);
  return parts.join(' ');
}

/** Ids of every link in the system (BPF_LINK_GET_NEXT_ID), ascending. */
export function linkIds(): number[] {
  return objectIds('LINK');
}

/** An fd of link `id` (BPF_LINK_GET_FD_BY_ID), or undefined when it is gone. */
export function linkFdById(id: number): Fd | undefined {
  return openById('LINK', id);
}

/** The info of every link in the system (links that vanish meanwhile are skipped). */
export function listLinks(): LinkInfo[] {
  const out: LinkInfo[] = [];
  for (const id of linkIds()) {
    const fd = linkFdById(id);
    if (!fd) continue;
    try {
      out.push(linkInfoOfFd(fd.value));
    } finally {
      fd.close();
    }
  }
  return out;
}
