import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTraceLine, TracePipeReader, type TraceLine } from '../../src/events/index.js';
import { kernelTest } from '../support/kernel.js';
import { attachTracepoint, createCfg, GetppidChild, loadTracepoint, printkProgram, setTarget } from './support.js';

test('trace_pipe lines: current and older formats, odd comms', () => {
  assert.deepEqual(parseTraceLine('         python3-4242    [001] d..31  5762.193418: bpf_trace_printk: hello world'), {
    comm: 'python3',
    pid: 4242,
    cpu: 1,
    flags: 'd..31',
    timestamp: 5762.193418,
    event: 'bpf_trace_printk',
    message: 'hello world',
  });
  // Older kernels: no colon after the event name, four flag characters.
  assert.deepEqual(parseTraceLine('           <...>-1234  [000] .... 12.000001: bpf_trace_printk pid 7\n'), {
    comm: '<...>',
    pid: 1234,
    cpu: 0,
    flags: '....',
    timestamp: 12.000001,
    event: 'bpf_trace_printk',
    message: 'pid 7',
  });
  // A comm with spaces and dashes, a message that looks like a prefix.
  const odd = parseTraceLine(' Web Content-x-99-31337 [003] ..s2. 1.5: bpf_trace_printk: a-1 [2] .... 3.0: x');
  assert.equal(odd?.comm, 'Web Content-x-99');
  assert.equal(odd?.pid, 31337);
  assert.equal(odd?.cpu, 3);
  assert.equal(odd?.message, 'a-1 [2] .... 3.0: x');
  // record-tgid column, no flags column, another event.
  const tgid = parseTraceLine('kworker/0:1-events-88 (   80) [000] 100.25: sched_switch: prev_comm=a');
  assert.equal(tgid?.comm, 'kworker/0:1-events');
  assert.equal(tgid?.pid, 88);
  assert.equal(tgid?.tgid, 80);
  assert.equal(tgid?.flags, '');
  assert.equal(tgid?.event, 'sched_switch');
  assert.equal(tgid?.message, 'prev_comm=a');
  assert.equal(parseTraceLine('CPU:1 [LOST 12 EVENTS]'), undefined);
  assert.equal(parseTraceLine(''), undefined);
  assert.equal(parseTraceLine('# tracer: nop'), undefined);
});

kernelTest('trace_pipe: bpf_trace_printk lines of a child, with its pid and message', async () => {
  const tag = `tsbpf${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  using cfg = createCfg();
  using prog = loadTracepoint(printkProgram(tag), { cfg }, 'ev_printk');
  using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
  void link;
  await using pipe = await TracePipeReader.open({ event: 'bpf_trace_printk' });
  const child = new GetppidChild();
  try {
    setTarget(cfg, child.pid);
    await child.call(5);
    const mine: TraceLine[] = [];
    for await (const line of pipe.lines({ signal: AbortSignal.timeout(10_000) })) {
      if (!line.message.startsWith(tag)) continue;
      mine.push(line);
      if (mine.length === 5) break;
    }
    assert.equal(mine.length, 5);
    mine.forEach((line, i) => {
      assert.equal(line.pid, child.pid);
      assert.equal(line.comm, 'python3');
      assert.equal(line.event, 'bpf_trace_printk');
      assert.equal(line.message, `${tag} ${child.pid} ${i}`);
      assert.ok(line.timestamp > 0);
    });
    // Aborting while waiting ends the loop without an error.
    let more = 0;
    for await (const line of pipe.lines({ signal: AbortSignal.timeout(100) })) if (line.message.startsWith(tag)) more++;
    assert.equal(more, 0);
  } finally {
    await child.end();
  }
  pipe.close();
  assert.ok(pipe.closed);
  assert.deepEqual(pipe.readAvailable(), []);
});
