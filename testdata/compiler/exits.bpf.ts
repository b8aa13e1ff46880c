// Process exits with the parent's pid read through task.real_parent.tgid: tp_btf gives a BTF
// pointer, read with direct CO-RE-relocated loads; getCurrentTask() gives a plain kernel
// pointer, read with CO-RE-relocated probe reads. Both report the parent.
import { tpBtf, RingBuf, helpers as bpf, license, u32, type Comm } from 'tsbpf/lang';

export interface ExitEvent {
  pid: u32;
  ppid: u32;
  /** The parent as bpf_get_current_task() + bpf_probe_read_kernel see it. */
  ppidProbed: u32;
  comm: Comm;
}

export const events = new RingBuf<ExitEvent>({ size: 256 * 1024 });

export const onExit = tpBtf('sched_process_exit', (task) => {
  const e = events.reserve();
  if (!e) return 0;
  e.pid = u32(task.tgid);
  e.ppid = u32(task.real_parent.tgid);
  const current = bpf.getCurrentTask();
  e.ppidProbed = u32(current.real_parent.tgid);
  bpf.getCurrentComm(e.comm);
  events.submit(e);
  return 0;
});

license('GPL');
