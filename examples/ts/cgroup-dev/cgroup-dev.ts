/**
 * Rucy's example with the kernel side in TypeScript (cgroup_dev.bpf.ts): a cgroup/dev program
 * that returns 0 (deny) for minor 9, so inside a new cgroup v2 `head -c 4 /dev/urandom` (char
 * 1:9) fails with "Operation not permitted" while /dev/random (1:8) works. With --duration the
 * cgroup stays that long to try by hand (`echo $$ > PATH/cgroup.procs`); then everything is
 * detached, unloaded and the cgroup removed.
 *
 *   node dist/examples/ts/cgroup-dev/cgroup-dev.js [--duration SECONDS]
 */
import type * as CgroupDev from './cgroup_dev.bpf.js';
import { load } from '../../../src/load.js';
import { cgroup } from '../../../src/link/index.js';
import { withCgroup, showInCgroup } from '../../cgroup.js';
import { aborted, besideSource, exampleArgs, stopSignal } from '../../common.js';

const { duration } = exampleArgs();
await withCgroup('cgroup-dev', async (path) => {
  await using obj = await load<typeof CgroupDev>(besideSource(import.meta.url, 'cgroup_dev.bpf.ts'));
  using link = cgroup(obj.programs.deny_minor9, path);
  void link;
  for (const dev of ['/dev/urandom', '/dev/random']) showInCgroup(path, `head -c 4 ${dev}`);
  if (duration) {
    console.log(`\nThe cgroup stays for ${duration}s: echo $$ > ${path}/cgroup.procs`);
    await aborted(stopSignal(duration));
  }
});
