// CO-RE across kernels, the part that runs on every kernel (the host's 6.18 and the 6.1 guest):
// one object, unchanged — built by clang and its twin built by tsbpf — reads task_struct and mm_struct fields whose offsets differ
// between the two, and what it reports equals what /proc says about the same process. The
// offsets each kernel resolved are printed; test/guest/core-offsets.test.ts compares them.
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { kernelBtf } from '../../../src/kernel/vmlinux.js';
import { tracepoint } from '../../../src/link/index.js';
import { load } from '../../../src/load.js';
import { kernelTest } from '../../support/kernel.js';
import { runTarget } from '../../link/support.js';
import { CORE_OBJECTS, coreResults, MM_FIELDS, procStat, reloKey, snapshotOf } from '../core-support.js';

for (const fixture of CORE_OBJECTS) {
  kernelTest(`CO-RE: one ${fixture.compiler}-built object reads task_struct and mm_struct fields correctly on this kernel (${release()})`, async (t) => {
    for (const r of coreResults(kernelBtf(), fixture.path)) t.diagnostic(`${release()}: ${reloKey(r)} = ${r.targetValue}`);
    await using coll = await load(fixture.path);
    using link = tracepoint(coll.programs.snapshot_task!, 'syscalls', 'sys_enter_getppid');
    void link;

    // This process: process.ppid is a getppid() on the main thread.
    const ppid = process.ppid;
    const mine = snapshotOf(coll.maps.snapshots!, process.pid);
    const stat = procStat('self');
    assert.ok(mine, 'the program ran for this process');
    assert.equal(mine.pid, process.pid, 'task->pid (the main thread)');
    assert.equal(mine.tgid, process.pid, 'task->tgid');
    assert.equal(mine.ppid, ppid, 'task->real_parent->tgid');
    assert.equal(mine.ppid, stat.ppid);
    if (fixture.fieldSize) assert.equal(mine.commSize, 16, 'bpf_core_field_size(task->comm)');
    assert.equal(mine.comm, stat.comm, 'task->comm');
    assert.deepEqual(mine.mm, stat.mm, 'task->mm->{start,end}_{code,data}, start_brk, start_stack, arg_*, env_* as in /proc/self/stat');
    for (const f of MM_FIELDS) if (f !== 'start_data' && f !== 'end_data') assert.ok(mine.mm[f] > 0n, f);

    // A child: the test binary calling getppid() three times; its real parent is this process.
    const { pid } = runTarget(['getppid', '3']);
    const theirs = snapshotOf(coll.maps.snapshots!, pid);
    assert.ok(theirs, 'the program ran for the child');
    assert.deepEqual([theirs.calls, theirs.pid, theirs.tgid, theirs.ppid, theirs.comm], [3n, pid, pid, process.pid, 'target']);
    assert.ok(theirs.mm.start_code > 0n && theirs.mm.start_code < theirs.mm.end_code, 'the child has its own code range');
  });
}
