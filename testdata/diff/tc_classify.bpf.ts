// TypeScript twin of tc_classify.bpf.c (test/compiler-diff): a tc classifier. Reads __sk_buff
// fields (len, protocol, mark, priority, cb), parses IPv4 with TCP/UDP ports by direct packet
// access, accounts flows in an LRU hash (struct key, struct value), rewrites the TOS byte of
// UDP packets, sets mark, priority and cb, and drops SSH.
import { tc, LruHashMap, TcAction, UpdateFlags, packetAt, be16, license, u16, u32, u64, zero, type u8, type FixedArray, type IpHdr } from 'tsbpf/lang';

export interface Flow {
  saddr: u32;
  daddr: u32;
  sport: u16;
  dport: u16;
  proto: u8;
  pad: FixedArray<u8, 3>;
}

export interface Stats {
  packets: u64;
  bytes: u64;
  last_mark: u32;
  last_len: u32;
}

interface Ports {
  source: u16;
  dest: u16;
}

export const flows = new LruHashMap<Flow, Stats>({ maxEntries: 1024 });

export const tc_classify = tc('ingress', (skb) => {
  const mark = skb.mark;
  skb.cb[0] = skb.len;
  skb.cb[1] = skb.protocol;
  skb.cb[2] = skb.cb[3] ^ skb.priority;
  if (skb.protocol !== be16(0x0800)) return TcAction.OK;
  const ip = packetAt<IpHdr>(skb, 14);
  if (!ip) return TcAction.OK;
  const key: Flow = zero();
  key.saddr = ip.saddr;
  key.daddr = ip.daddr;
  key.proto = ip.protocol;
  const vihl = packetAt<u8>(skb, 14);
  if (vihl === undefined) return TcAction.OK;
  const hlen = u32(vihl & 15) * 4;
  if (hlen < 20 || hlen > 60) return TcAction.UNSPEC;
  if (ip.protocol === 6 || ip.protocol === 17) {
    const ports = packetAt<Ports>(skb, 14 + hlen);
    if (ports) {
      key.sport = u16(be16(ports.source));
      key.dport = u16(be16(ports.dest));
    }
  }
  const st = flows.lookup(key);
  if (st) {
    st.packets += 1n;
    st.bytes += u64(skb.len);
    st.last_mark = mark;
    st.last_len = skb.len;
  } else {
    const init: Stats = { packets: 1n, bytes: u64(skb.len), last_mark: mark, last_len: skb.len };
    flows.update(key, init, UpdateFlags.NOEXIST);
  }
  if (ip.protocol === 17) ip.tos = (ip.tos & 3) | 0xb8;
  skb.mark = mark + u32(key.dport);
  skb.priority = u32(key.proto);
  return key.dport === 22 ? TcAction.SHOT : TcAction.OK;
});

license('GPL');
