// Process exits with the parent's pid read through task.real_parent.tgid (tp_btf: direct,
// CO-RE-relocated loads), as {pid, ppid, comm} ring buffer records. C twin: bench/compiler/exits.bpf.c.
import { tpBtf, RingBuf, helpers as bpf, license, u32, type Comm } from 'tsbpf/lang';

export interface ExitEvent {
  pid: u32;
  ppid: u32;
  comm: Comm;
}

export const events = new RingBuf<ExitEvent>({ size: 256 * 1024 });

export const on_exit = tpBtf('sched_process_exit', (task) => {
  const e = events.reserve();
  if (!e) return 0;
  e.pid = u32(task.tgid);
  e.ppid = u32(task.real_parent.tgid);
  bpf.getCurrentComm(e.comm);
  events.submit(e);
  return 0;
});

license('GPL');
