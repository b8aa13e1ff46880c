// Rucy's example: a device cgroup program that denies minor 9 (/dev/urandom is char 1:9) and
// allows everything else.
import { cgroupDev, license } from 'tsbpf/lang';

export const denyMinor9 = cgroupDev((ctx) => (ctx.minor === 9 ? 0 : 1));

license('GPL');
