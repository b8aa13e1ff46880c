/**
 * Hello World on every execve, through the trace pipe: the kernel program calls bpf_printk, and
 * this reads /sys/kernel/tracing/trace_pipe and prints the lines it left there.
 *
 *   node dist/examples/hello-execve/hello.js [--duration SECONDS]
 */
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { tracePrintk } from '../../src/events/index.js';
import { besideSource, exampleArgs, stopSignal } from '../common.js';

const { duration } = exampleArgs();
const signal = stopSignal(duration);
await using obj = await load(besideSource(import.meta.url, 'hello.bpf.o'));
obj.attachAll();
console.log('Attached to syscalls/sys_enter_execve. Run something in another shell; Ctrl-C to stop.');
for await (const line of tracePrintk({ signal })) {
  if (line.message.startsWith('Hello World')) console.log(`${line.comm}-${line.pid} [${line.cpu}] ${line.message}`);
}
