/**
 * BTF-typed tracing programs (BPF_PROG_TYPE_TRACING): tp_btf (BTF-typed tracepoints), fentry,
 * fexit and fmod_ret (trampolines on kernel functions), and freplace (BPF_PROG_TYPE_EXT, which
 * replaces a function of another BPF program). The target is fixed when the program is loaded
 * (attach_btf_id, see {@link attachBtfId}); attaching only activates it.
 */
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { expectProgram } from './check.js';
import { InvalidAttachError } from './errors.js';
import { BpfLink, type LinkKind } from './link.js';

/** Options of {@link tracing}. */
export interface TracingOptions {
  /** A value the program reads with bpf_get_attach_cookie() (5.19+ for fentry/fexit, 6.10+ for tp_btf). */
  cookie?: bigint;
  /** freplace only: the program whose function is replaced, and that function's BTF id in it. */
  targetProgram?: Program;
  targetBtfId?: number;
  /** A name for the target, shown by toString() (default: the program's name). */
  target?: string;
}

/**
 * BPF_LINK_CREATE for a BTF-id attached program, falling back to BPF_RAW_TRACEPOINT_OPEN with
 * no name (what kernels before 5.x offered) when LINK_CREATE refuses the program kind.
 */
export function attachBtfProgram(kind: LinkKind, program: Program, attachType: keyof typeof AttachType | 0, target: string, extra: { targetFd?: number; targetBtfId?: number; cookie?: bigint } = {}): BpfLink {
  const subject = `${kind} program '${program.name}'`;
  const { ret } = bpf(
    'LINK_CREATE',
    {
      prog_fd: program.fd.value,
      target_fd: extra.targetFd ?? 0,
      attach_type: attachType === 0 ? 0 : AttachType[attachType],
      'tracing.target_btf_id': extra.targetBtfId,
      'tracing.cookie': extra.cookie,
    },
    { allow: extra.cookie === undefined && extra.targetFd === undefined ? [Errno.EINVAL] : [], subject },
  );
  if (ret >= 0) return new BpfLink(kind, target, new Fd(ret));
  const raw = bpf('RAW_TRACEPOINT_OPEN', { prog_fd: program.fd.value }, { subject });
  return new BpfLink(kind, target, new Fd(raw.ret));
}

/** freplace programs have no attach type of their own: LINK_CREATE takes 0 for them. */
const FREPLACE = 0;

/**
 * Attaches a tracing program loaded with its target's BTF id: tp_btf (BPF_TRACE_RAW_TP), fentry
 * (BPF_TRACE_FENTRY), fexit (BPF_TRACE_FEXIT), fmod_ret (BPF_MODIFY_RETURN), or an freplace
 * program (BPF_PROG_TYPE_EXT) with `targetProgram`. Iterators attach with {@link iter}, LSM
 * programs with {@link lsm}.
 *
 * Valid targets are chosen at load time: kernel functions and btf_trace_* typedefs in
 * /sys/kernel/btf/vmlinux (see {@link attachBtfId}).
 *
 * Minimum kernel: 5.5 for tp_btf and fentry/fexit (x86_64), 5.7 for fmod_ret; bpf_link from
 * 5.7. Some kernels refuse trampoline programs (fentry, fexit, fmod_ret) at load time even for
 * root: Program.load then throws a PermissionError naming the kind.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = tracing(Program.load({ type: 'TRACING', expectedAttachType: 'TRACE_RAW_TP', attachBtfId: attachBtfId('tp_btf', 'sched_process_exec').btfId, ... }));
 */
export function tracing(program: Program, options: TracingOptions = {}): BpfLink {
  expectProgram('tracing', program, ['TRACING', 'EXT']);
  if (program.type === 'EXT') {
    if (!options.targetProgram || options.targetBtfId === undefined) {
      if (options.targetProgram || options.targetBtfId !== undefined) throw new InvalidAttachError('freplace', 'give both targetProgram and targetBtfId, or neither (the target chosen at load time)');
      return attachBtfProgram('tracing', program, FREPLACE, options.target ?? program.name);
    }
    return attachBtfProgram('tracing', program, FREPLACE, options.target ?? `${options.targetProgram.name}#${options.targetBtfId}`, {
      targetFd: options.targetProgram.fd.value,
      targetBtfId: options.targetBtfId,
    });
  }
  const attachType = program.attachType;
  if (attachType !== 'TRACE_RAW_TP' && attachType !== 'TRACE_FENTRY' && attachType !== 'TRACE_FEXIT' && attachType !== 'MODIFY_RETURN') {
    throw new InvalidAttachError(
      'tracing',
      `program '${program.name}' has expected attach type ${attachType ? `BPF_${attachType}` : 'none'}; tracing() attaches BPF_TRACE_RAW_TP, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT and BPF_MODIFY_RETURN programs (iterators: iter())`,
    );
  }
  return attachBtfProgram('tracing', program, attachType, options.target ?? program.name, { cookie: options.cookie });
}
