// cgroup socket-buffer and socket programs: count egress bytes, refuse raw sockets.
import { cgroupSkb, cgroupSock, ArrayMap, license, u64, type u32 } from 'tsbpf/lang';

export const egressBytes = new ArrayMap<u64>({ maxEntries: 1 });

export const countEgress = cgroupSkb('egress', (ctx) => {
  egressBytes.increment(0, u64(ctx.len));
  return 1;
});

const SOCK_RAW: u32 = 3;

export const noRaw = cgroupSock('sock_create', (ctx) => (ctx.type === SOCK_RAW ? 0 : 1));

license('GPL');
