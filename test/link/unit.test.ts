/**
 * Root-less tests of the link layer's logic against a scripted system call layer: the fallback
 * of perf-event attachment to PERF_EVENT_IOC_SET_BPF on kernels before 5.15, the legacy tracefs
 * probe lines, and the auto-attach parsing of section names.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NotSupportedError } from '../../src/errors.js';
import { Program } from '../../src/kernel/index.js';
import { attach, attachPerfEventFd, closeAllLinks, describeLinkInfo, InvalidAttachError, PerfEventIoctlLink, syscallPrefix, trackedLinks } from '../../src/link/index.js';
import { openLegacyProbe } from '../../src/link/probe-events.js';
import { Errno, Fd, PerfIoctl, useSyscalls, type Syscalls } from '../../src/sys/index.js';
import { BpfCmd } from '../../src/uapi/enums.js';

/** A system call layer that answers LINK_CREATE with EINVAL (a 5.10 kernel) and records the rest. */
class OldKernel implements Syscalls {
  readonly log: string[] = [];
  private nextFd = 500;
  bpf(cmd: number): number {
    const name = Object.entries(BpfCmd).find(([, v]) => v === cmd)?.[0];
    this.log.push(`bpf ${name}`);
    return name === 'LINK_CREATE' ? -Errno.EINVAL : -Errno.ENOSYS;
  }
  perfEventOpen(attr: Uint8Array): number {
    const v = new DataView(attr.buffer, attr.byteOffset);
    this.log.push(`perf_event_open type=${v.getUint32(0, true)} config=${v.getBigUint64(8, true)}`);
    return this.nextFd++;
  }
  ioctl(fd: number, request: number, arg: number | bigint | Uint8Array): number {
    const name = Object.entries(PerfIoctl).find(([, v]) => v === request)?.[0];
    this.log.push(`ioctl ${fd} ${name} ${typeof arg === 'object' ? '[buf]' : arg}`);
    return 0;
  }
  close(fd: number): number {
    this.log.push(`close ${fd}`);
    return 0;
  }
  mmap(): number {
    return -Errno.ENOSYS;
  }
  munmap(): number {
    return 0;
  }
  addressOf(): bigint {
    return 0x1000n;
  }
  poll(): number {
    return -Errno.ENOSYS;
  }
  pollStop(): void {}
  pollRef(): void {}
}

test('perf-event attachment falls back to PERF_EVENT_IOC_SET_BPF + ENABLE without perf links, and undoes it on close', () => {
  const kernel = new OldKernel();
  const restore = useSyscalls(kernel);
  try {
    const prog = Program.fromFd(new Fd(42), 'p', 'PERF_EVENT');
    const link = attachPerfEventFd(prog, new Fd(77));
    assert.ok(link instanceof PerfEventIoctlLink);
    assert.deepEqual(kernel.log, ['bpf LINK_CREATE', 'ioctl 77 SET_BPF 42', 'ioctl 77 ENABLE 0']);
    assert.throws(() => link.pin('/sys/fs/bpf/x'), (e: unknown) => e instanceof NotSupportedError && /5\.15/.test(e.message));
    assert.throws(() => link.info(), NotSupportedError);
    kernel.log.length = 0;
    link.close();
    assert.deepEqual(kernel.log, ['ioctl 77 DISABLE 0', 'close 77']);
    // A cookie needs a perf link: the error closes the event.
    kernel.log.length = 0;
    assert.throws(() => attachPerfEventFd(prog, new Fd(78), { cookie: 1n }), /BPF_LINK_CREATE/);
    assert.deepEqual(kernel.log, ['bpf LINK_CREATE', 'close 78']);
    prog.close(); // a scripted fd: close it while the scripted layer is in place
  } finally {
    restore();
  }
});

test('legacy probes: the kprobe_events / uprobe_events lines, the event opened as a tracepoint, removed on close', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsbpf-tracefs-'));
  const kernel = new OldKernel();
  const restore = useSyscalls(kernel);
  try {
    for (const [kind, event, id] of [['kprobe', 'kp', 1234], ['uprobe', 'up', 99]] as const) {
      mkdirSync(join(root, 'events', 'tsbpf', event), { recursive: true });
      writeFileSync(join(root, 'events', 'tsbpf', event, 'id'), `${id}\n`);
      writeFileSync(join(root, `${kind}_events`), '');
    }
    const kp = openLegacyProbe(root, { kind: 'kprobe', retprobe: true, maxActive: 8, name: 'do_unlinkat', offset: 0n, label: 'do_unlinkat' }, 'where', 'kp');
    assert.equal(readFileSync(join(root, 'kprobe_events'), 'utf8'), 'r8:tsbpf/kp do_unlinkat+0\n');
    assert.deepEqual(kernel.log, ['perf_event_open type=2 config=1234']);
    kp.remove.close();
    assert.equal(readFileSync(join(root, 'kprobe_events'), 'utf8'), 'r8:tsbpf/kp do_unlinkat+0\n-:tsbpf/kp\n');
    kp.perfFd.close();
    const up = openLegacyProbe(root, { kind: 'uprobe', retprobe: false, name: '/bin/true', offset: 0x1040n, refCtrOffset: 0x3010n, pid: 7, label: '/bin/true:main' }, 'where', 'up');
    assert.equal(readFileSync(join(root, 'uprobe_events'), 'utf8'), 'p:tsbpf/up /bin/true:0x1040(0x3010)\n');
    up.remove.close();
    up.perfFd.close();
  } finally {
    restore();
    rmSync(root, { recursive: true });
  }
});

test('auto-attach parses section names before touching the kernel', () => {
  const kernel = new OldKernel();
  const restore = useSyscalls(kernel);
  try {
    const kp = Program.fromFd(new Fd(42), 'k', 'KPROBE');
    assert.throws(() => attach(kp, 'uprobe/justabinary'), (e: unknown) => e instanceof InvalidAttachError && /BINARY:FUNCTION/.test(e.message));
    assert.throws(() => attach(kp, 'usdt/binary:onlyprovider'), /BINARY:PROVIDER:NAME/);
    assert.throws(() => attach(kp, 'kprobe/'), InvalidAttachError);
    assert.throws(() => attach(kp, 'kprobe/func+zz'), /FUNCTION\+OFFSET/);
    assert.throws(() => attach(kp, 'cgroup/dev'), /not auto-attached/);
    assert.throws(() => attach(kp, 'no_such_section'), /not one libbpf knows/);
    assert.throws(() => attach(kp), /no section/);
    assert.deepEqual(kernel.log, [], 'no system call made');
    assert.equal(syscallPrefix('x64'), '__x64_sys_');
    assert.equal(syscallPrefix('arm64'), '__arm64_sys_');
    kp.close();
  } finally {
    restore();
  }
});

test('describeLinkInfo says what a link is attached to', () => {
  assert.equal(describeLinkInfo({ id: 1, type: 'PERF_EVENT', typeNumber: 7, progId: 2, perfEvent: 'uprobe', file: '/bin/bash', offset: 0x1234, refCtrOffset: 0x40n }), 'uprobe /bin/bash:0x1234 ref_ctr 0x40');
  assert.equal(describeLinkInfo({ id: 1, type: 'CGROUP', typeNumber: 3, progId: 2, cgroupId: 77n, attachType: 'CGROUP_DEVICE' }), 'CGROUP_DEVICE cgroup 77');
  assert.equal(describeLinkInfo({ id: 1, type: 'XDP', typeNumber: 6, progId: 2, ifindex: 3 }), 'ifindex 3');
  assert.equal(describeLinkInfo({ id: 1, type: 'RAW_TRACEPOINT', typeNumber: 1, progId: 2, tracepoint: 'sys_enter', cookie: 0n }), 'tracepoint sys_enter');
});

test('the registry closes what is still attached; closeAllLinks empties it', () => {
  const kernel = new OldKernel();
  const restore = useSyscalls(kernel);
  try {
    const before = trackedLinks();
    const prog = Program.fromFd(new Fd(42), 'p', 'PERF_EVENT');
    const a = attachPerfEventFd(prog, new Fd(80));
    const b = attachPerfEventFd(prog, new Fd(81));
    assert.equal(trackedLinks(), before + 2);
    b.close();
    assert.equal(trackedLinks(), before + 1);
    closeAllLinks();
    assert.ok(a.closed);
    assert.equal(trackedLinks(), 0);
    prog.close();
  } finally {
    restore();
  }
});
