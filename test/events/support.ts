/**
 * Shared pieces of the event reader tests (and bench/ringbuf.ts): programs written with the
 * builder DSL that report getppid() calls of one process, an inline tracepoint attach
 * (perf_event_open + PERF_EVENT_IOC_SET_BPF + ENABLE; the link module does this properly), and a
 * child process that calls getppid() on request.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, reg, type BuiltProgram } from '../../src/asm/index.js';
import { BpfMap, Program } from '../../src/kernel/index.js';
import { newPerfAttr, perfEventOpen, perfIoctl, type Fd } from '../../src/sys/index.js';
import { ensureTracefs, readTracepointFormat } from '../../src/tracefs/index.js';
import { FuncId, PerfType } from '../../src/uapi/enums.js';

/**
 * The control block every test program shares, an ARRAY map with one value:
 * `struct { u32 target_tgid; u32 pad; u64 seq; u64 failed; }` — the process to report, the
 * next sequence number (one per getppid call of that process) and how many outputs failed
 * (ring full).
 */
export const CFG = { target: 0, seq: 8, failed: 16, size: 24 } as const;

export function createCfg(): BpfMap {
  return BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: CFG.size, maxEntries: 1, name: 'ev_cfg' });
}

const KEY0 = new Uint8Array(4);

/** Sets the process to report and zeroes the counters. */
export function setTarget(cfg: BpfMap, tgid: number): void {
  const v = new DataView(new ArrayBuffer(CFG.size));
  v.setUint32(CFG.target, tgid, true);
  cfg.updateBytes(KEY0, new Uint8Array(v.buffer));
}

/** The counters of the control block. */
export function readCfg(cfg: BpfMap): { target: number; seq: number; failed: number } {
  const b = cfg.lookupBytes(KEY0)!;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { target: v.getUint32(CFG.target, true), seq: Number(v.getBigUint64(CFG.seq, true)), failed: Number(v.getBigUint64(CFG.failed, true)) };
}

/**
 * The word at index i of an event with sequence number `seq` (events are filled with these so
 * a torn or misplaced copy shows): word 0 is `pid | seq_lo << 32`, word 1 is seq, word i>1 is
 * seq * 256 + i.
 */
export function patternWord(i: number, seq: number, pid: number): bigint {
  if (i === 0) return BigInt(pid) | (BigInt(seq >>> 0) << 32n);
  if (i === 1) return BigInt(seq);
  return BigInt(seq) * 256n + BigInt(i);
}

/** Checks an event's bytes against {@link patternWord}; returns its seq. */
export function checkEvent(data: Uint8Array, size: number, pid: number): number {
  if (data.byteLength < size) throw new Error(`event of ${data.byteLength} bytes, expected ${size}`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = Number(v.getBigUint64(8, true));
  for (let i = 0; i < Math.floor(size / 8); i++) {
    const got = v.getBigUint64(i * 8, true);
    if (got !== patternWord(i, seq, pid)) throw new Error(`event seq ${seq}: word ${i} is ${got}, expected ${patternWord(i, seq, pid)}`);
  }
  return seq;
}

/**
 * Prologue: r6 = tgid, r7 = &cfg, r8 = seq (fetched and incremented); jumps to 'out' for
 * other processes. r9 = ctx.
 */
export function prologue(b: ProgramBuilder): ProgramBuilder {
  return b
    .mov(R9, reg(R1))
    .call(FuncId.get_current_pid_tgid)
    .alu('rsh', R0, 32)
    .mov(R6, reg(R0))
    .ldMapValue(R7, 'cfg', 0)
    .load(32, R1, R7, CFG.target)
    .jump('jne', R6, reg(R1), 'out')
    .mov(R8, 1)
    .atomic('fetch_add', 64, R7, CFG.seq, R8);
}

/**
 * Writes the pattern words of an event of `size` bytes at `base + off` (r8 = seq, r6 = tgid);
 * a tail shorter than a word is zeroed.
 */
function fillPattern(b: ProgramBuilder, base: 0 | 10, off: number, size: number): void {
  const dst = base === 0 ? R0 : R10;
  if (size % 8) b.store(64, dst, off + size - (size % 8), 0);
  // word 0: pid | seq << 32
  b.mov(R1, reg(R8)).alu('lsh', R1, 32).alu('or', R1, reg(R6)).store(64, dst, off, reg(R1));
  b.store(64, dst, off + 8, reg(R8));
  for (let i = 2; i < Math.floor(size / 8); i++) b.mov(R1, reg(R8)).alu('lsh', R1, 8).alu('add', R1, i).store(64, dst, off + i * 8, reg(R1));
}

/** Epilogue: label 'fail' counts a failed output in cfg, label 'out' returns 0. */
export function failed(b: ProgramBuilder): void {
  b.label('fail').mov(R1, 1).atomic('add', 64, R7, CFG.failed, R1);
  b.label('out').mov(R0, 0).exit();
}

/**
 * A tracepoint program that reserves an event of `size` bytes (a multiple of 8, at least 16)
 * in ring buffer 'events' for each getppid() of the target, fills it with the pattern and
 * submits it, or discards it when `seq % discardEvery === discardEvery - 1`; a failed
 * reservation counts in cfg.failed.
 */
export function ringbufProgram(size: number, discardEvery = 0): ProgramBuilder {
  const b = prologue(new ProgramBuilder());
  b.ldMap(R1, 'events').mov(R2, size).mov(R3, 0).call(FuncId.ringbuf_reserve).jump('jeq', R0, 0, 'fail');
  fillPattern(b, 0, 0, size);
  if (discardEvery > 0) {
    b.mov(R2, reg(R8)).alu('mod', R2, discardEvery).jump('jne', R2, discardEvery - 1, 'submit');
    b.mov(R1, reg(R0)).mov(R2, 0).call(FuncId.ringbuf_discard).goto('out');
  }
  b.label('submit').mov(R1, reg(R0)).mov(R2, 0).call(FuncId.ringbuf_submit).goto('out');
  failed(b);
  return b;
}

/** Like {@link ringbufProgram}, through bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ...). */
export function perfbufProgram(size: number): ProgramBuilder {
  if (size > 256) throw new Error('the event is built on the stack');
  const b = prologue(new ProgramBuilder());
  const at = -Math.ceil(size / 8) * 8;
  fillPattern(b, 10, at, size);
  b.mov(R1, reg(R9))
    .ldMap(R2, 'events')
    .lddw(R3, 0xffffffffn) // BPF_F_CURRENT_CPU
    .mov(R4, reg(R10))
    .alu('add', R4, at)
    .mov(R5, size)
    .call(FuncId.perf_event_output)
    .jump('jsge', R0, 0, 'out')
    .goto('fail');
  failed(b);
  return b;
}

/**
 * A tracepoint program printing `"<tag> <tgid> <seq>"` with bpf_trace_printk for each getppid()
 * of the target.
 */
export function printkProgram(tag: string): ProgramBuilder {
  const fmt = Buffer.from(`${tag} %u %u\0`);
  const padded = Buffer.alloc(Math.ceil(fmt.length / 8) * 8);
  fmt.copy(padded);
  const b = prologue(new ProgramBuilder());
  for (let i = 0; i < padded.length; i += 8) b.lddw(R1, padded.readBigUInt64LE(i)).store(64, R10, -padded.length + i, reg(R1));
  b.mov(R1, reg(R10))
    .alu('add', R1, -padded.length)
    .mov(R2, fmt.length)
    .mov(R3, reg(R6))
    .mov(R4, reg(R8))
    .call(FuncId.trace_printk);
  b.label('out').mov(R0, 0).exit();
  return b;
}

/** Patches map references of a built program with fds. */
export function linkMaps(built: BuiltProgram, maps: Record<string, { fd: Fd }>): BuiltProgram['instructions'] {
  const insns = built.instructions.map((i) => ({ ...i }));
  for (const ref of built.references) {
    const map = maps[ref.symbol];
    if (!map) throw new Error(`program refers to unknown map '${ref.symbol}'`);
    insns[ref.index]!.imm = map.fd.value;
  }
  return insns;
}

/** Loads a builder program as a tracepoint program with its maps. */
export function loadTracepoint(b: ProgramBuilder, maps: Record<string, { fd: Fd }>, name = 'ev_test'): Program {
  return Program.load({ type: 'TRACEPOINT', license: 'GPL', name, instructions: linkMaps(b.build(), maps) });
}

/**
 * Attaches a tracepoint program the way the link module will: perf_event_open(PERF_TYPE_TRACEPOINT,
 * config = the event id from tracefs), PERF_EVENT_IOC_SET_BPF, PERF_EVENT_IOC_ENABLE. Closing
 * the returned fd detaches it.
 */
export function attachTracepoint(prog: Program, category: string, name: string): Fd {
  ensureTracefs();
  const format = readTracepointFormat(category, name);
  if (!format) throw new Error(`no tracepoint ${category}/${name}`);
  const attr = newPerfAttr({ type: PerfType.TRACEPOINT, config: format.id, sample_period: 1, wakeup_events: 1 });
  const fd = perfEventOpen(attr, -1, 0, { subject: `tracepoint ${category}/${name}` });
  try {
    perfIoctl(fd.value, 'SET_BPF', prog.fd.value);
    perfIoctl(fd.value, 'ENABLE');
  } catch (err) {
    fd.close();
    throw err;
  }
  return fd;
}

const CHILD = `
import os, sys
cpu = int(sys.argv[1])
if cpu >= 0:
    os.sched_setaffinity(0, {cpu})
g = os.getppid
for line in sys.stdin:
    n = int(line)
    for _ in range(n):
        g()
    sys.stdout.write("ok\\n")
    sys.stdout.flush()
`;

/** A python3 process that calls getppid() `n` times whenever asked, optionally pinned to a CPU. */
export class GetppidChild {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private readonly acks: Array<() => void> = [];

  constructor(cpu = -1) {
    this.proc = spawn('/usr/bin/python3', ['-c', CHILD, String(cpu)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.proc.pid!;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
    createInterface({ input: this.proc.stdout }).on('line', () => this.acks.shift()?.());
  }

  /** Calls getppid() n times in the child; resolves once it has. */
  call(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.acks.push(resolve);
      this.proc.stdin.write(`${n}\n`);
    });
  }

  /** Ends the child (EOF on its stdin) and waits for it. */
  async end(): Promise<void> {
    this.proc.stdin.end();
    await this.exited;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

/** How many fds this process has open (/proc/self/fd). */
export function procFds(): number {
  return readdirSync('/proc/self/fd').length;
}

