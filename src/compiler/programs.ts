/**
 * What each program declarator compiles to: its ELF section (libbpf's SEC() names), program
 * type, context (tracefs record, uapi struct or BTF-typed arguments), the return values the
 * verifier accepts, and the helpers the program type may call.
 */
import type { TracepointField } from '../tracefs/format.js';
import { readTracepointFormat, ensureTracefs } from '../tracefs/mount.js';
import { helperById } from '../uapi/helper-table.js';
import { FuncId } from '../uapi/enums.js';
import { fail, type Span } from './diagnostics.js';
import { contextRules, type ContextRules } from './context-access.js';
import { HELPER_ALLOW } from './helper-allow.js';
import type { KernelTypes } from './kernel-types.js';
import type { ProgramDecl } from './module.js';
import { BOOL, INT, intOf, type Field, type StructType, type Type } from './types.js';

/** How a program receives its input. */
export type ContextKind =
  /** r1 points at a struct read with direct loads. */
  | { kind: 'struct'; struct: StructType; cName: string }
  /** r1 points at an array of u64 arguments (tp_btf, fentry, fexit, LSM). */
  | { kind: 'args'; params: Array<{ name: string; type: Type }>; ret?: Type };

/** Everything about one program the lowering needs. */
export interface ProgramInfo {
  declarator: string;
  section: string;
  progType: string;
  context: ContextKind;
  /** Verdicts the verifier accepts (inclusive), when it restricts them. */
  returns?: [number, number];
  /** Which context fields the program may read and write, and how wide (context-access.ts). */
  contextAccess: ContextRules;
  /** Packet access through packetAt() (xdp, tc, skb programs). */
  packet?: { data: number; end: number };
  /** Fails when the program type may not call helper `id` or the license forbids it. */
  checkHelper(id: number, what: string, at: Span | undefined, license: string): void;
}

/**
 * Helpers the kernel restricts to GPL-compatible programs (gpl_only in their bpf_func_proto):
 * the verifier refuses them otherwise, so the compiler says so first.
 */
const GPL_ONLY = new Set<number>([
  FuncId.probe_read, FuncId.probe_read_str, FuncId.probe_read_kernel, FuncId.probe_read_kernel_str,
  FuncId.probe_read_user, FuncId.probe_read_user_str, FuncId.trace_printk, FuncId.get_current_task,
  FuncId.get_current_task_btf, FuncId.perf_event_output, FuncId.get_stackid, FuncId.get_stack,
  FuncId.probe_write_user, FuncId.override_return, FuncId.skb_output, FuncId.xdp_output,
]);

/** License strings the kernel treats as GPL-compatible (license_is_gpl_compatible). */
export function gplCompatible(license: string): boolean {
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}

const DECLARATOR_TYPES: Record<string, string> = {
  tracepoint: 'TRACEPOINT', rawTracepoint: 'RAW_TRACEPOINT', tpBtf: 'TRACING', fentry: 'TRACING', fexit: 'TRACING',
  kprobe: 'KPROBE', kretprobe: 'KPROBE', uprobe: 'KPROBE', uretprobe: 'KPROBE', usdt: 'KPROBE',
  cgroupDev: 'CGROUP_DEVICE', cgroupSkb: 'CGROUP_SKB', cgroupSock: 'CGROUP_SOCK', xdp: 'XDP', tc: 'SCHED_CLS',
  socketFilter: 'SOCKET_FILTER', lsm: 'LSM', perfEvent: 'PERF_EVENT',
};

const ARG_COUNTS: Record<string, number> = {
  tracepoint: 2, rawTracepoint: 1, tpBtf: 1, fentry: 1, fexit: 1, kprobe: 1, kretprobe: 1, uprobe: 2, uretprobe: 2,
  usdt: 3, cgroupDev: 0, cgroupSkb: 1, cgroupSock: 1, xdp: 0, tc: 1, socketFilter: 0, lsm: 1, perfEvent: 0,
};

/** The dialect type of a tracefs format field (shared with the lang declaration generator). */
export function tracepointFieldType(f: Pick<TracepointField, 'type' | 'size' | 'signed' | 'arrayLength'>): Type {
  const t = f.type.trim();
  if (t.startsWith('__data_loc')) return INT.u32;
  if (f.arrayLength > 0) {
    const elemSize = f.size / f.arrayLength;
    if (elemSize === 1 && /^(const\s+)?(unsigned\s+)?char\b/.test(t) && !t.includes('*')) return { kind: 'chars', length: f.arrayLength };
    if (t.includes('*')) return { kind: 'array', elem: INT.u64, length: f.arrayLength };
    return { kind: 'array', elem: [1, 2, 4, 8].includes(elemSize) ? intOf(elemSize, f.signed) : INT.u8, length: [1, 2, 4, 8].includes(elemSize) ? f.arrayLength : f.size };
  }
  if (t.includes('*')) return { kind: 'ptr', pointee: /\bchar\s*\*$/.test(t) ? INT.u8 : { kind: 'void' }, space: 'any' };
  if (/^(const\s+)?bool$/.test(t) && f.size === 1) return BOOL;
  if ([1, 2, 4, 8].includes(f.size)) return intOf(f.size, f.signed);
  return { kind: 'array', elem: INT.u8, length: f.size };
}

/** The context struct of tracepoint category/name from its tracefs format. */
function tracepointContext(category: string, name: string, at: Span): StructType {
  let format;
  try {
    format = readTracepointFormat(category, name);
    if (!format) {
      ensureTracefs();
      format = readTracepointFormat(category, name);
    }
  } catch (e) {
    fail(at, `cannot read the format of tracepoint ${category}/${name}: ${(e as Error).message}`, 'mount tracefs (mount -t tracefs nodev /sys/kernel/tracing) and compile as root');
  }
  if (!format) fail(at, `there is no tracepoint ${category}/${name} on this kernel`, 'list them with: ls /sys/kernel/tracing/events/<category>');
  const fields: Field[] = format.fields.map((f) => ({ name: f.name, type: tracepointFieldType(f), offset: f.offset }));
  const last = format.fields[format.fields.length - 1];
  const size = last ? last.offset + last.size : 8;
  return { kind: 'struct', name: `${category}/${name}`, cName: `trace_event_raw_${name}`, size: Math.ceil(size / 8) * 8, align: 8, fields, origin: 'context' };
}

/** The information of a program declaration (reading tracefs or kernel BTF as needed). */
export function programInfo(p: ProgramDecl, kernel: KernelTypes): ProgramInfo {
  const at = p.at;
  const want = ARG_COUNTS[p.declarator]!;
  if (p.args.length !== want) fail(at, `${p.declarator}() takes ${want} string argument${want === 1 ? '' : 's'} before the body, not ${p.args.length}`, 'see its declaration in tsbpf/lang');
  const [a, b, c] = p.args;
  const progType = DECLARATOR_TYPES[p.declarator]!;
  const uapi = (cName: string): ContextKind => ({ kind: 'struct', struct: kernel.contextStruct(cName, at), cName });
  const dir = (x: string | undefined, allowed: string[]): string => {
    if (!x || !allowed.includes(x)) fail(at, `${p.declarator}() needs one of ${allowed.map((s) => `'${s}'`).join(', ')}, not '${x}'`, `e.g. ${p.declarator}('${allowed[0]}', (ctx) => ...)`);
    return x;
  };
  const nonEmpty = (x: string | undefined, what: string): string => {
    if (!x || /[\s]/.test(x)) fail(at, `${p.declarator}() needs a ${what}`, `e.g. ${p.declarator}('name', ...)`);
    return x;
  };
  let section: string;
  let context: ContextKind;
  let returns: [number, number] | undefined;
  let packet: ProgramInfo['packet'];
  switch (p.declarator) {
    case 'tracepoint':
      section = `tracepoint/${nonEmpty(a, 'category')}/${nonEmpty(b, 'tracepoint name')}`;
      context = { kind: 'struct', struct: tracepointContext(a!, b!, at), cName: `trace_event_raw_${b}` };
      break;
    case 'rawTracepoint': {
      section = `raw_tracepoint/${nonEmpty(a, 'tracepoint name')}`;
      const struct: StructType = { kind: 'struct', name: 'bpf_raw_tracepoint_args', cName: 'bpf_raw_tracepoint_args', size: 96, align: 8, origin: 'context', fields: [{ name: 'args', type: { kind: 'array', elem: INT.u64, length: 12 }, offset: 0 }] };
      context = { kind: 'struct', struct, cName: 'bpf_raw_tracepoint_args' };
      break;
    }
    case 'tpBtf': {
      section = `tp_btf/${nonEmpty(a, 'tracepoint name')}`;
      const f = kernel.functionParams('tracepoint', a!, at);
      if (!f) fail(at, `the kernel's BTF has no tracepoint '${a}' (btf_trace_${a})`, 'check the name in /sys/kernel/tracing/available_events (without the category)');
      context = { kind: 'args', params: f.params };
      break;
    }
    case 'fentry':
    case 'fexit':
    case 'lsm': {
      const fnName = p.declarator === 'lsm' ? `bpf_lsm_${nonEmpty(a, 'LSM hook')}` : nonEmpty(a, 'kernel function');
      section = `${p.declarator}/${a}`;
      const f = kernel.functionParams('func', fnName, at);
      if (!f) fail(at, `the kernel's BTF has no function '${fnName}'`, p.declarator === 'lsm' ? 'check the hook name (security_<hook> in the kernel, without the prefix)' : 'check the name in /proc/kallsyms');
      context = p.declarator === 'fexit' ? { kind: 'args', params: f.params, ret: f.ret } : { kind: 'args', params: f.params };
      break;
    }
    case 'kprobe':
    case 'kretprobe':
      section = `${p.declarator}/${nonEmpty(a, 'kernel function')}`;
      context = uapi('pt_regs');
      break;
    case 'uprobe':
    case 'uretprobe':
      section = `${p.declarator}/${nonEmpty(a, 'binary path')}:${nonEmpty(b, 'symbol')}`;
      context = uapi('pt_regs');
      break;
    case 'usdt':
      section = `usdt/${nonEmpty(a, 'binary path')}:${nonEmpty(b, 'provider')}:${nonEmpty(c, 'probe name')}`;
      context = uapi('pt_regs');
      break;
    case 'cgroupDev':
      section = 'cgroup/dev';
      context = uapi('bpf_cgroup_dev_ctx');
      returns = [0, 1];
      break;
    case 'cgroupSkb':
      section = `cgroup_skb/${dir(a, ['ingress', 'egress'])}`;
      context = uapi('__sk_buff');
      returns = [0, 1];
      packet = { data: 76, end: 80 };
      break;
    case 'cgroupSock':
      section = `cgroup/${dir(a, ['sock_create', 'sock_release', 'post_bind4', 'post_bind6'])}`;
      context = uapi('bpf_sock');
      returns = [0, 1];
      break;
    case 'xdp':
      section = 'xdp';
      context = uapi('xdp_md');
      packet = { data: 0, end: 4 };
      break;
    case 'tc':
      // 'tc' rather than tcx/<direction>: libbpf before 1.3 knows only the former, and TC
      // programs are attached to an interface given at run time anyway.
      dir(a, ['ingress', 'egress']);
      section = 'tc';
      context = uapi('__sk_buff');
      packet = { data: 76, end: 80 };
      break;
    case 'socketFilter':
      section = 'socket';
      context = uapi('__sk_buff');
      break;
    case 'perfEvent':
      section = 'perf_event';
      context = uapi('bpf_perf_event_data');
      break;
    default:
      fail(at, `unknown program declarator ${p.declarator}`, 'see tsbpf/lang for the declarators');
  }
  const allowed = HELPER_ALLOW[progType];
  const info: ProgramInfo = {
    declarator: p.declarator,
    section,
    progType,
    context,
    contextAccess: contextRules(p.declarator, a),
    checkHelper(id, what, where, license) {
      const proto = helperById(id);
      const name = proto?.name ?? `helper ${id}`;
      if (allowed && !allowed.includes(id)) {
        fail(where, `${what} (${name}) is not allowed in ${p.declarator} programs (BPF_PROG_TYPE_${progType})`, suggest(id, p.declarator));
      }
      if (GPL_ONLY.has(id) && !gplCompatible(license)) {
        fail(where, `${what} (${name}) is only available to GPL-compatible programs`, license ? `declare license('GPL') instead of '${license}'` : "declare license('GPL') at the top level");
      }
    },
  };
  if (returns) info.returns = returns;
  if (packet) info.packet = packet;
  return info;
}

function suggest(id: number, declarator: string): string {
  if (id === FuncId.probe_read_kernel || id === FuncId.probe_read_user) return `${declarator} programs cannot read arbitrary memory; use a tracing program (tracepoint, kprobe, tp_btf) for this`;
  if (id === FuncId.trace_printk) return 'report values through a map or a ring buffer instead';
  if (id === FuncId.get_current_task_btf) return 'use bpf.getCurrentTask() (probe reads) in this program type';
  return 'use another helper, or move this logic into a program type that may call it';
}
