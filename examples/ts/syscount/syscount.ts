/**
 * Syscalls per command with the kernel side in TypeScript (syscount.bpf.ts): a raw tracepoint
 * on sys_enter counts into a HashMap<Comm, u64>, read here as a map of string to bigint and
 * printed sorted when the duration ends or on Ctrl-C (bpftrace's `@[comm] = count()`).
 *
 *   node dist/examples/ts/syscount/syscount.js [--duration SECONDS] [--top N]
 */
import type * as Syscount from './syscount.bpf.js';
import { load } from '../../../src/load.js';
import '../../../src/link/index.js';
import { aborted, besideSource, exampleArgs, printCounts, stopSignal } from '../../common.js';

const { values, duration } = exampleArgs(['top']);
const top = values.top === undefined ? 20 : Number(values.top);
await using obj = await load<typeof Syscount>(besideSource(import.meta.url, 'syscount.bpf.ts'));
obj.attachAll();
// The duration counts from here, once tracing runs (compiling and loading take their own time).
const signal = stopSignal(duration);
console.log(`Counting syscalls per command${duration ? ` for ${duration}s` : ''}... Ctrl-C to end.`);
await aborted(signal);
printCounts(obj.maps.counts.entries(), top);
