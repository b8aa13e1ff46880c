/**
 * The same hello as structured events: {pid, comm} records from a ring buffer, decoded with the
 * BTF type the kernel program declared (struct exec_event), and a count of events the ring had
 * no room for.
 *
 *   node dist/examples/hello-execve/hello-ringbuf.js [--duration SECONDS]
 */
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { RingBufReader } from '../../src/events/index.js';
import { BtfKind } from '../../src/btf/index.js';
import { btfCodec } from '../../src/kernel/codec-btf.js';
import { besideSource, exampleArgs, stopSignal } from '../common.js';

/** struct exec_event in hello_ringbuf.bpf.c. */
interface ExecEvent {
  pid: number;
  comm: string;
}

const { duration } = exampleArgs();
const signal = stopSignal(duration);
await using obj = await load(besideSource(import.meta.url, 'hello_ringbuf.bpf.o'));
const btf = obj.spec.btf!;
const decode = btfCodec<ExecEvent>(btf, btf.typeByName('exec_event', BtfKind.STRUCT)!.id);
using reader = RingBufReader.open(obj.maps.events!);
obj.attachAll();
console.log('PID      COMM');
for await (const rec of reader.records({ signal })) {
  const ev = decode.decode(rec.data);
  console.log(`${String(ev.pid).padEnd(8)} ${ev.comm}`);
}
const dropped = obj.maps.dropped!.lookupBytes(new Uint8Array(4));
const lost = dropped ? new DataView(dropped.buffer).getBigUint64(0, true) : 0n;
console.log(`lost ${lost} events (ring buffer full)`);
