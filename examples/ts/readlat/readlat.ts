/**
 * read() latency with the kernel side in TypeScript (readlat.bpf.ts): sys_enter_read and
 * sys_exit_read tracepoints time every read() and count it in a log2 slot of an
 * ArrayMap<u64>; at the end the slots are printed as bpftrace prints `hist()`.
 *
 *   node dist/examples/ts/readlat/readlat.js [--duration SECONDS]
 */
import type * as Readlat from './readlat.bpf.js';
import { load } from '../../../src/load.js';
import '../../../src/link/index.js';
import { aborted, besideSource, exampleArgs, stopSignal } from '../../common.js';
import { log2Histogram } from './log2-histogram.js';

const { duration } = exampleArgs();
await using obj = await load<typeof Readlat>(besideSource(import.meta.url, 'readlat.bpf.ts'));
obj.attachAll();
// The duration counts from here, once tracing runs (compiling and loading take their own time).
const signal = stopSignal(duration);
console.log(`Timing read() calls${duration ? ` for ${duration}s` : ''}... Ctrl-C to end.`);
await aborted(signal);
// Slot s counts reads that took [2^s, 2^(s+1)) ns (slot 0: under 2 ns).
const slots = [...obj.maps.hist.entries()].sort(([a], [b]) => a - b).map(([, n]) => n);
console.log(`\n@nsecs:\n${log2Histogram(slots)}`);
console.log(`reads: ${slots.reduce((a, b) => a + b, 0n)}`);
