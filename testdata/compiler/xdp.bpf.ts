// XDP: parse Ethernet and IPv4 headers with bounds-checked packet access, count packets per
// IP protocol, drop UDP to port 9 (discard) and pass everything else.
import { xdp, PerCpuArrayMap, packetAt, be16, license, XdpAction, u32, type u64, type EthHdr, type IpHdr, type UdpHdr } from 'tsbpf/lang';

export const protocols = new PerCpuArrayMap<u64>({ maxEntries: 256 });

const ETH_P_IP = 0x0800;
const IPPROTO_UDP = 17;

export const filter = xdp((ctx) => {
  const eth = packetAt<EthHdr>(ctx, 0);
  if (!eth) return XdpAction.PASS;
  if (be16(eth.h_proto) !== ETH_P_IP) return XdpAction.PASS;
  const ip = packetAt<IpHdr>(ctx, 14);
  if (!ip) return XdpAction.PASS;
  const proto = u32(ip.protocol);
  protocols.increment(proto);
  if (proto === IPPROTO_UDP) {
    const udp = packetAt<UdpHdr>(ctx, 34);
    if (udp && be16(udp.dest) === 9) return XdpAction.DROP;
  }
  return XdpAction.PASS;
});

license('GPL');
