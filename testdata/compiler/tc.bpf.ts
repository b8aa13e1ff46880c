// TC (tcx ingress): count bytes per packet mark and set the mark of packets shorter than
// 100 bytes.
import { tc, HashMap, license, TcAction, type u32, u64 } from 'tsbpf/lang';

export const bytes = new HashMap<u32, u64>({ maxEntries: 64 });

export const ingress = tc('ingress', (ctx) => {
  const len = ctx.len;
  if (len < 100) ctx.mark = 42;
  bytes.increment(ctx.mark, u64(len));
  return TcAction.OK;
});


license('GPL');
