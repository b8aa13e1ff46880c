/**
 * XDP (BPF_PROG_TYPE_XDP): programs that see every packet a network interface receives, before
 * the kernel allocates anything for it, and decide: XDP_PASS, XDP_DROP, XDP_TX, XDP_REDIRECT.
 */
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, syscallError } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink } from './link.js';
import { ifindexOf } from './netdev.js';

/** XDP_FLAGS_* modes (include/uapi/linux/if_link.h). */
export const XdpMode = { generic: 1 << 1, driver: 1 << 2, offload: 1 << 3 } as const;

/** Options of {@link xdp}. */
export interface XdpOptions {
  /** 'generic' (any device, slower), 'driver' (native), 'offload' (the NIC); default: the kernel's choice (driver if supported). */
  mode?: keyof typeof XdpMode;
}

/**
 * Attaches an XDP program to a network interface (name or ifindex) with BPF_LINK_CREATE. Only one
 * XDP program per interface and mode can be attached: an existing one (even attached through
 * netlink by `ip link set dev X xdp ...`) makes this fail with EBUSY.
 *
 * Valid interfaces: `ip link`, /sys/class/net. Attaching to the interface a machine is reached
 * through can cut it off: try programs on a veth pair or in a network namespace first.
 *
 * Minimum kernel: 4.8 for XDP, 5.9 for XDP links.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = xdp(prog, 'veth0', { mode: 'generic' });
 */
export function xdp(program: Program, iface: string | number, options: XdpOptions = {}): BpfLink {
  expectProgram('xdp', program, ['XDP']);
  if (options.mode !== undefined && !(options.mode in XdpMode)) throw new InvalidAttachError('xdp', `unknown mode '${options.mode}'; expected generic, driver or offload`);
  const ifindex = ifindexOf(iface, 'xdp');
  const target = `${iface}${options.mode ? ` (${options.mode})` : ''}`;
  const { ret } = bpf(
    'LINK_CREATE',
    { prog_fd: program.fd.value, target_ifindex: ifindex, attach_type: AttachType.XDP, flags: options.mode ? XdpMode[options.mode] : 0 },
    { allow: [Errno.ENODEV, Errno.EBUSY], subject: `xdp on ${target}` },
  );
  if (ret === -Errno.EBUSY) {
    throw syscallError('BPF_LINK_CREATE', Errno.EBUSY, `xdp on ${target}`, `another XDP program is attached to this interface in this mode (remove it, e.g. "ip link set dev ${iface} xdp off", or close its link)`);
  }
  if (ret < 0) throw new AttachTargetNotFoundError('xdp', String(iface), `no interface with ifindex ${ifindex} in this network namespace`);
  return new BpfLink('xdp', target, new Fd(ret));
}
