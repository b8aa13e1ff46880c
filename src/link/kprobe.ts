/**
 * kprobes and kretprobes: dynamic probes on (almost) any kernel function, for
 * BPF_PROG_TYPE_KPROBE programs, which get the registers (struct pt_regs) as context. Also
 * ksyscall: a kprobe on a system call's entry wrapper.
 */
import type { Program } from '../kernel/program.js';
import { NotSupportedError } from '../errors.js';
import { ensureTracefs } from '../tracefs/mount.js';
import { expectInteger, expectProgram } from './check.js';
import { InvalidAttachError } from './errors.js';
import type { Link } from './link.js';
import { attachPerfEvent } from './perf-attach.js';
import { legacyEventsFile, openLegacyProbe, openPmuProbe, pmuType, type ProbeSpec } from './probe-events.js';

/** Options of {@link kprobe} and {@link kretprobe}. */
export interface KprobeOptions {
  /** Bytes into the function (kprobe only; must be an instruction boundary). */
  offset?: number;
  /** A value the program reads with bpf_get_attach_cookie() (5.15+). */
  cookie?: bigint;
  /** kretprobe through tracefs: how many calls can be pending at once (default: the kernel's). */
  maxActive?: number;
}

const WHERE = 'valid names are the functions in /sys/kernel/tracing/available_filter_functions (or text symbols in /proc/kallsyms)';

/**
 * How this kernel makes kprobes: through the kprobe PMU, through tracefs, or not at all, which
 * is decided from the files the kernel publishes: /sys/bus/event_source/devices/kprobe (4.17+)
 * and kprobe_events in tracefs. Both exist with CONFIG_KPROBES (and CONFIG_KPROBE_EVENTS).
 */
export function kprobeMechanism(): { pmu: number } | { tracefs: string } {
  const pmu = pmuType('kprobe');
  if (pmu !== undefined) return { pmu };
  let legacy = legacyEventsFile('kprobe');
  if (legacy.root === undefined) {
    try {
      ensureTracefs();
    } catch (err) {
      throw new NotSupportedError('kprobe', `there is no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no tracefs to look for kprobe_events in: ${(err as Error).message}`);
    }
    legacy = legacyEventsFile('kprobe');
  }
  if (legacy.present) return { tracefs: legacy.root! };
  throw new NotSupportedError(
    'kprobe',
    `kprobes are not available: CONFIG_KPROBES is off in this kernel (there is no /sys/bus/event_source/devices/kprobe and no ${legacy.root}/kprobe_events); trace kernel functions with tracepoints, raw tracepoints or tp_btf instead`,
  );
}

function attachKprobe(program: Program, symbol: string, retprobe: boolean, options: KprobeOptions): Link {
  const kind = retprobe ? 'kretprobe' : 'kprobe';
  expectProgram(kind, program, ['KPROBE']);
  if (!/^[\w.$]+$/.test(symbol)) throw new InvalidAttachError(kind, `invalid kernel symbol '${symbol}'`);
  const offset = options.offset ?? 0;
  expectInteger(kind, 'offset', offset);
  if (retprobe && offset !== 0) throw new InvalidAttachError(kind, 'a kretprobe has no offset: it fires when the function returns');
  const label = offset ? `${symbol}+${offset}` : symbol;
  const spec: ProbeSpec = { kind: 'kprobe', retprobe, name: symbol, offset: BigInt(offset), label, maxActive: options.maxActive };
  const how = kprobeMechanism();
  if ('pmu' in how) {
    const perfFd = openPmuProbe(how.pmu, spec, WHERE);
    return attachPerfEvent(program, perfFd, 'kprobe', `${retprobe ? 'ret:' : ''}${label}`, { cookie: options.cookie });
  }
  const legacy = openLegacyProbe(how.tracefs, spec, WHERE);
  return attachPerfEvent(program, legacy.perfFd, 'kprobe', `${retprobe ? 'ret:' : ''}${label}`, { cookie: options.cookie }, [legacy.remove]);
}

/**
 * Attaches a kprobe program (BPF_PROG_TYPE_KPROBE) to the entry of kernel function `symbol`
 * (plus `offset` bytes). The program gets struct pt_regs: arguments via PT_REGS_PARM1..
 *
 * Valid names are in /sys/kernel/tracing/available_filter_functions (functions that can be
 * probed); /proc/kallsyms lists every symbol. Uses the kprobe PMU (4.17+), or tracefs's
 * kprobe_events on older kernels. On a kernel built without CONFIG_KPROBES this throws a
 * NotSupportedError saying so.
 *
 * Minimum kernel: 4.1; bpf_link (pinnable) from 5.15.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit
 * (which also removes a tracefs probe).
 *
 * @example
 * using link = kprobe(prog, 'do_unlinkat');
 */
export function kprobe(program: Program, symbol: string, options: KprobeOptions = {}): Link {
  return attachKprobe(program, symbol, false, options);
}

/**
 * Attaches a kprobe program to the return of kernel function `symbol`: it runs as the function
 * returns, with the return value in PT_REGS_RC. Otherwise as {@link kprobe}.
 *
 * @example
 * using link = kretprobe(prog, 'do_unlinkat');
 */
export function kretprobe(program: Program, symbol: string, options: Omit<KprobeOptions, 'offset'> = {}): Link {
  return attachKprobe(program, symbol, true, options);
}

/** The prefix of system call entry wrappers on this architecture (x86_64: __x64_sys_). */
export function syscallPrefix(arch: string = process.arch): string {
  const prefixes: Record<string, string> = { x64: '__x64_sys_', arm64: '__arm64_sys_', s390x: '__s390x_sys_', riscv64: '__riscv_sys_', ia32: '__ia32_sys_', ppc64: 'sys_' };
  return prefixes[arch] ?? 'sys_';
}

/**
 * Attaches a kprobe (or with `retprobe`, a kretprobe) to the kernel's entry point of system call
 * `name` ('openat', 'execve'), as libbpf's SEC("ksyscall/NAME") does: the arch-specific wrapper
 * (__x64_sys_NAME on x86_64, kernels 4.17+). Needs kprobes, like {@link kprobe}.
 *
 * @example
 * using link = ksyscall(prog, 'openat');
 */
export function ksyscall(program: Program, name: string, options: KprobeOptions & { retprobe?: boolean } = {}): Link {
  if (!/^\w+$/.test(name)) throw new InvalidAttachError('ksyscall', `invalid system call name '${name}'`);
  return attachKprobe(program, syscallPrefix() + name, options.retprobe ?? false, options);
}
