/**
 * What a program's context (r1 at entry) points to, by program type, so that loads from it can
 * be named: the UAPI struct of the type (`struct xdp_md`, `struct bpf_cgroup_dev_ctx`, ...), a
 * tracepoint's record from its tracefs format, or the argument array of BTF-typed programs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BtfKind, parseBtf, resolveType, type Btf } from '../../btf/index.js';
import { matchSection } from '../../object/sections.js';
import { readTracepointFormat } from '../../tracefs/index.js';
import { fieldPath } from './field-path.js';

/** Names the context field at (offset, size), e.g. 'minor' or 'args[1]'. */
export type ContextNamer = (offset: number, size: number) => string | undefined;

/** The UAPI context struct of each program type that has one. */
const CONTEXT_STRUCTS: Readonly<Record<string, string>> = {
  SOCKET_FILTER: '__sk_buff',
  SCHED_CLS: '__sk_buff',
  SCHED_ACT: '__sk_buff',
  CGROUP_SKB: '__sk_buff',
  LWT_IN: '__sk_buff',
  LWT_OUT: '__sk_buff',
  LWT_XMIT: '__sk_buff',
  LWT_SEG6LOCAL: '__sk_buff',
  SK_SKB: '__sk_buff',
  FLOW_DISSECTOR: '__sk_buff',
  XDP: 'xdp_md',
  CGROUP_DEVICE: 'bpf_cgroup_dev_ctx',
  CGROUP_SOCK: 'bpf_sock',
  CGROUP_SOCK_ADDR: 'bpf_sock_addr',
  SOCK_OPS: 'bpf_sock_ops',
  SK_MSG: 'sk_msg_md',
  SK_LOOKUP: 'bpf_sk_lookup',
  RAW_TRACEPOINT: 'bpf_raw_tracepoint_args',
  RAW_TRACEPOINT_WRITABLE: 'bpf_raw_tracepoint_args',
  PERF_EVENT: 'bpf_perf_event_data',
  KPROBE: 'pt_regs',
  CGROUP_SYSCTL: 'bpf_sysctl',
  CGROUP_SOCKOPT: 'bpf_sockopt',
};

const VMLINUX = '/sys/kernel/btf/vmlinux';
let vmlinux: Btf | null | undefined;

/** The running kernel's BTF, read once; undefined when the kernel publishes none. */
export function vmlinuxBtf(): Btf | undefined {
  if (vmlinux === undefined) vmlinux = existsSync(VMLINUX) ? parseBtf(readFileSync(VMLINUX)) : null;
  return vmlinux ?? undefined;
}

function structIn(btf: Btf | undefined, name: string): { btf: Btf; id: number } | undefined {
  const found = btf?.typeByName(name, BtfKind.STRUCT);
  return found && btf ? { btf, id: found.id } : undefined;
}

/**
 * The context namer for programs in section `sectionName`, or undefined when the program type
 * or its layout is unknown. The object's own BTF is tried before the kernel's.
 */
export function contextNamer(sectionName: string, objectBtf: Btf | undefined): ContextNamer | undefined {
  const match = matchSection(sectionName);
  if (!match) return undefined;
  const { def, extras } = match;
  if (def.progType === 'TRACEPOINT') {
    const [category, name] = extras.split('/');
    const format = category && name ? readTracepointFormat(category, name) : undefined;
    if (!format) return undefined;
    return (offset, size) => {
      const f = format.fields.find((x) => offset >= x.offset && offset + size <= x.offset + x.size);
      if (!f) return undefined;
      const elem = f.arrayLength > 0 ? f.size / f.arrayLength : 0;
      return elem > 0 && offset > f.offset ? `${f.name}[${(offset - f.offset) / elem}]` : f.name;
    };
  }
  if (def.progType === 'TRACING' || def.progType === 'LSM' || def.progType === 'EXT') return argumentNamer(def.attachType, extras);
  const structName = CONTEXT_STRUCTS[def.progType];
  if (!structName) return undefined;
  const where = structIn(objectBtf, structName) ?? structIn(vmlinuxBtf(), structName);
  if (!where) return undefined;
  return (offset, size) => fieldPath(where.btf, where.id, offset, size);
}

/** BTF-typed programs get `u64 ctx[]`: one slot per argument of the traced function. */
function argumentNamer(attachType: string | undefined, target: string): ContextNamer | undefined {
  const btf = vmlinuxBtf();
  if (!btf || !target) return undefined;
  let params: string[] | undefined;
  let withReturn = false;
  if (attachType === 'TRACE_RAW_TP') {
    // tp_btf/X: typedef void (*btf_trace_X)(void *__data, args...)
    const td = btf.typeByName(`btf_trace_${target}`, BtfKind.TYPEDEF);
    const proto = td ? protoParams(btf, resolveType(btf, td.id), true) : undefined;
    params = proto?.slice(1);
  } else {
    const fn = btf.typeByName(attachType === 'LSM_MAC' ? `bpf_lsm_${target}` : target, BtfKind.FUNC);
    if (fn && fn.type.kind === BtfKind.FUNC) params = protoParams(btf, fn.type.type, false);
    withReturn = attachType === 'TRACE_FEXIT' || attachType === 'MODIFY_RETURN';
  }
  if (!params) return undefined;
  const names = params;
  return (offset, size) => {
    if (offset % 8 !== 0 || size !== 8) return undefined;
    const i = offset / 8;
    if (i < names.length) return `[${i}] (${names[i]})`;
    return withReturn && i === names.length ? `[${i}] (return value)` : undefined;
  };
}

function protoParams(btf: Btf, id: number, viaPointer: boolean): string[] | undefined {
  let protoId = id;
  if (viaPointer && protoId !== 0 && btf.kindOf(protoId) === BtfKind.PTR) protoId = resolveType(btf, btf.sizeOrType(protoId));
  if (protoId === 0) return undefined;
  const t = btf.type(protoId);
  return t.kind === BtfKind.FUNC_PROTO ? t.params.map((p) => p.name || '?') : undefined;
}
