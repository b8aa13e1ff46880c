import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProgramBuilder, R0 } from '../../src/asm/index.js';
import { Program } from '../../src/kernel/index.js';
import { attachBtfId, cgroup, iter, perfEvent, rawTracepoint, trackedLinks, tracepoint, uprobe, usdt } from '../../src/link/index.js';
import { openFds } from '../../src/sys/index.js';
import { cycles, kernelTest } from '../support/kernel.js';
import { counter, fdCount, TARGET } from './support.js';

/** Runs `cycle` n times and checks that the process has as many fds (and tracked links) as before. */
function noLeak(n: number, cycle: () => void): void {
  const before = fdCount();
  const tracked = openFds();
  const links = trackedLinks();
  for (let i = 0; i < n; i++) cycle();
  assert.equal(fdCount(), before, '/proc/self/fd count unchanged');
  assert.equal(openFds(), tracked, 'tsbpf Fd count unchanged');
  assert.equal(trackedLinks(), links, 'nothing left in the registry');
}

kernelTest(`no leak: ${cycles(200)} tracepoint and raw tracepoint attach/detach cycles`, () => {
  using tp = counter({ type: 'TRACEPOINT' });
  using raw = counter({ type: 'RAW_TRACEPOINT' });
  noLeak(cycles(200), () => {
    tracepoint(tp.prog, 'syscalls', 'sys_enter_getppid').close();
    rawTracepoint(raw.prog, 'sys_enter')[Symbol.dispose]();
  });
});

kernelTest(`no leak: ${cycles(200)} cycles of cgroup links, PROG_ATTACH, iterators and perf events`, () => {
  const dir = join('/sys/fs/cgroup/unified', `tsbpf-leak-${process.pid}`);
  mkdirSync(dir);
  try {
    using dev = Program.load({ type: 'CGROUP_DEVICE', expectedAttachType: 'CGROUP_DEVICE', license: 'GPL', name: 'leak_dev', instructions: new ProgramBuilder().mov(R0, 1).exit().build().instructions });
    using it = Program.load({ type: 'TRACING', expectedAttachType: 'TRACE_ITER', attachBtfId: attachBtfId('iter', 'task').btfId, license: 'GPL', name: 'leak_iter', instructions: new ProgramBuilder().mov(R0, 0).exit().build().instructions });
    using pe = counter({ type: 'PERF_EVENT', key: (b) => b.mov(R0, 0) });
    noLeak(cycles(200), () => {
      cgroup(dev, dir).close();
      cgroup(dev, dir, { mode: 'attach' }).close();
      using l = iter(it);
      assert.equal(l.read(), '');
      perfEvent(pe.prog, { cpus: [0], frequency: 10 }).close();
    });
  } finally {
    rmdirSync(dir);
  }
});

kernelTest('no leak: uprobe and USDT attach/detach cycles (slow in the kernel: 20 each)', () => {
  using c = counter({ type: 'KPROBE' });
  noLeak(20, () => {
    uprobe(c.prog, TARGET, 'tsbpf_target_add').close();
    usdt(c.prog, TARGET, 'tsbpf', 'guarded').close();
  });
});
