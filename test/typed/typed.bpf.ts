// The kernel module the typed user side is tested with: a ring buffer record with every kind
// of field (u32, u64, Comm, FixedArray, a nested interface), a hash map of Comm to u64, one of
// u32 to a struct, a per-CPU array, and a constant user space sets before load.
import { tracepoint, RingBuf, HashMap, PerCpuArrayMap, helpers as bpf, license, constant, type u32, type u64, type Comm, type FixedArray } from 'tsbpf/lang';

export interface Pair {
  a: u32;
  b: u64;
}

export interface ExecEvent {
  pid: u32;
  pidTgid: u64;
  comm: Comm;
  args: FixedArray<u32, 3>;
  pair: Pair;
}

export const events = new RingBuf<ExecEvent>({ size: 1 << 16 });
export const counts = new HashMap<Comm, u64>({ maxEntries: 1024 });
export const pairs = new HashMap<u32, Pair>({ maxEntries: 16 });
export const execs = new PerCpuArrayMap<u64>({ maxEntries: 1 });
export const pairA = constant<u32>(1);

export const onExec = tracepoint('syscalls', 'sys_enter_execve', () => {
  const e = events.reserve();
  if (!e) return 0;
  e.pid = bpf.pid();
  e.pidTgid = bpf.pidTgid();
  bpf.getCurrentComm(e.comm);
  e.args[0] = 1;
  e.args[1] = 2;
  e.args[2] = 3;
  e.pair.a = pairA;
  e.pair.b = 8n;
  counts.increment(e.comm);
  execs.increment(0);
  events.submit(e);
  return 0;
});

license('GPL');
