// Lost perf samples are reported through events() (onLost), not dropped silently: a child makes
// far more 256-byte samples than the 32 KiB rings hold while nobody reads, and what arrives plus
// what the kernel reports lost accounts for every one of its calls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type * as Lost from './lost.bpf.js';
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { kernelTest, slowdown } from '../support/kernel.js';

const SOURCE = new URL('../../../test/typed/lost.bpf.ts', import.meta.url);
const CALLS = 3000;

kernelTest('events(): samples a full perf ring could not take are reported to onLost with their CPU', async () => {
  await using obj = await load<typeof Lost>(SOURCE);
  let lost = 0;
  const cpus = new Set<number>();
  const events = obj.events('samples', {
    signal: AbortSignal.timeout(3000 * slowdown),
    onLost: (count, cpu) => {
      lost += count;
      cpus.add(cpu);
    },
  });
  obj.attachAll();
  // Both children on CPU 0: a ring's lost record comes with that CPU's next sample.
  const child = spawnSync('taskset', ['-c', '0', 'python3', '-c', `import os\nfor _ in range(${CALLS}): os.getppid()`]);
  assert.equal(child.status, 0, String(child.stderr));
  // The kernel writes its lost-samples record at the next sample that fits, once the reader has
  // made room: a second, small child supplies it.
  setTimeout(() => spawnSync('taskset', ['-c', '0', 'python3', '-c', 'import os\nfor _ in range(10): os.getppid()']), 500 * slowdown);
  let received = 0;
  for await (const s of events) if (s.pid === child.pid) received++;
  assert.ok(received > 0, 'some samples arrived');
  assert.ok(lost > 0, `the kernel reported losses (received ${received} of ${CALLS})`);
  assert.ok(received + lost >= CALLS, `received ${received} + lost ${lost} account for the child's ${CALLS} calls`);
  assert.ok([...cpus].every((c) => Number.isInteger(c) && c >= 0));
});
