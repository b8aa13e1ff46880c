// perf_event: count samples per CPU and remember the last sampled instruction pointer.
import { perfEvent, PerCpuArrayMap, ArrayMap, helpers as bpf, license, type u64 } from 'tsbpf/lang';

export const samples = new PerCpuArrayMap<u64>({ maxEntries: 1 });
export const lastIp = new ArrayMap<u64>({ maxEntries: 1 });

export const onSample = perfEvent((ctx) => {
  samples.increment(0);
  lastIp.update(0, ctx.regs.ip);
  bpf.printk('sample on cpu %u\n', bpf.smpProcessorId());
});

license('GPL');
