// The design brief's example: on every execve, a {pid, comm} record in a ring buffer, and a
// count of execs per command name in a hash map.
import { tracepoint, RingBuf, HashMap, helpers as bpf, license, type u32, type u64, type Comm } from 'tsbpf/lang';

export interface ExecEvent {
  pid: u32;
  comm: Comm;
}

export const events = new RingBuf<ExecEvent>({ size: 1 << 20 });
export const counts = new HashMap<Comm, u64>({ maxEntries: 10240 });

export const onExec = tracepoint('syscalls', 'sys_enter_execve', (ctx) => {
  const e = events.reserve();
  if (!e) return 0;
  e.pid = bpf.pid();
  bpf.getCurrentComm(e.comm);
  counts.increment(e.comm);
  events.submit(e);
  return 0;
});

license('GPL');
