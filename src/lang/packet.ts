/**
 * Packet access for XDP, TC and cgroup skb programs: a typed view of bytes at an offset of the
 * packet, bounds-checked against the packet's end (the check the verifier requires). In Node
 * they throw KernelOnlyError.
 */
import type { SkBuff, XdpMd } from './kernel.js';
import { kernelOnly } from './runtime.js';
import type { u32 } from './types.js';

/**
 * The T at byte `offset` of the packet, or undefined when the packet is too short; writes
 * through it change the packet (XDP, TC). Multi-byte header fields are big-endian: read them
 * with be16/be32.
 *
 * @example
 * const eth = packetAt<EthHdr>(ctx, 0);
 * if (!eth) return XdpAction.PASS;
 * if (be16(eth.h_proto) === 0x0800) ...
 */
export function packetAt<T>(_ctx: XdpMd | SkBuff, _offset: number): T | undefined {
  return kernelOnly('packetAt');
}

/** The number of bytes of packet data the program can access (data_end - data). */
export function packetLength(_ctx: XdpMd | SkBuff): u32 {
  return kernelOnly('packetLength');
}
