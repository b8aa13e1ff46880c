/**
 * The Link: a program attached to something. Every attach kind returns one; closing it detaches
 * the program (unless the link was pinned), and the process-wide registry closes whatever is
 * still attached when the process exits or is stopped by SIGINT or SIGTERM.
 *
 * Three mechanisms sit behind the one interface:
 * - a bpf_link fd (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN): pinnable, with info, update and
 *   detach where the kernel supports them for the kind ({@link BpfLink});
 * - a perf event with the program set by ioctl (kernels before 5.15), or a PROG_ATTACH
 *   attachment (cgroups before 5.7): neither is an object of its own, so neither can be pinned
 *   ({@link PerfEventIoctlLink}, {@link ProgAttachLink});
 * - a group of links made by one call (a USDT probe at several sites, sampling on every CPU):
 *   {@link MultiLink}.
 */
import { NotSupportedError, TsbpfError } from '../errors.js';
import { fdById, newInfo, objInfo } from '../kernel/obj-info.js';
import { pinFd, unpinPath } from '../kernel/pin.js';
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, perfIoctl } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { linkInfoOfFd, type LinkInfo } from './info.js';
import { forget, track } from './registry.js';

/** The attach kinds, one module each under src/link. */
export type LinkKind =
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'tracing'
  | 'lsm'
  | 'kprobe'
  | 'kprobe.multi'
  | 'uprobe'
  | 'uprobe.multi'
  | 'usdt'
  | 'cgroup'
  | 'xdp'
  | 'tcx'
  | 'perf_event'
  | 'iter';

/** Options of {@link Link.update}. */
export interface UpdateOptions {
  /** Replace only if this program is the one attached now (BPF_F_REPLACE with old_prog_fd). */
  expected?: Program;
}

/** A program attached to an event, a hook or an object. */
export abstract class Link implements Disposable {
  private done = false;
  private pinPath: string | undefined;

  protected constructor(
    /** What the program is attached to, by kind. */
    readonly kind: LinkKind,
    /** A human-readable name of the target ('syscalls/sys_enter_execve', '/bin/bash:readline'). */
    readonly target: string,
  ) {
    track(this);
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.done;
  }

  /** The bpffs path the link is pinned at, if it is. */
  get pinnedPath(): string | undefined {
    return this.pinPath;
  }

  /**
   * Releases this process's hold on the attachment: the program is detached unless the link
   * is pinned (then the pin keeps it attached, and it stays so after this process is gone).
   * Closing twice does nothing.
   */
  close(): void {
    if (this.done) return;
    this.done = true;
    forget(this);
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Pins the link at `path` on a bpffs (e.g. /sys/fs/bpf/my_link): it then stays attached after
   * close() and after this process exits, until the pin is removed (unpin(), or rm). Only
   * bpf_link-based attachments can be pinned; others throw a NotSupportedError.
   */
  pin(path: string): void {
    this.checkOpen('pin');
    pinFd(this.pinnableFd().value, path, `${this.kind} link`);
    this.pinPath = path;
    forget(this); // pinned on request: survives the exit handlers
  }

  /** Removes the pin made by pin(); the link is again detached when closed or at exit. */
  unpin(): void {
    if (this.pinPath === undefined) return;
    unpinPath(this.pinPath);
    this.pinPath = undefined;
    if (!this.done) track(this);
  }

  /** What the kernel says about the link (BPF_OBJ_GET_INFO_BY_FD with struct bpf_link_info). */
  info(): LinkInfo {
    this.checkOpen('info');
    return linkInfoOfFd(this.pinnableFd().value);
  }

  /**
   * Detaches the program while keeping the link object (BPF_LINK_DETACH, 5.9+): the link then
   * exists but is "defunct". Supported by the kernel for cgroup, XDP, tcx, netns, netfilter and
   * struct_ops links; others answer with a NotSupportedError.
   */
  detach(): void {
    this.checkOpen('detach');
    const fd = this.pinnableFd();
    const { ret } = bpf('LINK_DETACH', { link_fd: fd.value }, { allow: [Errno.EOPNOTSUPP, Errno.ENOTSUPP], subject: `${this.kind} link` });
    if (ret < 0) throw new NotSupportedError(`BPF_LINK_DETACH of ${this.kind} links`, 'the kernel cannot detach this kind of link without closing it; close() it instead');
  }

  /**
   * Swaps the attached program for `program` atomically (BPF_LINK_UPDATE, 5.7+). Supported by
   * the kernel for cgroup, XDP, tcx, netns and netkit links; others answer with a
   * NotSupportedError.
   */
  update(program: Program, options: UpdateOptions = {}): void {
    this.checkOpen('update');
    const fd = this.pinnableFd();
    const { ret } = bpf(
      'LINK_UPDATE',
      { link_fd: fd.value, new_prog_fd: program.fd.value, flags: options.expected ? REPLACE : 0, old_prog_fd: options.expected?.fd.value },
      { allow: [Errno.EOPNOTSUPP, Errno.ENOTSUPP], subject: `${this.kind} link` },
    );
    if (ret < 0) throw new NotSupportedError(`BPF_LINK_UPDATE of ${this.kind} links`, 'the kernel cannot swap the program of this kind of link; attach the new program and close the old link');
  }

  /** The bpf_link fd pin/info/update/detach work on; NotSupportedError for other mechanisms. */
  protected pinnableFd(): Fd {
    throw new NotSupportedError(`pin/info/update/detach of this ${this.kind} attachment`, this.whyNoLink());
  }

  /** Why this attachment has no bpf_link (for the NotSupportedError). */
  protected whyNoLink(): string {
    return 'it is not a bpf_link';
  }

  /** Undoes the attachment and closes what it holds; called once by close(). */
  protected abstract release(): void;

  protected checkOpen(what: string): void {
    if (this.done) throw new TsbpfError(`${what}: the ${this.kind} link to '${this.target}' is closed`);
  }

  toString(): string {
    return `${this.kind} link to ${this.target}`;
  }
}

/** BPF_F_REPLACE (include/uapi/linux/bpf.h). */
const REPLACE = 1 << 2;

/** Things a link holds besides its own fd: perf event fds, cleanup of tracefs entries. */
export type Resource = Fd | { close(): void };

/** A link backed by a bpf_link fd. */
export class BpfLink extends Link {
  /** @internal */
  constructor(
    kind: LinkKind,
    target: string,
    /** The bpf_link fd. */
    readonly fd: Fd,
    /** Closed after the link fd, last first (a perf event fd, a legacy tracefs probe). */
    private readonly holds: readonly Resource[] = [],
  ) {
    super(kind, target);
  }

  protected override pinnableFd(): Fd {
    return this.fd;
  }

  protected release(): void {
    this.fd.close();
    releaseAll(this.holds);
  }
}

/**
 * A perf event with the program set by PERF_EVENT_IOC_SET_BPF (kernels before 5.15, which
 * lack perf-event bpf_links). Closing disables and closes the event.
 */
export class PerfEventIoctlLink extends Link {
  /** @internal */
  constructor(
    kind: LinkKind,
    target: string,
    /** The perf event fd. */
    readonly perfFd: Fd,
    private readonly holds: readonly Resource[] = [],
  ) {
    super(kind, target);
  }

  protected override whyNoLink(): string {
    return 'this kernel attached the program to the perf event with PERF_EVENT_IOC_SET_BPF, which makes no bpf_link (BPF_LINK_CREATE for perf events needs 5.15)';
  }

  protected release(): void {
    try {
      perfIoctl(this.perfFd.value, 'DISABLE');
    } catch {
      // the event is closed next either way
    }
    this.perfFd.close();
    releaseAll(this.holds);
  }
}

/**
 * A program attached with BPF_PROG_ATTACH (cgroups before 5.7, or on request): the attachment
 * belongs to the target, not to an fd, so closing runs BPF_PROG_DETACH. It cannot be pinned.
 */
export class ProgAttachLink extends Link {
  private progFd: Fd;

  /** @internal */
  constructor(
    kind: LinkKind,
    target: string,
    /** The target's fd (a cgroup directory), kept open to detach. */
    readonly targetFd: Fd,
    /** An fd of the attached program owned by this link (so closing the Program does not matter). */
    progFd: Fd,
    readonly attachType: keyof typeof AttachType,
    /** The BPF_F_ALLOW_* flags it was attached with. */
    readonly flags: number,
  ) {
    super(kind, target);
    this.progFd = progFd;
  }

  protected override whyNoLink(): string {
    return 'it was attached with BPF_PROG_ATTACH, which makes no bpf_link';
  }

  /** Replaces the program (BPF_PROG_ATTACH with BPF_F_REPLACE; needs BPF_F_ALLOW_MULTI). */
  override update(program: Program, options: UpdateOptions = {}): void {
    this.checkOpen('update');
    const next = ownProgramFd(program);
    try {
      bpf(
        'PROG_ATTACH',
        {
          target_fd: this.targetFd.value,
          attach_bpf_fd: next.value,
          attach_type: AttachType[this.attachType],
          attach_flags: this.flags | REPLACE,
          replace_bpf_fd: (options.expected?.fd ?? this.progFd).value,
        },
        { subject: `${this.kind} ${this.target}` },
      );
    } catch (err) {
      next.close();
      throw err;
    }
    this.progFd.close();
    this.progFd = next;
  }

  protected release(): void {
    try {
      bpf('PROG_DETACH', { target_fd: this.targetFd.value, attach_bpf_fd: this.progFd.value, attach_type: AttachType[this.attachType] }, { allow: [Errno.ENOENT], subject: `${this.kind} ${this.target}` });
    } finally {
      this.progFd.close();
      this.targetFd.close();
    }
  }
}

/**
 * A new fd of the same program (BPF_PROG_GET_FD_BY_ID of its id), for attachments that must
 * outlive the caller's Program object.
 */
export function ownProgramFd(program: Program): Fd {
  return fdById('PROG', objInfo(program.fd.value, newInfo('bpf_prog_info'), `program '${program.name}'`).num('id'));
}

/**
 * Several links made by one call (a USDT probe with several sites, sampling on every CPU).
 * Closing closes them all; pin and info work on the members.
 */
export class MultiLink extends Link {
  /** @internal */
  constructor(
    kind: LinkKind,
    target: string,
    /** The member links, each one of them no longer tracked on its own. */
    readonly links: readonly Link[],
    private readonly holds: readonly Resource[] = [],
  ) {
    super(kind, target);
    for (const l of links) forget(l);
  }

  protected override whyNoLink(): string {
    return `it is a group of ${this.links.length} links; use .links[i]`;
  }

  protected release(): void {
    releaseAll(this.links);
    releaseAll(this.holds);
  }
}

/** Closes each resource, last first, even when one throws; rethrows the first failure. */
export function releaseAll(resources: readonly Resource[]): void {
  let first: unknown;
  for (let i = resources.length - 1; i >= 0; i--) {
    try {
      resources[i]!.close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
