/**
 * TC programs through tcx (BPF_PROG_TYPE_SCHED_CLS on the tcx hooks): programs that see every
 * packet an interface receives (ingress) or sends (egress), after the kernel built the skb, and
 * return TCX_NEXT (-1), TCX_PASS (0), TCX_DROP (2) or TCX_REDIRECT (7). tcx keeps an ordered
 * list of programs per hook and direction, owned by links.
 */
import type { Program } from '../kernel/program.js';
import { NotSupportedError } from '../errors.js';
import { bpf, Errno, Fd, syscallError } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { kernelKnowsAttachType } from '../kernel/features.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink } from './link.js';
import { ifindexOf } from './netdev.js';

/** BPF_F_BEFORE, BPF_F_AFTER, BPF_F_LINK (include/uapi/linux/bpf.h). */
const F_BEFORE = 1 << 3;
const F_AFTER = 1 << 4;
const F_LINK = 1 << 13;

/** Options of {@link tcx}. */
export interface TcxOptions {
  /** Run before this program or link (default: after every program already there). */
  before?: Program | BpfLink;
  /** Run after this program or link. */
  after?: Program | BpfLink;
  /** Fail with ESTALE unless the hook's list is at this revision (from a query). */
  expectedRevision?: bigint;
}

/**
 * Attaches a TC classifier (BPF_PROG_TYPE_SCHED_CLS) to the ingress or egress tcx hook of a
 * network interface (name or ifindex) with BPF_LINK_CREATE (BPF_TCX_INGRESS / BPF_TCX_EGRESS).
 *
 * Valid interfaces: `ip link`, /sys/class/net.
 *
 * Minimum kernel: 6.6 (tcx); on older kernels this throws a NotSupportedError (they attach TC
 * programs through netlink, a clsact qdisc and a bpf filter, which tsbpf does not do).
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = tcx(prog, 'veth0', 'ingress');
 */
export function tcx(program: Program, iface: string | number, direction: 'ingress' | 'egress', options: TcxOptions = {}): BpfLink {
  expectProgram('tcx', program, ['SCHED_CLS']);
  if (direction !== 'ingress' && direction !== 'egress') throw new InvalidAttachError('tcx', `direction must be 'ingress' or 'egress', not '${String(direction)}'`);
  if (options.before && options.after) throw new InvalidAttachError('tcx', 'give before or after, not both');
  const ifindex = ifindexOf(iface, 'tcx');
  const relative = options.before ?? options.after;
  let flags = options.before ? F_BEFORE : options.after ? F_AFTER : 0;
  if (relative instanceof BpfLink) flags |= F_LINK;
  const target = `${iface} ${direction}`;
  const { ret } = bpf(
    'LINK_CREATE',
    {
      prog_fd: program.fd.value,
      target_ifindex: ifindex,
      attach_type: direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS,
      flags,
      'tcx.relative_fd': relative ? relative.fd.value : undefined,
      'tcx.expected_revision': options.expectedRevision,
    },
    { allow: [Errno.ENODEV, Errno.EINVAL], subject: `tcx ${target}` },
  );
  if (ret === -Errno.EINVAL) {
    if (kernelKnowsAttachType('TCX_INGRESS') === false) {
      throw new NotSupportedError('tcx', 'this kernel has no tcx hooks (BPF_TCX_INGRESS is not in its enum bpf_attach_type): tcx needs Linux 6.6; older kernels attach TC programs through a clsact qdisc (tc filter ... bpf)');
    }
    throw syscallError('BPF_LINK_CREATE', Errno.EINVAL, `tcx ${target}`);
  }
  if (ret < 0) throw new AttachTargetNotFoundError('tcx', String(iface), `no interface with ifindex ${ifindex} in this network namespace`);
  return new BpfLink('tcx', target, new Fd(ret));
}
