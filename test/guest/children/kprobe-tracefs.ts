/**
 * Child of kprobe.test.ts, run in a mount namespace where the kprobe PMU is hidden, so kprobe()
 * and kretprobe() make their probes through tracefs's kprobe_events:
 *
 *   node kprobe-tracefs.js testdata/guest/kprobe.bpf.o
 *
 * Attaches both programs of the object, unlinks a file it made and a missing one in two child
 * processes, and prints one JSON object: the mechanism, the kprobe_events lines while attached
 * and after closing, what the programs saw, and how many fds were left open.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { kprobeMechanism, type Link } from '../../../src/link/index.js';
import { load } from '../../../src/load.js';
import { openFds } from '../../../src/sys/index.js';
import { seenBy } from '../support.js';

const events = (): string[] =>
  readFileSync('/sys/kernel/tracing/kprobe_events', 'utf8')
    .split('\n')
    .filter((l) => l.includes('tsbpf/'));

const fds = openFds();
const mechanism = kprobeMechanism();
const coll = await load(process.argv[2]!);
const links = coll.attachAll() as Link[];
const eventsWhileAttached = events();

const unlink = (path: string) => spawnSync('unlink', [path]).pid!;
const pid = process.pid;
const first = spawnSync('sh', ['-c', `echo x > /tmp/tsbpf-legacy-$$ && exec unlink /tmp/tsbpf-legacy-$$`]);
const removedPid = first.pid!;
const missingPid = unlink(`/tmp/tsbpf-legacy-missing-${pid}`);
const entry = seenBy(coll.maps.kprobe_seen!, removedPid);
const out = {
  mechanism,
  eventsWhileAttached,
  removed: {
    pid: removedPid,
    entry: entry && { calls: entry.calls, arg: String(entry.arg), name: entry.name },
    ret: String(seenBy(coll.maps.kretprobe_seen!, removedPid)?.ret),
  },
  missing: { pid: missingPid, ret: String(seenBy(coll.maps.kretprobe_seen!, missingPid)?.ret) },
  eventsAfter: [] as string[],
  fdsLeft: 0,
};
for (const l of links) l.close();
out.eventsAfter = events();
coll.close();
out.fdsLeft = openFds() - fds;
writeFileSync(1, JSON.stringify(out) + '\n');
