/**
 * Ring buffer throughput: a child calls getppid() N times (default 3,000,000); a tracepoint
 * program on syscalls/sys_enter_getppid, filtered to that child, reserves a 24-byte event
 * {u32 pid, u32 seq_lo, u64 ts, u64 seq} per call in a 4 MiB ring buffer and counts failed
 * reservations in an array map. Two consumers read the same map in turn, each with its own
 * producer run:
 *
 * - tsbpf: RingBufReader.consume() in this process (callback API, zero-copy, batched commits),
 *   with its default wakeup coalescing (1 ms under load), and again with coalesceMs 0 (every
 *   batch on its epoll wakeup, as libbpf does);
 * - libbpf: bench/ringbuf-consumer.c, ring_buffer__poll() in a child that inherits the map fd.
 *
 * One JSON line per consumer: {consumer, n, received, dropped, wall_s, consumer_cpu_s,
 * events_per_cpu_s, ns_cpu_per_event, wakeups}. Consumer CPU is user + system time of the
 * consuming process (process.cpuUsage / getrusage) from the producer's start to the last record.
 *
 *   npm run bench:ringbuf [-- --n 3000000 --rounds 1 --coalesce 1 --warmup 300000 --pin]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON), cc and libbpf-dev.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ProgramBuilder, R0, R1, R2, R3, R6, R8, R9, reg } from '../src/asm/index.js';
import { DEFAULT_COALESCE_MS, RingBufReader } from '../src/events/index.js';
import { BpfMap } from '../src/kernel/index.js';
import { FuncId } from '../src/uapi/enums.js';
import { attachTracepoint, createCfg, failed, loadTracepoint, prologue, readCfg, setTarget } from '../test/events/support.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

let N = arg('n', 3_000_000);
/** Events of an unreported first run of each consumer, so that JIT compilation is not measured. */
const WARMUP = arg('warmup', 300_000);
const ROUNDS = arg('rounds', 1);
/** The default line's coalescing (RingBufReader's default unless given). */
const COALESCE_MS = arg('coalesce', DEFAULT_COALESCE_MS);
const RING = 4 << 20;
const EVENT = 24;

const PRODUCER = `
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  char go;
  if (read(0, &go, 1) != 1) return 1;
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  return 0;
}
`;

/** The bench program: event {u32 pid; u32 seq_lo; u64 ts; u64 seq} per getppid() of the target. */
function program(): ProgramBuilder {
  const b = prologue(new ProgramBuilder()); // r6 = tgid, r7 = &cfg, r8 = seq
  b.call(FuncId.ktime_get_ns)
    .mov(R9, reg(R0))
    .ldMap(R1, 'events')
    .mov(R2, EVENT)
    .mov(R3, 0)
    .call(FuncId.ringbuf_reserve)
    .jump('jeq', R0, 0, 'fail')
    .store(32, R0, 0, reg(R6))
    .store(32, R0, 4, reg(R8))
    .store(64, R0, 8, reg(R9))
    .store(64, R0, 16, reg(R8))
    .mov(R1, reg(R0))
    .mov(R2, 0)
    .call(FuncId.ringbuf_submit)
    .goto('out');
  failed(b);
  return b;
}

function build(dir: string): { producer: string; consumer: string } {
  const producerSrc = join(dir, 'getppid-loop.c');
  writeFileSync(producerSrc, PRODUCER);
  const producer = join(dir, 'getppid-loop');
  execFileSync('cc', ['-O2', '-o', producer, producerSrc]);
  const consumer = join(dir, 'ringbuf-consumer');
  const source = fileURLToPath(new URL('../../bench/ringbuf-consumer.c', import.meta.url));
  execFileSync('cc', ['-O2', '-Wall', '-o', consumer, source, '-lbpf']);
  return { producer, consumer };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code))));
}

interface Figure {
  consumer: string;
  n: number;
  received: number;
  dropped: number;
  wall_s: number;
  consumer_cpu_s: number;
  events_per_cpu_s: number;
  ns_cpu_per_event: number;
  wakeups: number;
}

function figure(consumer: string, received: number, dropped: number, wall: number, cpu: number, wakeups: number): Figure {
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    consumer,
    n: N,
    received,
    dropped,
    wall_s: r3(wall),
    consumer_cpu_s: r3(cpu),
    events_per_cpu_s: Math.round(received / cpu),
    ns_cpu_per_event: Math.round((cpu * 1e9) / received),
    wakeups,
  };
}

/**
 * --pin: the producer on CPU 1, the consumers' (main) threads on CPU 0. Steadier figures on an
 * idle machine; on a busy one a pinned consumer is stalled by whatever else runs on its CPU.
 */
const PIN = process.argv.includes('--pin');
const PRODUCER_CPU = '1';

/** A paused producer (started by a byte on its stdin), on its own CPU with --pin. */
function producer(path: string): ChildProcess {
  const argv = PIN ? ['taskset', '-c', PRODUCER_CPU, path, String(N)] : [path, String(N)];
  return spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'inherit'] });
}

async function runTsbpf(events: BpfMap, cfg: BpfMap, producerPath: string, coalesceMs: number): Promise<Figure> {
  const child = producer(producerPath);
  setTarget(cfg, child.pid!);
  using reader = RingBufReader.open(events);
  let received = 0;
  let outOfOrder = 0;
  let last = -1;
  let pidXor = 0;
  const onRecord = (rec: { view: DataView; offset: number }): void => {
    const v = rec.view;
    pidXor ^= v.getUint32(rec.offset, true);
    const seq = v.getUint32(rec.offset + 4, true);
    if (seq <= last) outOfOrder++;
    last = seq;
    received++;
  };
  const ac = new AbortController();
  const consuming = reader.consume(onRecord, { signal: ac.signal, coalesceMs });
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const done = exited(child);
  child.stdin!.end('g');
  await done;
  ac.abort();
  await consuming;
  reader.drain(onRecord);
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const { failed: dropped } = readCfg(cfg);
  if (outOfOrder) throw new Error(`tsbpf: ${outOfOrder} records out of order`);
  void pidXor;
  return figure(coalesceMs === DEFAULT_COALESCE_MS ? 'tsbpf' : `tsbpf coalesceMs=${coalesceMs}`, received, dropped, wall, (cpu.user + cpu.system) / 1e6, reader.wakeups);
}

async function runLibbpf(events: BpfMap, cfg: BpfMap, producerPath: string, consumerPath: string): Promise<Figure> {
  const argv = PIN ? ['taskset', '-c', '0', consumerPath, '3'] : [consumerPath, '3'];
  const consumer = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit', events.fd.value] });
  const lines = createInterface({ input: consumer.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`ringbuf-consumer said '${line}'`))));
    consumer.once('exit', (code) => reject(new Error(`ringbuf-consumer exited (${code})`)));
  });
  await ready;
  const child = producer(producerPath);
  setTarget(cfg, child.pid!);
  const started = process.hrtime.bigint();
  const done = exited(child);
  child.stdin!.end('g');
  await done;
  const result = new Promise<string>((resolve) => lines.once('line', resolve));
  consumer.kill('SIGUSR1');
  const line = await result;
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  await exited(consumer);
  const r = JSON.parse(line) as { received: number; out_of_order: number; wakeups: number; cpu_s: number };
  if (r.out_of_order) throw new Error(`libbpf: ${r.out_of_order} records out of order`);
  const { failed: dropped } = readCfg(cfg);
  return figure('libbpf ring_buffer__poll', r.received, dropped, wall, r.cpu_s, r.wakeups);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  try {
    const { producer: producerPath, consumer: consumerPath } = build(dir);
    using cfg = createCfg();
    using events = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: RING, name: 'bench_events' });
    using prog = loadTracepoint(program(), { cfg, events }, 'bench_ringbuf');
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    void link;
    // This thread (the tsbpf consumer) on CPU 0 like the C consumer, the producer on CPU 1.
    if (PIN) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
    const runs = [() => runTsbpf(events, cfg, producerPath, COALESCE_MS), () => runTsbpf(events, cfg, producerPath, 0), () => runLibbpf(events, cfg, producerPath, consumerPath)];
    if (WARMUP > 0) {
      const n = N;
      N = WARMUP;
      for (const run of runs) await run();
      N = n;
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that no consumer always runs first.
      const order = round % 2 ? [...runs].reverse() : runs;
      for (const run of order) console.log(JSON.stringify(await run()));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
