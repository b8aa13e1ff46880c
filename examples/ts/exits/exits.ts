/**
 * Process exits with the kernel side in TypeScript (exits.bpf.ts): a tp_btf program on
 * sched_process_exit reads the parent's pid through `task.real_parent.tgid` (CO-RE: the
 * offsets are fixed up for the running kernel at load), and sends {pid, ppid, comm} records
 * through a ring buffer, printed one per exit.
 *
 *   node dist/examples/ts/exits/exits.js [--duration SECONDS]
 */
import type * as Exits from './exits.bpf.js';
import { load } from '../../../src/load.js';
import '../../../src/link/index.js';
import { besideSource, exampleArgs, stopSignal } from '../../common.js';

const { duration } = exampleArgs();
await using obj = await load<typeof Exits>(besideSource(import.meta.url, 'exits.bpf.ts'));
obj.attachAll();
// The duration counts from here, once tracing runs (compiling and loading take their own time).
const signal = stopSignal(duration);
const events = obj.events('events', { signal });
console.log('PID      PPID     COMM');
for await (const e of events) console.log(`${String(e.pid).padEnd(8)} ${String(e.ppid).padEnd(8)} ${e.comm}`);
