/**
 * Attaching a program to an open perf event: the step tracepoints, kprobes, uprobes and
 * sampling share. BPF_LINK_CREATE with attach type BPF_PERF_EVENT (5.15+) gives a bpf_link
 * (pinnable, with info and a BPF cookie); older kernels get PERF_EVENT_IOC_SET_BPF and
 * PERF_EVENT_IOC_ENABLE, which attach the program to the event itself.
 */
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, perfIoctl, SyscallError } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { BpfLink, PerfEventIoctlLink, releaseAll, type Link, type LinkKind, type Resource } from './link.js';

/** Options of {@link attachPerfEventFd}. */
export interface PerfAttachOptions {
  /** A value the program reads with bpf_get_attach_cookie() (5.15+). */
  cookie?: bigint;
}

/**
 * Attaches `program` to the perf event `perfFd` and enables it. The returned link owns
 * `perfFd` and `holds`; on failure both are closed before the error is thrown.
 */
export function attachPerfEvent(program: Program, perfFd: Fd, kind: LinkKind, target: string, options: PerfAttachOptions = {}, holds: readonly Resource[] = []): Link {
  let linkFd: Fd | undefined;
  try {
    const subject = `${kind} ${target}`;
    const { ret } = bpf(
      'LINK_CREATE',
      { prog_fd: program.fd.value, target_fd: perfFd.value, attach_type: AttachType.PERF_EVENT, 'perf_event.bpf_cookie': options.cookie },
      { allow: [Errno.EINVAL], subject },
    );
    if (ret >= 0) {
      linkFd = new Fd(ret);
      perfIoctl(perfFd.value, 'ENABLE', 0, subject);
      return new BpfLink(kind, target, linkFd, [...holds, perfFd]);
    }
    // EINVAL: a kernel without perf-event links (before 5.15), or a program the event refuses.
    const linkError = new SyscallError('BPF_LINK_CREATE', Errno.EINVAL, 'the program does not fit this perf event (wrong program type?)', subject);
    if (options.cookie !== undefined) throw linkError;
    try {
      perfIoctl(perfFd.value, 'SET_BPF', program.fd.value, subject);
    } catch {
      throw linkError;
    }
    perfIoctl(perfFd.value, 'ENABLE', 0, subject);
    return new PerfEventIoctlLink(kind, target, perfFd, holds);
  } catch (err) {
    linkFd?.close();
    perfFd.close();
    releaseAll(holds);
    throw err;
  }
}

/**
 * Attaches a program to a perf event the caller opened (perf_event_open), taking ownership of
 * the fd: closing the link closes the event.
 *
 * @example
 * using link = attachPerfEventFd(prog, perfEventOpen(newPerfAttr({ type: PerfType.SOFTWARE, config: PerfSwId.CPU_CLOCK, sample_period: 100000 }), -1, 0));
 */
export function attachPerfEventFd(program: Program, perfFd: Fd, options: PerfAttachOptions = {}): Link {
  return attachPerfEvent(program, perfFd, 'perf_event', `perf event fd ${perfFd.value}`, options);
}
