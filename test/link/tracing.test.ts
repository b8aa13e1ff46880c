import assert from 'node:assert/strict';
import { ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R7, R10, reg } from '../../src/asm/index.js';
import { BtfKind, findMember } from '../../src/btf/index.js';
import { NotSupportedError } from '../../src/errors.js';
import { Program } from '../../src/kernel/index.js';
import {
  attach,
  attachBtfId,
  AttachTargetNotFoundError,
  InvalidAttachError,
  iter,
  kernelBtf,
  kprobe,
  kprobeMechanism,
  kprobeMulti,
  kretprobe,
  ksyscall,
  lsm,
  tracing,
} from '../../src/link/index.js';
import { openFds, PermissionError } from '../../src/sys/index.js';
import { FuncId } from '../../src/uapi/enums.js';
import { kernelTest } from '../support/kernel.js';
import { counter, runTarget } from './support.js';

const nop = () => new ProgramBuilder().mov(R0, 0).exit().build().instructions;

kernelTest('attach BTF ids: tp_btf typedefs, functions, LSM hooks and iterators are found by name', () => {
  const btf = kernelBtf();
  const tp = attachBtfId('tp_btf', 'sched_process_exec');
  assert.equal(btf.type(tp.btfId).name, 'btf_trace_sched_process_exec');
  assert.equal(btf.kindOf(attachBtfId('fentry', 'do_unlinkat').btfId), BtfKind.FUNC);
  assert.equal(btf.type(attachBtfId('lsm', 'file_open').btfId).name, 'bpf_lsm_file_open');
  assert.equal(btf.type(attachBtfId('iter', 'task').btfId).name, 'bpf_iter_task');
  assert.throws(() => attachBtfId('fentry', 'no_such_kernel_function_xyz'), (e: unknown) => e instanceof AttachTargetNotFoundError && /bpftool btf dump/.test(e.message));
  assert.throws(() => attachBtfId('fentry', 'bad name'), InvalidAttachError);
});

kernelTest('tp_btf: sched_process_exec sees the pid of a spawned process', () => {
  using c = counter({ type: 'TRACING', expectedAttachType: 'TRACE_RAW_TP', attachBtfId: attachBtfId('tp_btf', 'sched_process_exec').btfId, name: 'tpbtf_exec' });
  const fds = openFds();
  {
    using link = tracing(c.prog, { target: 'sched_process_exec' });
    const { pid } = runTarget(['getppid', '1']);
    assert.equal(c.count(pid), 1, 'one exec of the spawned process');
    const info = link.info();
    assert.ok(info.type === 'RAW_TRACEPOINT' || info.type === 'TRACING', info.type);
    assert.equal(link.toString(), 'tracing link to sched_process_exec');
  }
  assert.equal(openFds(), fds);
  const later = runTarget(['getppid', '1']);
  assert.equal(c.count(later.pid), 0, 'detached');
});

kernelTest('auto-attach: a tp_btf section', () => {
  using c = counter({ type: 'TRACING', expectedAttachType: 'TRACE_RAW_TP', attachBtfId: attachBtfId('tp_btf', 'sched_process_exec').btfId });
  using link = attach(c.prog, 'tp_btf/sched_process_exec');
  const { pid } = runTarget(['getppid', '1']);
  assert.equal(c.count(pid), 1);
  assert.equal(link.kind, 'tracing');
});

/** An iter/task program printing "TGID PID\n" for every task with bpf_seq_printf. */
function taskIterProgram(): Program {
  const btf = kernelBtf();
  const task = btf.typeByName('task_struct', BtfKind.STRUCT)!.id;
  const pidOff = findMember(btf, task, 'pid')!.bitOffset / 8;
  const tgidOff = findMember(btf, task, 'tgid')!.bitOffset / 8;
  const fmt = Buffer.from('%d %d\n\0\0');
  const b = new ProgramBuilder()
    .load(64, R6, R1, 0) // ctx->meta
    .load(64, R7, R1, 8) // ctx->task
    .jump('jeq', R7, 0, 'out')
    .load(32, R2, R7, tgidOff)
    .store(64, R10, -24, reg(R2))
    .load(32, R2, R7, pidOff)
    .store(64, R10, -16, reg(R2))
    .lddw(R2, fmt.readBigUInt64LE(0))
    .store(64, R10, -8, reg(R2))
    .load(64, R1, R6, 0) // meta->seq
    .mov(R2, reg(R10))
    .alu('add', R2, -8)
    .mov(R3, 8)
    .mov(R4, reg(R10))
    .alu('add', R4, -24)
    .mov(R5, 16)
    .call(FuncId.seq_printf)
    .label('out')
    .mov(R0, 0)
    .exit();
  return Program.load({ type: 'TRACING', expectedAttachType: 'TRACE_ITER', attachBtfId: attachBtfId('iter', 'task').btfId, license: 'GPL', name: 'iter_task', instructions: b.build().instructions });
}

kernelTest('iter/task: reading the iterator lists every task, this process among them', () => {
  using prog = taskIterProgram();
  using link = iter(prog, { target: 'task' });
  const text = link.read();
  const lines = text.trim().split('\n');
  assert.ok(lines.length > 3, text);
  assert.ok(lines.includes(`${process.pid} ${process.pid}`), 'this process is listed');
  assert.ok(lines.every((l) => /^\d+ \d+$/.test(l)));
  const info = link.info();
  assert.equal(info.type, 'ITER');
  assert.equal(info.iterTarget, 'task');
  // A second read starts a new walk.
  assert.ok(link.read().includes(`${process.pid} ${process.pid}\n`));
  // Only this process's threads.
  using mine = iter(prog, { task: { pid: process.pid } });
  const own = mine.read().trim().split('\n');
  assert.ok(own.length >= 1 && own.every((l) => l.startsWith(`${process.pid} `)), own.join('|'));
  using auto = attach(prog, 'iter/task');
  assert.ok(auto.kind === 'iter');
});

kernelTest('kprobes are refused here with a NotSupportedError saying CONFIG_KPROBES is off', (t) => {
  let mechanism;
  try {
    mechanism = kprobeMechanism();
  } catch (e) {
    assert.ok(e instanceof NotSupportedError, String(e));
  }
  if (mechanism) {
    t.diagnostic(`this kernel has kprobes (${JSON.stringify(mechanism)}): nothing refused to check`);
    return;
  }
  using c = counter({ type: 'KPROBE' });
  const fds = openFds();
  for (const make of [() => kprobe(c.prog, 'do_unlinkat'), () => kretprobe(c.prog, 'do_unlinkat'), () => ksyscall(c.prog, 'openat'), () => attach(c.prog, 'kprobe/do_unlinkat+0x4')]) {
    assert.throws(make, (e: unknown) => e instanceof NotSupportedError && e.feature === 'kprobe' && /kprobes are not available: CONFIG_KPROBES is off in this kernel/.test(e.message));
  }
  assert.equal(openFds(), fds, 'nothing left open');
  assert.throws(() => kretprobe(c.prog, 'do_unlinkat', { offset: 4 } as never), InvalidAttachError);
});

kernelTest('kprobe.multi is refused here with a NotSupportedError', (t) => {
  using c = counter({ type: 'KPROBE', expectedAttachType: 'TRACE_KPROBE_MULTI' });
  try {
    kprobeMulti(c.prog, { symbols: ['do_unlinkat', 'vfs_read'] }).close();
    t.diagnostic('this kernel has kprobe.multi: nothing refused to check');
    return;
  } catch (e) {
    assert.ok(e instanceof NotSupportedError, String(e));
    assert.equal(e.feature, 'kprobe.multi');
  }
  assert.throws(() => attach(c.prog, 'kprobe.multi/vfs_rea?'), NotSupportedError);
  using plain = counter({ type: 'KPROBE' });
  assert.throws(() => kprobeMulti(plain.prog, { symbols: ['vfs_read'] }), (e: unknown) => e instanceof InvalidAttachError && /TRACE_KPROBE_MULTI/.test(e.message));
});

kernelTest('fentry, fexit, fmod_ret and LSM programs are refused here with a PermissionError naming the kind', (t) => {
  const cases = [
    { attach: 'TRACE_FENTRY', kind: 'fentry', target: 'do_unlinkat', type: 'TRACING' },
    { attach: 'TRACE_FEXIT', kind: 'fexit', target: 'do_unlinkat', type: 'TRACING' },
    { attach: 'MODIFY_RETURN', kind: 'fmod_ret', target: 'security_file_open', type: 'TRACING' },
    { attach: 'LSM_MAC', kind: 'lsm', target: 'file_open', type: 'LSM' },
  ] as const;
  for (const k of cases) {
    let prog: Program | undefined;
    try {
      prog = Program.load({ type: k.type, expectedAttachType: k.attach, attachBtfId: attachBtfId(k.kind, k.target).btfId, license: 'GPL', name: k.kind, instructions: nop() });
    } catch (e) {
      assert.ok(e instanceof PermissionError, `${k.kind}: ${String(e)}`);
      assert.match(e.message, new RegExp(`${k.type}/${k.attach}`));
      continue;
    }
    // A kernel that loads them (the 6.1 emulated machine): they attach.
    try {
      using link = k.type === 'LSM' ? lsm(prog) : tracing(prog);
      t.diagnostic(`${k.kind} loads and attaches on this kernel (${link.target})`);
    } finally {
      prog.close();
    }
  }
  using c = counter({ type: 'KPROBE' });
  assert.throws(() => lsm(c.prog), InvalidAttachError);
  assert.throws(() => tracing(c.prog), InvalidAttachError);
});
