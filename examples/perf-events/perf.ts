/**
 * execve events through a perf buffer: one ring per CPU, each record with the CPU it came from,
 * and the number of records the kernel had to drop when a ring was full.
 *
 *   node dist/examples/perf-events/perf.js [--duration SECONDS]
 */
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { PerfBufReader } from '../../src/events/index.js';
import { BtfKind } from '../../src/btf/index.js';
import { btfCodec } from '../../src/kernel/codec-btf.js';
import { besideSource, exampleArgs, stopSignal } from '../common.js';

/** struct exec_event in exec_perf.bpf.c. */
interface ExecEvent {
  pid: number;
  cpu: number;
  comm: string;
}

const { duration } = exampleArgs();
const signal = stopSignal(duration);
await using obj = await load(besideSource(import.meta.url, 'exec_perf.bpf.o'));
const btf = obj.spec.btf!;
const event = btfCodec<ExecEvent>(btf, btf.typeByName('exec_event', BtfKind.STRUCT)!.id);
using reader = PerfBufReader.open(obj.maps.events!);
obj.attachAll();
console.log('CPU PID      COMM');
for await (const ev of reader.records({ signal })) {
  if (ev.type === 'lost') {
    console.log(`(lost ${ev.lost} events on CPU ${ev.cpu})`);
    continue;
  }
  const e = event.decode(ev.data);
  console.log(`${String(ev.cpu).padEnd(3)} ${String(e.pid).padEnd(8)} ${e.comm}`);
}
console.log(`lost ${reader.stats().lost} events in total`);
