// kprobes in the guest (the host kernel has none): kprobe and kretprobe through the kprobe PMU
// and through tracefs's kprobe_events, each checked by what the program saw — the calls of
// do_unlinkat a spawned process made, its arguments and return values — and ksyscall. Also
// what 6.1 lacks: kprobe.multi (no CONFIG_FPROBE) is a NotSupportedError.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotSupportedError } from '../../src/errors.js';
import { probeAttach } from '../../src/kernel/index.js';
import { attach, AttachTargetNotFoundError, kprobe, kprobeMechanism, kprobeMulti, kretprobe, ksyscall, type Link } from '../../src/link/index.js';
import { load } from '../../src/load.js';
import { openFds } from '../../src/sys/index.js';
import { counter, runTarget } from '../link/support.js';
import { AT_FDCWD, FIXTURES, guestTest, seenBy, unlinkInChild } from './support.js';

const OBJECT = join(FIXTURES, 'kprobe.bpf.o');
const CHILD = new URL('./children/kprobe-tracefs.js', import.meta.url).pathname;

guestTest('kprobe and kretprobe through the kprobe PMU: the file names and return values of a child\'s unlinks', async () => {
  assert.ok('pmu' in kprobeMechanism(), `the guest kernel has a kprobe PMU: ${JSON.stringify(kprobeMechanism())}`);
  assert.equal(probeAttach('kprobe').available, true, probeAttach('kprobe').reason);
  const fds = openFds();
  {
    await using coll = await load(OBJECT);
    const links = coll.attachAll() as Link[];
    assert.deepEqual(links.map((l) => `${l.kind} ${l.target}`).sort(), ['kprobe do_unlinkat', 'kprobe ret:do_unlinkat']);
    const file = `/tmp/tsbpf-kprobe-${process.pid}`;
    writeFileSync(file, 'x');
    const removed = unlinkInChild(file);
    const missing = unlinkInChild(`${file}-missing`);
    assert.equal(removed.status, 0);
    assert.equal(missing.status, 1, 'unlink of a missing file fails');
    assert.ok(!existsSync(file));

    const entry = seenBy(coll.maps.kprobe_seen!, removed.pid);
    assert.deepEqual(entry, { calls: 1, ret: 0n, arg: AT_FDCWD, name: file }, 'kprobe: one call, dfd AT_FDCWD, the file name');
    assert.equal(seenBy(coll.maps.kprobe_seen!, missing.pid)?.name, `${file}-missing`);
    assert.deepEqual(seenBy(coll.maps.kretprobe_seen!, removed.pid), { calls: 1, ret: 0n, arg: 0n, name: '' }, 'kretprobe: returned 0');
    assert.equal(seenBy(coll.maps.kretprobe_seen!, missing.pid)?.ret, -2n, 'kretprobe: returned -ENOENT');

    for (const l of links) l.close();
    const after = unlinkInChild(`${file}-after`);
    assert.equal(seenBy(coll.maps.kprobe_seen!, after.pid), undefined, 'detached: nothing seen');
  }
  assert.equal(openFds(), fds, 'everything closed');
});

guestTest('kprobe and kretprobe through tracefs kprobe_events (a kernel without the kprobe PMU)', () => {
  // The child hides the PMU (a tmpfs over /sys/bus/event_source/devices/kprobe in its own mount
  // namespace), so kprobe() and kretprobe() take the legacy way; it reports what it saw as JSON.
  const hide = 'mount -t tmpfs tsbpf-hide /sys/bus/event_source/devices/kprobe && exec "$0" "$@"';
  const r = spawnSync('unshare', ['-m', 'sh', '-c', hide, process.execPath, CHILD, OBJECT], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `child failed (${r.status} ${r.signal}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    mechanism: { tracefs?: string; pmu?: number };
    eventsWhileAttached: string[];
    eventsAfter: string[];
    removed: { pid: number; entry: { calls: number; arg: string; name: string }; ret: string };
    missing: { pid: number; ret: string };
    fdsLeft: number;
  };
  assert.equal(out.mechanism.tracefs, '/sys/kernel/tracing', 'without the PMU, kprobes go through tracefs');
  assert.equal(out.eventsWhileAttached.length, 2, out.eventsWhileAttached.join('\n'));
  assert.ok(out.eventsWhileAttached.some((l) => /^p:tsbpf\/do_unlinkat_\d+_\d+ do_unlinkat/.test(l)), out.eventsWhileAttached.join('\n'));
  assert.ok(out.eventsWhileAttached.some((l) => /^r\d*:tsbpf\/do_unlinkat_\d+_\d+ do_unlinkat/.test(l)), out.eventsWhileAttached.join('\n'));
  assert.deepEqual(out.eventsAfter, [], 'closing the links removed the kprobe_events lines');
  assert.deepEqual(out.removed.entry, { calls: 1, arg: String(AT_FDCWD), name: `/tmp/tsbpf-legacy-${out.removed.pid}` });
  assert.equal(out.removed.ret, '0');
  assert.equal(out.missing.ret, '-2');
  assert.equal(out.fdsLeft, 0);
  // Nothing of the child's probes is left in this (the guest's) kprobe_events either.
  assert.doesNotMatch(readFileSync('/sys/kernel/tracing/kprobe_events', 'utf8'), /tsbpf\//);
});

guestTest('ksyscall: a kprobe on __x64_sys_getppid counts exactly the calls of a spawned process', () => {
  using c = counter({ type: 'KPROBE', name: 'ksys_getppid' });
  {
    using link = ksyscall(c.prog, 'getppid');
    assert.equal(link.target, '__x64_sys_getppid');
    const { pid } = runTarget(['getppid', '7']);
    assert.equal(c.count(pid), 7);
  }
  const { pid } = runTarget(['getppid', '3']);
  assert.equal(c.count(pid), 0, 'detached');
});

guestTest('kprobe: an offset into the function, and a function that does not exist', () => {
  using c = counter({ type: 'KPROBE', name: 'kp_offset' });
  {
    // +5 skips the 5-byte ftrace call site (a nop) the function starts with (Debian's 6.1 has no
    // IBT, so no endbr64 before it): a breakpoint kprobe on the next instruction, hit each call.
    using link = attach(c.prog, 'kprobe/__x64_sys_getppid+0x5');
    assert.equal(link.target, '__x64_sys_getppid+5');
    const { pid } = runTarget(['getppid', '5']);
    assert.equal(c.count(pid), 5);
  }
  assert.throws(() => kprobe(c.prog, 'tsbpf_no_such_function'), (e: unknown) => e instanceof AttachTargetNotFoundError && /available_filter_functions/.test(e.message));
  assert.throws(() => kretprobe(c.prog, 'tsbpf_no_such_function'), AttachTargetNotFoundError);
});

guestTest('kprobe.multi: 6.1 has no CONFIG_FPROBE, and says so with a NotSupportedError', () => {
  using c = counter({ type: 'KPROBE', expectedAttachType: 'TRACE_KPROBE_MULTI', name: 'kp_multi' });
  const fds = openFds();
  assert.throws(
    () => kprobeMulti(c.prog, { symbols: ['do_unlinkat', 'vfs_read'] }),
    (e: unknown) => e instanceof NotSupportedError && e.feature === 'kprobe.multi' && /CONFIG_FPROBE/.test(e.message),
  );
  assert.throws(() => attach(c.prog, 'kprobe.multi/vfs_rea?'), (e: unknown) => e instanceof NotSupportedError && e.feature === 'kprobe.multi');
  assert.equal(openFds(), fds, 'nothing left open');
});
