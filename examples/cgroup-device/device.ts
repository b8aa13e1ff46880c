/**
 * A device policy for a cgroup v2: creates a cgroup, attaches a cgroup/dev program that denies
 * /dev/urandom (char 1:9), and shows it working — `head -c 4 /dev/urandom` fails with "Operation
 * not permitted" inside the cgroup while /dev/random still works. With --duration the cgroup
 * stays for that long so you can move a shell into it (`echo $$ > PATH/cgroup.procs`).
 *
 *   node dist/examples/cgroup-device/device.js [--duration SECONDS]
 */
import { load } from '../../src/load.js';
import { cgroup } from '../../src/link/index.js';
import { withCgroup, showInCgroup } from '../cgroup.js';
import { aborted, besideSource, exampleArgs, stopSignal } from '../common.js';

const { duration } = exampleArgs();
await withCgroup('device', async (path) => {
  await using obj = await load(besideSource(import.meta.url, 'device.bpf.o'));
  using link = cgroup(obj.programs.deny_urandom!, path);
  void link;
  for (const dev of ['/dev/urandom', '/dev/random']) showInCgroup(path, `head -c 4 ${dev}`);
  if (duration) {
    console.log(`\nThe cgroup stays for ${duration}s: echo $$ > ${path}/cgroup.procs`);
    await aborted(stopSignal(duration));
  }
  console.log(`denied accesses: ${obj.variables.denied!.get()}`);
});
