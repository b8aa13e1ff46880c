/**
 * The VM-vs-kernel differential harness: one program of an object runs in the kernel
 * (BPF_PROG_TEST_RUN) and in the userspace VM (vmForObject) on the same packets and contexts;
 * after every run the return values, the packets as the program left them, the context fields
 * it may write, the records it put in ring buffers and the contents of every map must agree.
 *
 * How the VM is given what the kernel's test run gives a program (net/bpf/test_run.c):
 *  - XDP: `struct xdp_md` with data/data_end/data_meta pointing at the packet (see context.ts
 *    for the rewrite of those loads), ingress_ifindex 1 (lo, the device of a test run).
 *  - tc (SCHED_CLS): `struct __sk_buff` of the whole frame: len, protocol as eth_type_trans()
 *    computes it, mark, priority and cb from the context passed in, ifindex 1 (lo); ld_abs
 *    reads the frame from the Ethernet header.
 *  - socket filter: the same, but the test run pulls the Ethernet header first
 *    (eth_type_trans), so len excludes it and ld_abs offset 0 is the network header; the data
 *    handed back has the 14 Ethernet bytes zeroed (the run pushes an empty header back).
 *  - helpers: the VM's task (pid, tgid, uid, gid, comm) is this process's main thread, which is
 *    what the kernel's `current` is during the test run.
 *  - per-CPU maps: the kernel runs the program on whichever CPU the syscall ran on, so the
 *    kernel's values are summed over CPUs (64-bit words) and compared with the VM's one CPU.
 */
import { readFileSync } from 'node:fs';
import { RingBufReader } from '../../src/events/index.js';
import { Collection } from '../../src/kernel/collection.js';
import type { BpfMap } from '../../src/kernel/map.js';
import type { Program } from '../../src/kernel/program.js';
import type { ObjectSpec, ProgramSpec } from '../../src/object/index.js';
import { Errno, SyscallError } from '../../src/sys/index.js';
import { Engine, HashMap, RegionKind, RingBuffer, vmForObject, type MapModel } from '../../src/vm/index.js';
import { rewriteContextLoads, setPointers, shadowSize, SK_BUFF, SKB, XDP_MD, type ContextLayout } from './context.js';

/** The program kinds BPF_PROG_TEST_RUN runs on a packet. */
export type PacketKind = 'xdp' | 'tc' | 'socket';

/** One run's input. */
export interface DiffInput {
  /** The frame, from its Ethernet header (at least 14 bytes). */
  packet: Uint8Array;
  /** __sk_buff fields the caller may set (tc and socket filters). */
  mark?: number;
  priority?: number;
  cb?: readonly number[];
}

/** What one run gave. */
export interface Outcome {
  retval: number;
  packet: string;
  /** tc: __sk_buff fields a program may write (mark, priority, tc_index, cb). */
  ctx?: string;
  /** Ring buffer records written during the run, by map. */
  records: Record<string, string[]>;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function kindOf(program: ProgramSpec): PacketKind {
  switch (program.progType) {
    case 'XDP':
      return 'xdp';
    case 'SCHED_CLS':
    case 'SCHED_ACT':
      return 'tc';
    case 'SOCKET_FILTER':
      return 'socket';
    default:
      throw new Error(`program '${program.name}' is ${program.progType}: the differential test runs XDP, tc and socket filter programs`);
  }
}

/**
 * skb->protocol after eth_type_trans() (net/ethernet/eth.c), as the u32 field of __sk_buff
 * reads it: the raw big-endian EtherType for Ethernet II frames (type >= 0x600); for 802.3
 * lengths ETH_P_802_3 when the payload starts with 0xFFFF (raw IPX), else ETH_P_802_2.
 */
export function skbProtocol(frame: Uint8Array): number {
  const type = (frame[12]! << 8) | frame[13]!;
  const be = (v: number): number => ((v & 0xff) << 8) | (v >> 8);
  if (type >= 0x600) return be(type);
  if (frame.length >= 16 && frame[14] === 0xff && frame[15] === 0xff) return be(0x0001);
  return be(0x0004);
}

/**
 * Frames BPF_PROG_TEST_RUN refuses with EINVAL for skb programs (tc, socket filters) on 6.18:
 * an IPv4 EtherType with less than a 20-byte header after the Ethernet header, or IPv6 with
 * less than 40 (found by this test; XDP runs take them). Such inputs are run on neither side.
 */
export function refusedFrame(frame: Uint8Array, kind: PacketKind): boolean {
  if (kind === 'xdp') return false;
  const type = (frame[12]! << 8) | frame[13]!;
  return (type === 0x0800 && frame.length < 14 + 20) || (type === 0x86dd && frame.length < 14 + 40);
}

/** The __sk_buff a test run starts with (the fields this harness models). */
function skbContext(input: DiffInput, kind: PacketKind): Uint8Array {
  const ctx = new Uint8Array(shadowSize(SK_BUFF));
  const v = new DataView(ctx.buffer);
  v.setUint32(SKB.len, kind === 'socket' ? input.packet.length - 14 : input.packet.length, true);
  v.setUint32(SKB.protocol, skbProtocol(input.packet), true);
  v.setUint32(SKB.mark, input.mark ?? 0, true);
  v.setUint32(SKB.priority, input.priority ?? 0, true);
  v.setUint32(SKB.ifindex, 1, true);
  (input.cb ?? []).forEach((c, i) => v.setUint32(SKB.cb + 4 * i, c, true));
  v.setUint32(SKB.wire_len, input.packet.length, true);
  v.setUint32(SKB.gso_segs, 1, true);
  return ctx;
}

/** The __sk_buff passed to the kernel: only the fields a test run accepts (convert___skb_to_skb). */
function skbInput(input: DiffInput): Uint8Array {
  const ctx = new Uint8Array(SKB.size);
  const v = new DataView(ctx.buffer);
  v.setUint32(SKB.mark, input.mark ?? 0, true);
  v.setUint32(SKB.priority, input.priority ?? 0, true);
  (input.cb ?? []).forEach((c, i) => v.setUint32(SKB.cb + 4 * i, c, true));
  return ctx;
}

/** The writable __sk_buff fields of a context, as text. */
function skbWritable(ctx: Uint8Array): string {
  const v = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  const cb = Array.from({ length: 5 }, (_, i) => v.getUint32(SKB.cb + 4 * i, true));
  return `mark=${v.getUint32(SKB.mark, true)} priority=${v.getUint32(SKB.priority, true)} cb=${cb.join(',')}`;
}

const PER_CPU = new Set(['PERCPU_HASH', 'PERCPU_ARRAY', 'LRU_PERCPU_HASH']);
const UNLISTED = new Set(['RINGBUF', 'QUEUE', 'STACK', 'PROG_ARRAY', 'PERF_EVENT_ARRAY']);

/** Sum over CPUs of each 64-bit word of a per-CPU value as user space reads it. */
function sumPerCpu(value: Uint8Array, valueSize: number): Uint8Array {
  const stride = Math.ceil(valueSize / 8) * 8;
  const cpus = value.length / stride;
  const out = new Uint8Array(stride);
  const o = new DataView(out.buffer);
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  for (let w = 0; w < stride; w += 8) {
    let s = 0n;
    for (let c = 0; c < cpus; c++) s += v.getBigUint64(c * stride + w, true);
    o.setBigUint64(w, BigInt.asUintN(64, s), true);
  }
  return out.subarray(0, valueSize);
}

/**
 * A snapshot with each global data section (.bss, .data, .rodata: one array element holding
 * every variable) split into "name=value" lines, so that two objects whose compilers laid the
 * same variables out in different orders (clang does not keep declaration order) compare equal.
 */
export function globalsByName(snapshot: Record<string, string[]>, spec: ObjectSpec): Record<string, string[]> {
  const out = { ...snapshot };
  for (const m of spec.maps) {
    const lines = out[m.name];
    if (m.variables.length === 0 || !lines) continue;
    const value = Buffer.from(lines[0]!.split('=')[1]!, 'hex');
    out[m.name] = m.variables.map((v) => `${v.name}=${hex(value.subarray(v.offset, v.offset + v.size))}`).sort();
  }
  return out;
}

/** The kernel side: the object loaded once, the program run by BPF_PROG_TEST_RUN. */
export class KernelSide implements Disposable {
  readonly coll: Collection;
  readonly prog: Program;
  readonly kind: PacketKind;
  private readonly readers = new Map<string, RingBufReader>();

  constructor(
    readonly spec: ObjectSpec,
    readonly name: string,
  ) {
    const p = spec.programs.find((x) => x.name === name);
    if (!p) throw new Error(`no program '${name}'`);
    this.kind = kindOf(p);
    this.coll = Collection.load(spec, { programs: [name] });
    this.prog = this.coll.programs[name]!;
    for (const [mapName, map] of Object.entries(this.coll.maps)) if (map.type === 'RINGBUF') this.readers.set(mapName, RingBufReader.open(map));
  }

  /** The outcome, or undefined when the test run refuses the frame (see {@link refusedFrame}). */
  run(input: DiffInput): Outcome | undefined {
    const ctx = this.kind === 'xdp' ? undefined : skbInput(input);
    let r: ReturnType<Program['testRun']>;
    try {
      r = this.prog.testRun({ data: input.packet, ctx });
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.EINVAL && refusedFrame(input.packet, this.kind)) return undefined;
      throw e;
    }
    let packet = r.dataOut ?? new Uint8Array(0);
    if (this.kind === 'socket') packet = packet.subarray(14);
    return {
      retval: r.retval >>> 0,
      packet: hex(packet),
      ctx: this.kind === 'tc' && r.ctxOut ? skbWritable(r.ctxOut) : undefined,
      records: this.drain(),
    };
  }

  private drain(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, reader] of this.readers) {
      const recs: string[] = [];
      reader.drain((rec) => recs.push(hex(rec.copy())));
      out[name] = recs;
    }
    return out;
  }

  /** Every listable map's entries as sorted "key=value" lines (per-CPU values summed). */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, map] of Object.entries(this.coll.maps)) {
      if (UNLISTED.has(map.type) || name === '.kconfig') continue;
      const lines: string[] = [];
      for (const [k, v] of map.entriesBytes()) lines.push(`${hex(k)}=${hex(PER_CPU.has(map.type) ? sumPerCpu(v, map.valueSize) : v)}`);
      out[name] = lines.sort();
    }
    return out;
  }

  /** Values left in queues and stacks, in pop order (emptying them). */
  popAll(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, map] of Object.entries(this.coll.maps)) {
      if (map.type !== 'QUEUE' && map.type !== 'STACK') continue;
      const vals: string[] = [];
      for (let v = map.lookupAndDeleteBytes(); v; v = map.lookupAndDeleteBytes()) vals.push(hex(v));
      out[name] = vals;
    }
    return out;
  }

  /** Back to the state after loading: maps emptied (arrays zeroed, .data reset), rings drained. */
  reset(): void {
    for (const [name, map] of Object.entries(this.coll.maps)) resetMap(map, this.spec.maps.find((m) => m.name === name)?.data);
    this.popAll();
    this.drain();
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function resetMap(map: BpfMap, initial: Uint8Array | undefined): void {
  switch (map.type) {
    case 'ARRAY':
    case 'PERCPU_ARRAY': {
      if (map.name.endsWith('.rodata') || map.name.endsWith('.kconfig')) return; // frozen
      const zero = new Uint8Array(map.userValueSize);
      const key = new Uint8Array(4);
      for (let i = 0; i < map.maxEntries; i++) {
        new DataView(key.buffer).setUint32(0, i, true);
        map.updateBytes(key, i === 0 && initial ? initial : zero);
      }
      return;
    }
    case 'HASH':
    case 'PERCPU_HASH':
    case 'LRU_HASH':
    case 'LRU_PERCPU_HASH':
      for (const k of [...map.keysBytes()]) map.deleteBytes(k);
      return;
    default:
  }
}

/** The VM side: the program with its context loads rewritten, fresh map models per sequence. */
export class VmSide {
  readonly kind: PacketKind;
  private readonly spec: ObjectSpec;
  private readonly layout: ContextLayout;
  private models = new Map<string, MapModel>();
  private readonly env = currentTask();

  constructor(
    spec: ObjectSpec,
    readonly name: string,
    readonly engine: Engine = Engine.JIT,
  ) {
    const p = spec.programs.find((x) => x.name === name);
    if (!p) throw new Error(`no program '${name}'`);
    this.kind = kindOf(p);
    this.layout = this.kind === 'xdp' ? XDP_MD : SK_BUFF;
    const program = { ...p, instructions: rewriteContextLoads(p.instructions, this.layout) };
    this.spec = { ...spec, programs: spec.programs.map((x) => (x === p ? program : x)) };
  }

  run(input: DiffInput): Outcome {
    const frame = input.packet.slice();
    const legacy = this.kind === 'socket' ? frame.subarray(14) : frame;
    const { vm } = vmForObject(this.spec, this.name, { maps: this.models, engine: this.engine, env: this.env, packet: legacy });
    const region = vm.memory.map(frame, { kind: RegionKind.USER, name: 'packet' });
    const ctx = this.kind === 'xdp' ? xdpContext() : skbContext(input, this.kind);
    const data = region.base;
    setPointers(ctx, this.layout, new Map([
      [this.kind === 'xdp' ? 0 : SKB.data, data],
      [this.kind === 'xdp' ? 4 : SKB.data_end, data + BigInt(frame.length)],
      [this.kind === 'xdp' ? 8 : SKB.data_meta, data],
    ]));
    const r0 = vm.run({ context: ctx });
    return {
      retval: Number(BigInt.asUintN(32, r0)),
      packet: hex(legacy),
      ctx: this.kind === 'tc' ? skbWritable(ctx) : undefined,
      records: this.drain(),
    };
  }

  private drain(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, model] of this.models) if (model instanceof RingBuffer) out[name] = model.consume().map(hex);
    return out;
  }

  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, m] of this.models) {
      if (m instanceof RingBuffer || m.push) continue;
      const lines: string[] = [];
      // Hash maps are read without touching LRU recency (the kernel's syscall lookup does not).
      if (m instanceof HashMap) for (const [k, v] of m.entriesView()) lines.push(`${hex(k)}=${hex(v)}`);
      else for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) lines.push(`${hex(k)}=${hex(m.lookup(k, 0)!.subarray(0, m.valueSize))}`);
      out[name] = lines.sort();
    }
    return out;
  }

  popAll(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, m] of this.models) {
      if (!m.pop) continue;
      const vals: string[] = [];
      for (let v = m.pop(); v; v = m.pop()) vals.push(hex(v));
      out[name] = vals;
    }
    return out;
  }

  reset(): void {
    this.models = new Map();
  }
}

function xdpContext(): Uint8Array {
  const ctx = new Uint8Array(shadowSize(XDP_MD));
  new DataView(ctx.buffer).setUint32(12, 1, true); // ingress_ifindex: lo
  return ctx;
}

/** The helpers' view of this process: its main thread, as `current` is during a test run. */
function currentTask() {
  let comm = 'node';
  try {
    comm = readFileSync(`/proc/${process.pid}/task/${process.pid}/comm`, 'utf8').trim();
  } catch {
    // keep the default
  }
  return { pid: process.pid, tgid: process.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, comm };
}
