/**
 * Program declarators: one per attach kind. Each names where the program attaches, which gives
 * its ELF section (libbpf's SEC() convention) and so its program type, and takes the program
 * body as an arrow function of its context:
 *
 *     export const onExec = tracepoint('syscalls', 'sys_enter_execve', (ctx) => { ...; return 0; });
 *
 * The exported name is the program's name. In Node a declarator returns a ProgramDescriptor
 * (kind, program type, section) and never runs the body.
 */
import type { BpfCgroupDevCtx, BpfPerfEventData, BpfRawTracepointArgs, BpfSock, BtfTracepoints, PtRegs, SkBuff, XdpMd } from './kernel.js';
import type { TracepointContext } from './tracepoints.js';

/** What a program declarator gives in Node. */
export interface ProgramDescriptor {
  readonly kind: 'program';
  /** Program type as in `ProgType` ('TRACEPOINT', 'XDP', ...). */
  readonly type: string;
  /** ELF section name, e.g. 'tracepoint/syscalls/sys_enter_execve'. */
  readonly section: string;
}

/** What a program body returns: its verdict, or nothing (0). */
export type ProgramResult = number | void;

function program(type: string, section: string): ProgramDescriptor {
  return { kind: 'program', type, section };
}

/**
 * A tracepoint program (BPF_PROG_TYPE_TRACEPOINT, Linux 4.7): runs on
 * /sys/kernel/tracing/events/`category`/`name`, with the event's record as context, typed from
 * the tracepoint's format file. Section `tracepoint/category/name`.
 *
 * @example
 * export const onExec = tracepoint('syscalls', 'sys_enter_execve', (ctx) => { bpf.printk('%s\n', ctx.filename); });
 */
export function tracepoint<C extends string, N extends string>(category: C, name: N, _body: (ctx: TracepointContext<C, N>) => ProgramResult): ProgramDescriptor {
  return program('TRACEPOINT', `tracepoint/${category}/${name}`);
}

/**
 * A raw tracepoint program (BPF_PROG_TYPE_RAW_TRACEPOINT, Linux 4.17): the tracepoint's raw
 * arguments as u64s in `ctx.args`. Section `raw_tracepoint/name`.
 */
export function rawTracepoint(name: string, _body: (ctx: BpfRawTracepointArgs) => ProgramResult): ProgramDescriptor {
  return program('RAW_TRACEPOINT', `raw_tracepoint/${name}`);
}

/**
 * A BTF-typed raw tracepoint (BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, Linux 5.5): arguments
 * typed from vmlinux BTF (`btf_trace_<name>`); pointer arguments are read with direct loads.
 * Section `tp_btf/name`.
 *
 * @example
 * export const onExit = tpBtf('sched_process_exit', (task) => { bpf.printk('%d\n', task.real_parent.tgid); });
 */
export function tpBtf<N extends keyof BtfTracepoints>(name: N, body: (...args: BtfTracepoints[N]) => ProgramResult): ProgramDescriptor;
export function tpBtf<A extends unknown[]>(name: string, body: (...args: A) => ProgramResult): ProgramDescriptor;
export function tpBtf(name: string, _body: (...args: never[]) => ProgramResult): ProgramDescriptor {
  return program('TRACING', `tp_btf/${name}`);
}

/**
 * An fentry program (BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, Linux 5.5): runs at the entry of
 * kernel function `fn`, with its arguments (annotate them; the compiler checks them against
 * vmlinux BTF). Section `fentry/fn`.
 */
export function fentry<A extends unknown[]>(fn: string, _body: (...args: A) => ProgramResult): ProgramDescriptor {
  return program('TRACING', `fentry/${fn}`);
}

/**
 * An fexit program (BPF_TRACE_FEXIT, Linux 5.5): runs when `fn` returns, with its arguments and
 * then its return value. Section `fexit/fn`.
 */
export function fexit<A extends unknown[]>(fn: string, _body: (...args: A) => ProgramResult): ProgramDescriptor {
  return program('TRACING', `fexit/${fn}`);
}

/**
 * A kprobe (BPF_PROG_TYPE_KPROBE, Linux 4.1) on kernel function `fn`, with the registers as
 * context (`ctx.di` is the first argument on x86_64). Section `kprobe/fn`.
 */
export function kprobe(fn: string, _body: (ctx: PtRegs) => ProgramResult): ProgramDescriptor {
  return program('KPROBE', `kprobe/${fn}`);
}

/** A kretprobe on `fn`: runs when it returns (`ctx.ax` is the return value on x86_64). Section `kretprobe/fn`. */
export function kretprobe(fn: string, _body: (ctx: PtRegs) => ProgramResult): ProgramDescriptor {
  return program('KPROBE', `kretprobe/${fn}`);
}

/** A uprobe on `symbol` of the executable or library `binary` (Linux 4.3). Section `uprobe/binary:symbol`. */
export function uprobe(binary: string, symbol: string, _body: (ctx: PtRegs) => ProgramResult): ProgramDescriptor {
  return program('KPROBE', `uprobe/${binary}:${symbol}`);
}

/** A uretprobe: runs when `symbol` of `binary` returns. Section `uretprobe/binary:symbol`. */
export function uretprobe(binary: string, symbol: string, _body: (ctx: PtRegs) => ProgramResult): ProgramDescriptor {
  return program('KPROBE', `uretprobe/${binary}:${symbol}`);
}

/** A USDT probe `provider:name` in `binary` (a uprobe at the probe's address). Section `usdt/binary:provider:name`. */
export function usdt(binary: string, provider: string, name: string, _body: (ctx: PtRegs) => ProgramResult): ProgramDescriptor {
  return program('KPROBE', `usdt/${binary}:${provider}:${name}`);
}

/**
 * A device cgroup program (BPF_PROG_TYPE_CGROUP_DEVICE, Linux 4.15): return 1 to allow the
 * access to device `ctx.major:ctx.minor`, 0 to deny. Section `cgroup/dev`.
 */
export function cgroupDev(_body: (ctx: BpfCgroupDevCtx) => number): ProgramDescriptor {
  return program('CGROUP_DEVICE', 'cgroup/dev');
}

/** A cgroup socket-buffer program (BPF_PROG_TYPE_CGROUP_SKB, Linux 4.10): return 1 to pass, 0 to drop. Section `cgroup_skb/ingress|egress`. */
export function cgroupSkb(direction: 'ingress' | 'egress', _body: (ctx: SkBuff) => number): ProgramDescriptor {
  return program('CGROUP_SKB', `cgroup_skb/${direction}`);
}

/** A cgroup socket program (BPF_PROG_TYPE_CGROUP_SOCK, Linux 4.10): return 1 to allow, 0 to refuse. Section `cgroup/<hook>`. */
export function cgroupSock(hook: 'sock_create' | 'sock_release' | 'post_bind4' | 'post_bind6', _body: (ctx: BpfSock) => number): ProgramDescriptor {
  return program('CGROUP_SOCK', `cgroup/${hook}`);
}

/** An XDP program (BPF_PROG_TYPE_XDP, Linux 4.8): return an XdpAction. Section `xdp`. */
export function xdp(_body: (ctx: XdpMd) => number): ProgramDescriptor {
  return program('XDP', 'xdp');
}

/**
 * A TC classifier (BPF_PROG_TYPE_SCHED_CLS) for the ingress or egress hook: return a TcAction.
 * Section `tc` (libbpf of every version loads it); attach it to an interface with
 * `tcx(program, iface, direction)` (Linux 6.6) — the direction here documents the intent.
 */
export function tc(_direction: 'ingress' | 'egress', _body: (ctx: SkBuff) => number): ProgramDescriptor {
  return program('SCHED_CLS', 'tc');
}

/** A socket filter (BPF_PROG_TYPE_SOCKET_FILTER, Linux 3.19): return how many bytes to keep (0 drops). Section `socket`. */
export function socketFilter(_body: (ctx: SkBuff) => number): ProgramDescriptor {
  return program('SOCKET_FILTER', 'socket');
}

/** A BPF LSM program (BPF_PROG_TYPE_LSM, Linux 5.7) on hook `hook`: return 0 to allow, a negative errno to deny. Section `lsm/hook`. */
export function lsm<A extends unknown[]>(hook: string, _body: (...args: A) => number): ProgramDescriptor {
  return program('LSM', `lsm/${hook}`);
}

/** A perf event program (BPF_PROG_TYPE_PERF_EVENT, Linux 4.9): runs on each sample of the perf event it is attached to. Section `perf_event`. */
export function perfEvent(_body: (ctx: BpfPerfEventData) => ProgramResult): ProgramDescriptor {
  return program('PERF_EVENT', 'perf_event');
}

/** Declares the program's license (the `license` section); helpers such as bpf_probe_read_kernel need 'GPL'. */
export function license(_name: string): void {}

/**
 * What {@link constant} declares: a T in kernel code, marked (on the type level only) so that
 * `load<typeof Module>()` offers it as a typed `constants` option.
 */
export type Constant<T> = T & { readonly __tsbpfConstant: T };

/**
 * A constant user space may set before loading (a `const volatile` in .rodata):
 * `export const targetPid = constant<u32>(0)`, then `load(url, { constants: { targetPid: 42 } })`.
 * The verifier sees its final value, so branches on it cost nothing.
 */
export function constant<T>(value: T): Constant<T> {
  return value as Constant<T>;
}

/** XDP verdicts (enum xdp_action). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
/** An XDP verdict (in the kernel a u32, as enum xdp_action). */
export type XdpAction = (typeof XdpAction)[keyof typeof XdpAction];
/** TC verdicts (TC_ACT_* from include/uapi/linux/pkt_cls.h). */
export const TcAction = { UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7 } as const;
/** A TC verdict (in the kernel an i32: TC_ACT_UNSPEC is -1). */
export type TcAction = (typeof TcAction)[keyof typeof TcAction];
