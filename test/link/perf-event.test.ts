import assert from 'node:assert/strict';
import { R0 } from '../../src/asm/index.js';
import { InvalidAttachError, MultiLink, onlineCpus, perfEvent } from '../../src/link/index.js';
import { openFds } from '../../src/sys/index.js';
import { expectPerfLinkInfo } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { counter, sleep } from './support.js';

function spin(ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
}

kernelTest('perf_event: cpu-clock sampling on every CPU fires the program, and stops when closed', async (t) => {
  using c = counter({ type: 'PERF_EVENT', key: (b) => b.mov(R0, 0), name: 'sampler' });
  const fds = openFds();
  const link = perfEvent(c.prog, { event: 'cpu-clock', frequency: 1000 });
  try {
    assert.ok(link instanceof MultiLink);
    assert.equal(link.links.length, onlineCpus().length, 'one perf event per CPU');
    spin(300);
    assert.ok(c.count(0) > 10, `${c.count(0)} samples`);
    const info = link.links[0]!.info();
    assert.equal(info.type, 'PERF_EVENT');
    // PERF_TYPE_SOFTWARE, or on 6.18 the dynamic type of the cpu-clock PMU the kernel moved it to.
    expectPerfLinkInfo(t, info, { perfEvent: 'event', config: 0n }); // PERF_COUNT_SW_CPU_CLOCK
    if (info.perfEvent === 'event') assert.equal(typeof info.perfType, 'number');
    assert.throws(() => link.info(), /group of/);
  } finally {
    link.close();
  }
  assert.equal(openFds(), fds);
  const settled = c.count(0);
  spin(100);
  await sleep(20);
  assert.equal(c.count(0), settled, 'no samples after close');
});

kernelTest('perf_event: a period on one process, and checked inputs', () => {
  using c = counter({ type: 'PERF_EVENT', key: (b) => b.mov(R0, 0) });
  {
    using link = perfEvent(c.prog, { event: 'task-clock', period: 1_000_000, pid: process.pid });
    spin(100);
    assert.ok(c.count(0) > 5, `${c.count(0)} samples`);
    assert.match(link.target, /task-clock every 1000000/);
  }
  assert.throws(() => perfEvent(c.prog, { frequency: 10, period: 10 }), InvalidAttachError);
  assert.throws(() => perfEvent(c.prog, { event: 'bogus' as never }), InvalidAttachError);
  using tp = counter({ type: 'TRACEPOINT' });
  assert.throws(() => perfEvent(tp.prog), InvalidAttachError);
});
