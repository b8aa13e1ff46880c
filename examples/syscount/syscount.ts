/**
 * Syscalls per command: the bpftrace one-liner `tracepoint:raw_syscalls:sys_enter { @[comm] =
 * count(); }` recreated. Counts in the kernel (a hash map keyed by comm), prints them sorted when
 * the duration ends or on Ctrl-C.
 *
 *   node dist/examples/syscount/syscount.js [--duration SECONDS] [--syscall NR] [--top N]
 */
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { TypedMap } from '../../src/kernel/index.js';
import { aborted, besideSource, exampleArgs, printCounts, stopSignal } from '../common.js';

const { values, duration } = exampleArgs(['syscall', 'top']);
const onlySyscall = values.syscall === undefined ? -1n : BigInt(values.syscall);
const top = values.top === undefined ? 20 : Number(values.top);
const signal = stopSignal(duration);

await using obj = await load(besideSource(import.meta.url, 'syscount.bpf.o'), { constants: { only_syscall: onlySyscall } });
const spec = obj.spec.maps.find((m) => m.name === 'counts')!;
const counts = TypedMap.fromBtf<{ comm: string }, bigint>(obj.maps.counts!, obj.spec.btf!, spec.keyType, spec.valueType);
obj.attachAll();
console.log(`Counting ${onlySyscall < 0n ? 'syscalls' : `syscall ${onlySyscall}`} per command${duration ? ` for ${duration}s` : ''}... Ctrl-C to end.`);
await aborted(signal);

printCounts([...counts.entries()].map(([key, n]) => [key.comm, n]), top);
