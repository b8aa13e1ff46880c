/**
 * Reading what BPF programs report: BPF ring buffers (zero-copy leases, batched commits),
 * perf event arrays (one ring per CPU, losses counted) and trace_pipe (bpf_printk). Every
 * reader is an async iterable that accepts an AbortSignal, has a callback API for hot paths,
 * and waits on the event loop (epoll through the addon), never on a thread.
 */
export {
  RingBufReader,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  DEFAULT_COALESCE_MS,
  type RingBufReaderOptions,
  type RingBufRecord,
  type RingBufIterateOptions,
  type RingBufConsumeOptions,
} from './ringbuf.js';
export {
  PerfBufReader,
  PERF_EVENT_HEADER_SIZE,
  type PerfBufReaderOptions,
  type PerfBufIterateOptions,
  type PerfBufConsumeOptions,
  type PerfBufStats,
  type PerfEvent,
  type PerfSample,
  type PerfLost,
} from './perfbuf.js';
export { TracePipeReader, tracePrintk, parseTraceLine, type TraceLine, type TracePipeOptions, type TracePipeIterateOptions } from './trace-pipe.js';
export type { MapSource } from './source.js';
export { onlineCpus, possibleCpuList as possibleCpus, parseCpuList, pageSize } from '../sys/system.js';
export { decodedRecords, RecordSizeError } from './records.js';
