import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, unlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R0, R1 } from '../../src/asm/index.js';
import { closeAllLinks, linkFdById, linkIds, linkInfoOfFd, openCgroup, openPinned, rawTracepoint, trackedLinks, tracepoint } from '../../src/link/index.js';
import { bpf } from '../../src/sys/index.js';
import { AttachType } from '../../src/uapi/enums.js';
import { expectPerfLinkInfo, has, PERF_LINK_INFO } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { CHILDREN, counter, runTarget, sleep } from './support.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const UNIFIED = '/sys/fs/cgroup/unified';
let serial = 0;

/** A fresh cgroup, removed afterwards (which also drops anything still attached to it). */
async function withCgroup(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = join(UNIFIED, `tsbpf-life-${process.pid}-${serial++}`);
  mkdirSync(dir);
  try {
    await fn(dir);
  } finally {
    rmdirSync(dir);
  }
}

/** A private bpffs mount in a temporary directory, unmounted (dropping its pins) afterwards. */
async function withBpffs(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync('/tmp/tsbpf-bpffs-');
  execFileSync('mount', ['-t', 'bpf', 'bpf', dir]);
  try {
    await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  }
}

function devProgsOn(dir: string): number {
  using fd = openCgroup(dir);
  const { attr } = bpf('PROG_QUERY', { target_fd: fd.value, attach_type: AttachType.CGROUP_DEVICE, prog_ids: new Uint8Array(64), prog_cnt: 16 });
  return attr.num('prog_cnt');
}

/** Starts children/hold.js and waits for the line it prints once attached. */
async function hold(args: string[]): Promise<{ child: ChildProcess; linkId: number }> {
  const child = spawn(process.execPath, [join(CHILDREN, 'hold.js'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  // A child that dies before attaching must fail the test, not leave it waiting (and its
  // cgroup or bpffs mount behind).
  const died = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`hold.js ${args.join(' ')} exited (${code ?? signal}) before attaching`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), died])) as [string];
  died.catch(() => {});
  return { child, linkId: (JSON.parse(line) as { linkId: number }).linkId };
}

/** Kills a child still running and waits for it (so its cgroup can be removed). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Waits until link `id` is gone (the kernel frees ids shortly after the last reference). */
async function gone(id: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!linkIds().includes(id)) return true;
    await sleep(20);
  }
  return false;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  kernelTest(`${signal}: the registry detaches everything (also a PROG_ATTACH cgroup program), then the signal ends the process`, async () => {
    await withCgroup(async (dir) => {
      const { child, linkId } = await hold(['wait', '--cgroup', dir]);
      try {
        assert.ok(linkIds().includes(linkId));
        assert.equal(devProgsOn(dir), 1);
        child.kill(signal);
        const [code, sig] = (await once(child, 'exit')) as [number | null, string | null];
        assert.equal(code, null);
        assert.equal(sig, signal, 'the default action ran: killed by the signal');
        assert.ok(await gone(linkId), 'the link is gone');
        assert.equal(devProgsOn(dir), 0, 'the PROG_ATTACH program was detached');
      } finally {
        await stop(child);
      }
    });
  });
}

kernelTest('control: SIGKILL (no cleanup possible) leaves the PROG_ATTACH program attached', async () => {
  await withCgroup(async (dir) => {
    const { child } = await hold(['wait', '--cgroup', dir]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(devProgsOn(dir), 1, 'only the exit handlers detach it; removing the cgroup drops it');
  });
});

kernelTest('an application SIGINT handler keeps control; links are detached all the same', async () => {
  const { child, linkId } = await hold(['own-handler']);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 7, "the application's handler decided the exit status");
  assert.ok(await gone(linkId));
});

kernelTest('normal exit detaches; a link pinned on request survives the process until unpinned', async () => {
  const { child, linkId } = await hold(['exit']);
  child.stdin!.end();
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.ok(await gone(linkId));

  await withBpffs(async (fs) => {
    const path = join(fs, 'held');
    const pinned = await hold(['pin', path]);
    if (pinned.child.exitCode === null) await once(pinned.child, 'exit');
    assert.equal(pinned.child.exitCode, 0);
    assert.ok(existsSync(path));
    assert.ok(linkIds().includes(pinned.linkId), 'the pinned link outlived its process');
    {
      using fd = openPinned(path);
      const info = linkInfoOfFd(fd.value);
      assert.equal(info.id, pinned.linkId);
      assert.equal(info.tracepoint, 'sys_enter');
    }
    unlinkSync(path);
    assert.ok(await gone(pinned.linkId), 'removing the pin detaches it');
  });
});

kernelTest('pin() keeps a link attached after close(); unpin() lets it go; pins need a bpffs', async () => {
  using c = counter({ type: 'RAW_TRACEPOINT', prelude: (b) => b.load(64, R0, R1, 8).jump('jne', R0, 110, 'out') });
  await withBpffs(async (fs) => {
    const link = rawTracepoint(c.prog, 'sys_enter');
    const id = link.info().id;
    const tracked = trackedLinks();
    link.pin(join(fs, 'raw'));
    assert.equal(link.pinnedPath, join(fs, 'raw'));
    assert.equal(trackedLinks(), tracked - 1, 'a pinned link is not detached at exit');
    link.close();
    const { pid } = runTarget(['getppid', '6']);
    assert.equal(c.count(pid), 6, 'still attached through the pin');
    assert.ok(linkIds().includes(id));
    link.unpin();
    assert.ok(await gone(id));
    assert.throws(() => rawTracepoint(c.prog, 'sys_enter').pin('/tmp/not-bpffs-link'), /not on a bpffs/);
    closeAllLinks();
  });
});

kernelTest('closeAllLinks() closes every tracked link; linkFdById and bpftool see the same links', (t) => {
  using c = counter({ type: 'TRACEPOINT' });
  const a = tracepoint(c.prog, 'syscalls', 'sys_enter_getppid');
  const b = tracepoint(c.prog, 'syscalls', 'sys_exit_getppid');
  const id = a.info().id;
  {
    using fd = linkFdById(id)!;
    expectPerfLinkInfo(t, linkInfoOfFd(fd.value), { tracepoint: 'sys_enter_getppid' });
  }
  const bpftool = spawnSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' });
  if (bpftool.status === 0) {
    const listed = (JSON.parse(bpftool.stdout) as Array<{ id: number; type: string }>).find((l) => l.id === id);
    assert.equal(listed?.type, 'perf_event', 'bpftool lists the link too');
  }
  closeAllLinks();
  assert.ok(a.closed && b.closed);
  assert.equal(trackedLinks(), 0);
  assert.equal(linkFdById(id), undefined);
});

kernelTest('tsbpf link list: a table by default, JSON with --json, with the attach details', (t) => {
  using c = counter({ type: 'TRACEPOINT' });
  using link = tracepoint(c.prog, 'syscalls', 'sys_enter_getppid');
  const id = link.info().id;
  const table = execFileSync(process.execPath, [CLI, 'link', 'list'], { encoding: 'utf8' });
  const row = table.split('\n').find((l) => l.trim().startsWith(`${id} `));
  assert.ok(row, table);
  assert.match(row, has(PERF_LINK_INFO) ? /perf_event\s+\d+\s+tracepoint sys_enter_getppid$/ : /perf_event\s+\d+\s+unspec$/);
  assert.match(table.split('\n')[0]!, /^\s*ID\s+TYPE\s+PROG\s+ATTACHED TO$/);
  const json = JSON.parse(execFileSync(process.execPath, [CLI, 'link', 'list', '--json'], { encoding: 'utf8' })) as Array<Record<string, unknown>>;
  const mine = json.find((l) => l.id === id)!;
  assert.equal(mine.type, 'PERF_EVENT');
  expectPerfLinkInfo(t, mine, { perfEvent: 'tracepoint', tracepoint: 'sys_enter_getppid' });
  assert.equal(mine.progId, link.info().progId);
});
