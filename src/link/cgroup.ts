/**
 * cgroup programs: device access control (cgroup/dev), socket buffers in and out
 * (cgroup_skb/ingress, /egress), socket creation (cgroup/sock_create), socket addresses
 * (bind/connect/sendmsg), sysctl, sockopt and sock_ops — each attached to a cgroup v2
 * directory, where it applies to every process in that cgroup and its descendants.
 */
import { constants, openSync, statfsSync } from 'node:fs';
import type { Program, ProgTypeName } from '../kernel/program.js';
import { bpf, Errno, Fd } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink, ownProgramFd, ProgAttachLink, type Link } from './link.js';

/** CGROUP2_SUPER_MAGIC (include/uapi/linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;
/** BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI (include/uapi/linux/bpf.h). */
export const CgroupAttachFlag = { ALLOW_OVERRIDE: 1, ALLOW_MULTI: 2 } as const;

const CGROUP_PROGRAM_TYPES: readonly ProgTypeName[] = ['CGROUP_SKB', 'CGROUP_SOCK', 'CGROUP_DEVICE', 'SOCK_OPS', 'CGROUP_SOCK_ADDR', 'CGROUP_SYSCTL', 'CGROUP_SOCKOPT', 'LSM'];

/** Options of {@link cgroup}. */
export interface CgroupOptions {
  /** The hook, e.g. 'CGROUP_INET_EGRESS'; default: the program's expected attach type. */
  attachType?: keyof typeof AttachType;
  /**
   * 'link' (BPF_LINK_CREATE, 5.7+), 'attach' (BPF_PROG_ATTACH: survives the fd, detached on
   * close or at exit by tsbpf; cannot be pinned), or 'auto' (default): a link where the kernel
   * can make one, else PROG_ATTACH.
   */
  mode?: 'auto' | 'link' | 'attach';
  /** PROG_ATTACH flags (default BPF_F_ALLOW_MULTI, which lets other programs attach too). */
  flags?: number;
}

/** Opens a cgroup v2 directory, checking that it is one. */
export function openCgroup(path: string, kind = 'cgroup'): Fd {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch {
    throw new AttachTargetNotFoundError(kind, path, 'no such directory; cgroup v2 is mounted at /sys/fs/cgroup (or /sys/fs/cgroup/unified on hybrid systems)');
  }
  if (type !== CGROUP2_SUPER_MAGIC) throw new InvalidAttachError(kind, `${path} is not in a cgroup v2 hierarchy (it is on a filesystem of type 0x${type.toString(16)}); BPF programs attach to cgroup v2 directories`);
  return new Fd(openSync(path, constants.O_RDONLY | constants.O_DIRECTORY));
}

/**
 * Attaches a cgroup program to the cgroup v2 directory `path` (e.g.
 * /sys/fs/cgroup/unified/my-group). The program runs for every process in the cgroup and its
 * descendants: CGROUP_DEVICE programs decide device access (return 0 to deny), CGROUP_SKB
 * programs see packets (return 0 to drop), CGROUP_SOCK programs socket creation, and so on.
 *
 * The hook is the program's expected attach type unless `attachType` says otherwise. Attaching
 * to the root cgroup affects the whole machine: prefer cgroups you create.
 *
 * Minimum kernel: 4.10 (PROG_ATTACH), 5.7 for links (BPF_LINK_CREATE), which `mode: 'auto'`
 * uses when it can.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 * A PROG_ATTACH attachment would otherwise outlive the process; tsbpf detaches it at exit.
 *
 * @example
 * using link = cgroup(devProg, '/sys/fs/cgroup/unified/sandbox');
 */
export function cgroup(program: Program, path: string, options: CgroupOptions = {}): Link {
  expectProgram('cgroup', program, CGROUP_PROGRAM_TYPES);
  const attachTypeName = options.attachType ?? program.attachType;
  if (!attachTypeName) throw new InvalidAttachError('cgroup', `program '${program.name}' has no expected attach type: say which hook with attachType (e.g. 'CGROUP_INET_INGRESS')`);
  const attachType = AttachType[attachTypeName];
  if (attachType === undefined) throw new InvalidAttachError('cgroup', `unknown attach type '${attachTypeName}'`);
  const mode = options.mode ?? 'auto';
  const target = `${path} ${attachTypeName}`;
  const cg = openCgroup(path);
  let progFd: Fd | undefined;
  try {
    if (mode !== 'attach') {
      const { ret } = bpf('LINK_CREATE', { prog_fd: program.fd.value, target_fd: cg.value, attach_type: attachType }, { allow: mode === 'auto' ? [Errno.EINVAL] : [], subject: `cgroup ${target}` });
      if (ret >= 0) {
        cg.close();
        return new BpfLink('cgroup', target, new Fd(ret));
      }
    }
    const flags = options.flags ?? CgroupAttachFlag.ALLOW_MULTI;
    progFd = ownProgramFd(program);
    bpf('PROG_ATTACH', { target_fd: cg.value, attach_bpf_fd: progFd.value, attach_type: attachType, attach_flags: flags }, { subject: `cgroup ${target}` });
    return new ProgAttachLink('cgroup', target, cg, progFd, attachTypeName, flags);
  } catch (err) {
    progFd?.close();
    cg.close();
    throw err;
  }
}
