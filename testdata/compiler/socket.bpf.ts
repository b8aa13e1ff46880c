// Socket filter: keep only the first 64 bytes of each packet, drop packets of protocol 0.
import { socketFilter, ArrayMap, license, type u64 } from 'tsbpf/lang';

export const seen = new ArrayMap<u64>({ maxEntries: 1 });

export const truncate = socketFilter((ctx) => {
  seen.increment(0);
  if (ctx.protocol === 0) return 0;
  return ctx.len < 64 ? ctx.len : 64;
});

license('GPL');
