// A latency histogram of read(): sys_enter_read stores the start time per thread id;
// sys_exit_read takes it out and counts the delta (ns) in its log2 slot. C twin: bench/compiler/readlat.bpf.c.
import { tracepoint, HashMap, ArrayMap, helpers as bpf, license, type u32, type u64 } from 'tsbpf/lang';

export const start = new HashMap<u32, u64>({ maxEntries: 10240 });
export const hist = new ArrayMap<u64>({ maxEntries: 64 });

export const read_enter = tracepoint('syscalls', 'sys_enter_read', () => {
  start.update(bpf.tid(), bpf.ktimeNs());
  return 0;
});

export const read_exit = tracepoint('syscalls', 'sys_exit_read', () => {
  const tid = bpf.tid();
  const t0 = start.lookup(tid);
  if (t0 === undefined) return 0;
  let delta = bpf.ktimeNs() - t0;
  start.delete(tid);
  let slot: u32 = 0;
  for (let i = 0; i < 63; i++) {
    if (delta <= 1n) break;
    delta >>= 1n;
    slot++;
  }
  hist.increment(slot);
  return 0;
});

license('GPL');
