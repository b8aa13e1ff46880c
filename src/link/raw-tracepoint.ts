/**
 * Raw tracepoints (BPF_PROG_TYPE_RAW_TRACEPOINT): the same kernel tracepoints as tracepoint
 * programs, but the program gets the tracepoint's raw arguments (u64 each) instead of a
 * formatted record, which is cheaper. Attached with BPF_RAW_TRACEPOINT_OPEN.
 */
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd } from '../sys/index.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink } from './link.js';

/** Options of {@link rawTracepoint}. */
export interface RawTracepointOptions {
  /** A value the program reads with bpf_get_attach_cookie() (6.10+). */
  cookie?: bigint;
}

/**
 * Attaches a raw tracepoint program (BPF_PROG_TYPE_RAW_TRACEPOINT or _WRITABLE) to the
 * tracepoint `name` (without its category: 'sys_enter', 'sched_switch'). The context is an
 * array of the tracepoint's arguments as u64s, in the order of its TP_PROTO.
 *
 * Valid names are the tracepoints the kernel defines: the `btf_trace_<name>` typedefs in
 * /sys/kernel/btf/vmlinux, or (for most) the part after the colon in
 * /sys/kernel/tracing/available_events.
 *
 * Minimum kernel: 4.17. The result is a bpf_link (pinnable) from 5.x on.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = rawTracepoint(prog, 'sys_enter');
 */
export function rawTracepoint(program: Program, name: string, options: RawTracepointOptions = {}): BpfLink {
  expectProgram('raw_tracepoint', program, ['RAW_TRACEPOINT', 'RAW_TRACEPOINT_WRITABLE']);
  if (!/^\w+$/.test(name)) throw new InvalidAttachError('raw_tracepoint', `invalid tracepoint name '${name}': expected letters, digits and '_' (no category)`);
  const { ret } = bpf('RAW_TRACEPOINT_OPEN', { name, prog_fd: program.fd.value, cookie: options.cookie }, { allow: [Errno.ENOENT], subject: `raw tracepoint ${name}` });
  if (ret === -Errno.ENOENT) {
    throw new AttachTargetNotFoundError('raw_tracepoint', name, 'the kernel has no such tracepoint; valid names are the btf_trace_<name> typedefs in /sys/kernel/btf/vmlinux (bpftool btf dump file /sys/kernel/btf/vmlinux | grep btf_trace_)');
  }
  return new BpfLink('raw_tracepoint', name, new Fd(ret));
}
