// Trampoline and BTF-typed programs in the guest (the host refuses trampolines): fentry and
// fexit on do_unlinkat read the arguments through their BTF types and the return value, tp_btf
// on sched_process_exec reads the task and the binprm of an exec; each checked against what a
// spawned process did.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeAttach } from '../../src/kernel/index.js';
import { tracing, type Link } from '../../src/link/index.js';
import { load } from '../../src/load.js';
import { openFds } from '../../src/sys/index.js';
import { AT_FDCWD, FIXTURES, guestTest, seenBy, unlinkInChild } from './support.js';

const OBJECT = join(FIXTURES, 'tracing.bpf.o');

guestTest('fentry and fexit on do_unlinkat: the arguments of a child\'s unlink, and its return value', async () => {
  for (const kind of ['fentry', 'fexit'] as const) assert.equal(probeAttach(kind).available, true, `${kind}: ${probeAttach(kind).reason}`);
  const fds = openFds();
  {
    await using coll = await load(OBJECT, { programs: ['unlink_fentry', 'unlink_fexit'] });
    const links = coll.attachAll() as Link[];
    assert.deepEqual(links.map((l) => l.kind), ['tracing', 'tracing']);
    assert.deepEqual(links.map((l) => l.info().type).sort(), ['TRACING', 'TRACING']);
    const file = `/tmp/tsbpf-fentry-${process.pid}`;
    writeFileSync(file, 'x');
    const removed = unlinkInChild(file);
    const missing = unlinkInChild(`${file}-missing`);
    assert.deepEqual(seenBy(coll.maps.fentry_seen!, removed.pid), { calls: 1, ret: 0n, arg: AT_FDCWD, name: file }, 'fentry: dfd and name');
    assert.deepEqual(seenBy(coll.maps.fexit_seen!, removed.pid), { calls: 1, ret: 0n, arg: AT_FDCWD, name: file }, 'fexit: arguments and 0');
    assert.deepEqual(seenBy(coll.maps.fexit_seen!, missing.pid), { calls: 1, ret: -2n, arg: AT_FDCWD, name: `${file}-missing` }, 'fexit: -ENOENT');
    for (const l of links) l.close();
    const after = unlinkInChild(`${file}-after`);
    assert.equal(seenBy(coll.maps.fentry_seen!, after.pid), undefined, 'detached');
    assert.equal(seenBy(coll.maps.fexit_seen!, after.pid), undefined, 'detached');
  }
  assert.equal(openFds(), fds, 'everything closed');
});

guestTest('tp_btf on sched_process_exec: the exec\'d file name and the old pid, from the task and binprm', async () => {
  await using coll = await load(OBJECT, { programs: ['exec_btf'] });
  {
    using link = tracing(coll.programs.exec_btf!, { target: 'sched_process_exec' });
    const r = spawnSync('/bin/true');
    const seen = seenBy(coll.maps.exec_seen!, r.pid!);
    assert.equal(seen?.calls, 1);
    assert.equal(seen?.name, '/bin/true', 'bprm->filename');
    assert.equal(seen?.arg, BigInt(r.pid!), 'old_pid: the exec keeps the pid');
    // 6.1's BPF_LINK_CREATE refuses tp_btf programs: the link comes from BPF_RAW_TRACEPOINT_OPEN
    assert.equal(link.info().type, 'RAW_TRACEPOINT');
  }
  const later = spawnSync('/bin/true');
  assert.equal(seenBy(coll.maps.exec_seen!, later.pid!), undefined, 'detached');
});
