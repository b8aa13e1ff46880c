// A perf event array flooded faster than it is read: 256-byte samples on every getppid(), for
// the test that lost samples reach the user side (events() onLost) instead of vanishing.
import { tracepoint, PerfEventArray, helpers as bpf, license, zero, type u32, type u64, type FixedArray } from 'tsbpf/lang';

export interface Sample {
  pid: u32;
  seq: u32;
  pad: FixedArray<u64, 31>;
}

export const samples = new PerfEventArray<Sample>();

export const onGetppid = tracepoint('syscalls', 'sys_enter_getppid', (ctx) => {
  const s: Sample = zero();
  s.pid = bpf.pid();
  samples.output(ctx, s);
  return 0;
});

license('GPL');
