/**
 * Hello on execve with the kernel side in TypeScript (hello.bpf.ts): every execve sends a
 * {pid, comm} record through a ring buffer, decoded here into the ExecEvent the kernel side
 * declared ({ pid: number; comm: string }) with no code generation.
 *
 *   node dist/examples/ts/hello/hello.js [--duration SECONDS]
 */
import type * as Hello from './hello.bpf.js';
import { load } from '../../../src/load.js';
import '../../../src/link/index.js';
import { besideSource, exampleArgs, stopSignal } from '../../common.js';

const { duration } = exampleArgs();
await using obj = await load<typeof Hello>(besideSource(import.meta.url, 'hello.bpf.ts'));
obj.attachAll();
// The duration counts from here, once tracing runs (compiling and loading take their own time).
const signal = stopSignal(duration);
const events = obj.events('events', { signal });
console.log('PID      COMM');
for await (const e of events) console.log(`${String(e.pid).padEnd(8)} ${e.comm}`);
