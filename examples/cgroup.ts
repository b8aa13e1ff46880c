/**
 * What the device cgroup examples share: a fresh cgroup v2 to attach to (never the root one, so
 * the machine's own processes are not affected), removed afterwards, and commands run inside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where cgroup v2 is mounted on these machines. */
const ROOT = '/sys/fs/cgroup/unified';

/** Runs `fn` with the path of a new cgroup named `tsbpf-<what>-<pid>`, removing the cgroup afterwards. */
export async function withCgroup(what: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = join(ROOT, `tsbpf-${what}-${process.pid}`);
  mkdirSync(path);
  try {
    await fn(path);
  } finally {
    rmdirSync(path);
  }
}

/**
 * Runs the shell command `cmd` as a process moved into the cgroup first, and prints what
 * happened as `ok: read N bytes` or the command's error. Stdout is counted as bytes: random
 * bytes decoded as UTF-8 would not count right.
 */
export function showInCgroup(path: string, cmd: string): void {
  const r = spawnSync('sh', ['-c', `echo $$ > ${path}/cgroup.procs && exec ${cmd}`]);
  console.log(`$ ${cmd}    (inside ${path})`);
  console.log(r.status === 0 ? `ok: read ${r.stdout.length} bytes` : r.stderr.toString().trim());
}
