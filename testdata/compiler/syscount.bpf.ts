// Syscalls per command from the raw tracepoint sys_enter (args[1] is the syscall number).
import { rawTracepoint, HashMap, helpers as bpf, license, u32, type u64, type Comm } from 'tsbpf/lang';

export interface Key {
  comm: Comm;
  nr: u32;
}

export const counts = new HashMap<Key, u64>({ maxEntries: 10240 });

export const syscount = rawTracepoint('sys_enter', (ctx) => {
  const key: Key = { comm: bpf.comm(), nr: u32(ctx.args[1]) };
  counts.increment(key);
});

license('GPL');
