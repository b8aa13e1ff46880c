// Rucy's example program in the tsbpf dialect: a device cgroup program that denies minor 9
// (/dev/urandom is char 1:9) and allows everything else. C twin: bench/compiler/cgroup_dev.bpf.c.
import { cgroupDev, license } from 'tsbpf/lang';

export const deny_minor9 = cgroupDev((ctx) => (ctx.minor === 9 ? 0 : 1));

license('GPL');
