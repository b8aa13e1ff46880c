// Syscalls per command from the raw tracepoint sys_enter, in a hash map comm -> count.
// C twin: bench/compiler/syscount.bpf.c.
import { rawTracepoint, HashMap, helpers as bpf, license, type u64, type Comm } from 'tsbpf/lang';

export const counts = new HashMap<Comm, u64>({ maxEntries: 10240 });

export const syscount = rawTracepoint('sys_enter', () => {
  counts.increment(bpf.comm());
  return 0;
});

license('GPL');
