// CO-RE across kernels, compiled by tsbpf: the twin of core.bpf.c with the same map and record
// layout. Built once (testdata/guest/build.sh: `tsbpf build` against the host's BTF) and loaded
// unchanged on the host (6.18) and in the 6.1 guest: every `task.x.y` step is a CO-RE-relocated
// read whose offset comes from the running kernel's BTF at load time.
import { tracepoint, HashMap, helpers as bpf, license, zero, strCopy, UpdateFlags, type u32, type u64, type Comm } from 'tsbpf/lang';

export interface Snapshot {
  calls: u64;
  pid: u32;
  tgid: u32;
  ppid: u32;
  comm_size: u32;
  start_code: u64;
  end_code: u64;
  start_data: u64;
  end_data: u64;
  start_brk: u64;
  start_stack: u64;
  arg_start: u64;
  arg_end: u64;
  env_start: u64;
  env_end: u64;
  comm: Comm;
}

export const snapshots = new HashMap<u32, Snapshot>({ maxEntries: 1024 });

export const snapshot_task = tracepoint('syscalls', 'sys_enter_getppid', () => {
  const task = bpf.getCurrentTask();
  const tgid = u32(task.tgid);
  if (!snapshots.lookup(tgid)) {
    const blank: Snapshot = zero();
    snapshots.update(tgid, blank, UpdateFlags.NOEXIST);
  }
  const s = snapshots.lookup(tgid);
  if (!s) return 0;
  s.calls += 1n;
  s.tgid = tgid;
  s.pid = u32(task.pid);
  s.ppid = u32(task.real_parent.tgid);
  // bpf_core_field_size() has no form in the dialect yet: the test checks comm_size for the C twin only
  s.comm_size = 0;
  strCopy(s.comm, task.comm);
  const mm = task.mm;
  s.start_code = mm.start_code;
  s.end_code = mm.end_code;
  s.start_data = mm.start_data;
  s.end_data = mm.end_data;
  s.start_brk = mm.start_brk;
  s.start_stack = mm.start_stack;
  s.arg_start = mm.arg_start;
  s.arg_end = mm.arg_end;
  s.env_start = mm.env_start;
  s.env_end = mm.env_end;
  return 0;
});

license('GPL');
