import assert from 'node:assert/strict';
import { R0, R1 } from '../../src/asm/index.js';
import { AttachTargetNotFoundError, InvalidAttachError, rawTracepoint, tracepoint, tracepointId, attach, BpfLink } from '../../src/link/index.js';
import { openFds } from '../../src/sys/index.js';
import { expectPerfLinkInfo } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { counter, runTarget } from './support.js';

/** getppid's number on x86_64 (arch/x86/entry/syscalls/syscall_64.tbl). */
const NR_GETPPID = 110;

kernelTest('tracepoint: counts exactly the getppid() calls of a spawned process, and stops when closed', (t) => {
  using c = counter({ type: 'TRACEPOINT', name: 'tp_getppid' });
  const link = tracepoint(c.prog, 'syscalls', 'sys_enter_getppid');
  try {
    assert.equal(link.kind, 'tracepoint');
    assert.equal(link.target, 'syscalls/sys_enter_getppid');
    const { pid } = runTarget(['getppid', '37']);
    assert.equal(c.count(pid), 37);
    const info = link.info();
    assert.equal(info.type, 'PERF_EVENT');
    expectPerfLinkInfo(t, info, { perfEvent: 'tracepoint', tracepoint: 'sys_enter_getppid' });
  } finally {
    link.close();
  }
  assert.equal(link.closed, true);
  const after = runTarget(['getppid', '5']);
  assert.equal(c.count(after.pid), 0, 'a closed link no longer counts');
  link.close(); // closing twice is harmless
});

kernelTest('tracepoint: a missing tracepoint is an AttachTargetNotFoundError naming it and where to look', () => {
  using c = counter({ type: 'TRACEPOINT' });
  const fds = openFds();
  const err = (() => {
    try {
      tracepoint(c.prog, 'syscalls', 'sys_enter_no_such_call');
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof AttachTargetNotFoundError, String(err));
  assert.equal(err.target, 'syscalls/sys_enter_no_such_call');
  assert.match(err.message, /available_events/);
  assert.equal(openFds(), fds, 'nothing left open');
  assert.throws(() => tracepoint(c.prog, '../etc', 'passwd'), InvalidAttachError);
  assert.ok(tracepointId('syscalls', 'sys_enter_getppid') > 0);
});

kernelTest('tracepoint: a program of the wrong type is refused before any system call', () => {
  using c = counter({ type: 'SOCKET_FILTER', key: (b) => b.mov(R0, 0) }); // 6.1's socket filters may not call bpf_get_current_pid_tgid
  const fds = openFds();
  assert.throws(() => tracepoint(c.prog, 'syscalls', 'sys_enter_getppid'), (e: unknown) => e instanceof InvalidAttachError && /BPF_PROG_TYPE_TRACEPOINT/.test(e.message));
  assert.equal(openFds(), fds);
});

kernelTest('raw tracepoint: sys_enter filtered to getppid counts exactly; info names the tracepoint', () => {
  // Raw sys_enter arguments: (struct pt_regs *regs, long id); ctx is an array of u64.
  using c = counter({
    type: 'RAW_TRACEPOINT',
    name: 'raw_getppid',
    prelude: (b) => b.load(64, R0, R1, 8).jump('jne', R0, NR_GETPPID, 'out'),
  });
  using link = rawTracepoint(c.prog, 'sys_enter');
  const { pid } = runTarget(['getppid', '23']);
  assert.equal(c.count(pid), 23);
  const info = link.info();
  assert.equal(info.type, 'RAW_TRACEPOINT');
  assert.equal(info.tracepoint, 'sys_enter');
  assert.ok(info.id > 0);
  assert.throws(() => rawTracepoint(c.prog, 'no_such_tracepoint_here'), AttachTargetNotFoundError);
});

kernelTest('auto-attach dispatches tracepoint and raw_tp sections', () => {
  using tp = counter({ type: 'TRACEPOINT' });
  using raw = counter({ type: 'RAW_TRACEPOINT', prelude: (b) => b.load(64, R0, R1, 8).jump('jne', R0, NR_GETPPID, 'out') });
  using l1 = attach(tp.prog, 'tracepoint/syscalls/sys_enter_getppid');
  using l2 = attach(raw.prog, 'raw_tp/sys_enter');
  assert.ok(l2 instanceof BpfLink);
  const { pid } = runTarget(['getppid', '4']);
  assert.equal(tp.count(pid), 4);
  assert.equal(raw.count(pid), 4);
  assert.equal(l1.target, 'syscalls/sys_enter_getppid');
  assert.throws(() => attach(tp.prog, 'tracepoint/nocategory'), InvalidAttachError);
  assert.throws(() => attach(tp.prog, 'xdp'), /not auto-attached/);
});
