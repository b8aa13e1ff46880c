// TypeScript twin of xdp_parse.bpf.c (test/compiler-diff): XDP parsing with direct packet
// access. Counts packets per EtherType, routes IPv4 (TTL decrement with an incremental checksum
// update, MACs swapped, XDP_TX), drops expiring packets, passes the rest.
import { xdp, HashMap, ArrayMap, XdpAction, packetAt, be16, license, u16, u32, type u64, type u8, type EthHdr, type IpHdr } from 'tsbpf/lang';

export const by_proto = new HashMap<u16, u64>({ maxEntries: 64 });
export const verdicts = new ArrayMap<u64>({ maxEntries: 4 });

function verdict(v: u32): u32 {
  verdicts.increment(v);
  return v;
}

export const xdp_parse = xdp((ctx) => {
  const eth = packetAt<EthHdr>(ctx, 0);
  if (!eth) return verdict(XdpAction.ABORTED);
  const proto = u16(be16(eth.h_proto));
  by_proto.increment(proto);
  if (proto !== 0x0800) return verdict(XdpAction.PASS);
  const ip = packetAt<IpHdr>(ctx, 14);
  if (!ip) return verdict(XdpAction.PASS);
  const vihl = packetAt<u8>(ctx, 14);
  if (!vihl || vihl >> 4 !== 4 || (vihl & 15) < 5) return verdict(XdpAction.PASS);
  if (ip.ttl <= 1) return verdict(XdpAction.DROP);
  // RFC 1624 incremental update: the TTL is the high byte of the 16-bit word at offset 8.
  let sum = u32(~be16(ip.check) & 0xffff);
  sum += ~(u32(ip.ttl) << 8) & 0xffff;
  ip.ttl -= 1;
  sum += u32(ip.ttl) << 8;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  ip.check = u16(be16(~sum & 0xffff));
  for (let i = 0; i < 6; i++) {
    const t = eth.h_dest[i];
    eth.h_dest[i] = eth.h_source[i];
    eth.h_source[i] = t;
  }
  return verdict(XdpAction.TX);
});

license('GPL');
