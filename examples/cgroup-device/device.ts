/**
 * A device policy for a cgroup v2: creates a cgroup, attaches a cgroup/dev program that denies
 * /dev/urandom (char 1:9), and shows it working — `head -c 4 /dev/urandom` fails with "Operation
 * not permitted" inside the cgroup while /dev/random still works. With --duration the cgroup
 * stays for that long so you can move a shell into it (`echo $$ > PATH/cgroup.procs`).
 *
 *   node dist/examples/cgroup-device/device.js [--duration SECONDS]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { load } from '../../src/load.js';
import { cgroup } from '../../src/link/index.js';
import { aborted, besideSource, exampleArgs, stopSignal } from '../common.js';

const { duration } = exampleArgs();
const root = '/sys/fs/cgroup/unified';
const path = join(root, `tsbpf-device-${process.pid}`);
mkdirSync(path);
try {
  await using obj = await load(besideSource(import.meta.url, 'device.bpf.o'));
  using link = cgroup(obj.programs.deny_urandom!, path);
  void link;
  // stdout as bytes: random bytes decoded as UTF-8 would not count as 4
  const inCgroup = (cmd: string) => spawnSync('sh', ['-c', `echo $$ > ${path}/cgroup.procs && exec ${cmd}`]);
  for (const dev of ['/dev/urandom', '/dev/random']) {
    const r = inCgroup(`head -c 4 ${dev}`);
    console.log(`$ head -c 4 ${dev}    (inside ${path})`);
    console.log(r.status === 0 ? `ok: read ${r.stdout.length} bytes` : r.stderr.toString().trim());
  }
  if (duration) {
    console.log(`\nThe cgroup stays for ${duration}s: echo $$ > ${path}/cgroup.procs`);
    await aborted(stopSignal(duration));
  }
  console.log(`denied accesses: ${obj.variables.denied!.get()}`);
} finally {
  rmdirSync(path);
}
