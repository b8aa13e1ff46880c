// On every execve, a {pid, comm} record in a ring buffer. C twin: bench/compiler/hello.bpf.c.
import { tracepoint, RingBuf, helpers as bpf, license, type u32, type Comm } from 'tsbpf/lang';

export interface ExecEvent {
  pid: u32;
  comm: Comm;
}

export const events = new RingBuf<ExecEvent>({ size: 256 * 1024 });

export const hello = tracepoint('syscalls', 'sys_enter_execve', () => {
  const e = events.reserve();
  if (!e) return 0;
  e.pid = bpf.pid();
  bpf.getCurrentComm(e.comm);
  events.submit(e);
  return 0;
});

license('GPL');
