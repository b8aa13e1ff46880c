// Maps of kernel objects (prog arrays, maps of maps, perf event arrays) and the maps only
// programs fill (stack traces, ring buffers), each exercised for real with a program or object.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { ProgramBuilder, R0, R1, R2, R3, R4, R6, R10, reg, type BuiltProgram } from '../../src/asm/index.js';
import { ArrayMap, ArrayOfMaps, BpfMap, HashOfMaps, PerfEventArray, Program, ProgArray, RingBufMap, StackTraceMap, u64, type ProgTypeName } from '../../src/kernel/index.js';
import { bpf, Fd, newPerfAttr, perfEventOpen, Struct, syscalls } from '../../src/sys/index.js';
import { FuncId, PerfSwId, PerfType } from '../../src/uapi/enums.js';
import { STRUCTS } from '../../src/uapi/layouts.js';
import { kernelTest } from '../support/kernel.js';

/** Loads a built program with its map references set to the given maps' fds. */
function load(type: ProgTypeName, built: BuiltProgram, maps: Record<string, { fd: { value: number } }> = {}): Program {
  for (const ref of built.references) if (ref.kind === 'map') built.instructions[ref.index]!.imm = maps[ref.symbol]!.fd.value;
  return Program.load({ type, license: 'GPL', name: 'kt_maps', instructions: built.instructions });
}

function progId(prog: Program): number {
  const layout = STRUCTS.bpf_prog_info;
  const info = new Struct<keyof typeof layout.fields & string>('bpf_prog_info', layout.fields, layout.size, () => 0n);
  bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: prog.fd.value, info_len: layout.size, info: info.bytes });
  return info.num('id');
}

kernelTest('prog array: programs in, program ids out, empty slots skipped', () => {
  using p1 = load('SOCKET_FILTER', new ProgramBuilder().mov(R0, 1).exit().build());
  using p2 = load('SOCKET_FILTER', new ProgramBuilder().mov(R0, 2).exit().build());
  using jumps = ProgArray.create({ maxEntries: 4, name: 'kt_jumps' });
  jumps.set(0, p1).set(2, p2.fd.value);
  assert.equal(jumps.get(0), progId(p1));
  assert.equal(jumps.get(2), progId(p2));
  assert.equal(jumps.get(1), undefined);
  assert.deepEqual([...jumps.entries()], [[0, progId(p1)], [2, progId(p2)]]);
  assert.equal(jumps.size, 2);
  assert.equal(jumps.delete(0), true);
  assert.equal(jumps.delete(0), false);
  assert.deepEqual([...jumps.keys()], [2]);
});

kernelTest('array and hash of maps: maps in, map ids out, inner maps reopened by id', () => {
  using innerA = ArrayMap.create({ value: u64, maxEntries: 4, name: 'kt_inner_a' });
  using innerB = ArrayMap.create({ value: u64, maxEntries: 4, name: 'kt_inner_b' });
  innerB.set(3, 33n);
  using outer = ArrayOfMaps.create({ inner: innerA, maxEntries: 2, name: 'kt_outer' });
  outer.set(1, innerB);
  assert.equal(outer.get(1), innerB.info().id);
  assert.equal(outer.get(0), undefined);
  {
    using again = outer.getMap(1)!;
    assert.equal(again.name, 'kt_inner_b');
    assert.equal(new ArrayMap(again, u64).get(3), 33n, 'the reopened inner map is the same map');
  }
  assert.deepEqual([...outer.entries()], [[1, innerB.info().id]]);

  using byKey = HashOfMaps.create({ key: u64, inner: { type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 4 }, maxEntries: 8, name: 'kt_hom' });
  byKey.set(1234n, innerA);
  assert.equal(byKey.get(1234n), innerA.info().id);
  assert.equal(byKey.get(1n), undefined);
  assert.deepEqual([...byKey.keys()], [1234n]);
  assert.equal(byKey.delete(1234n), true);
  assert.equal(byKey.size, 0);
});

kernelTest('perf event array: a perf event fd per CPU slot', () => {
  using events = PerfEventArray.create({ name: 'kt_perf' });
  const attr = newPerfAttr({ type: PerfType.SOFTWARE, config: PerfSwId.BPF_OUTPUT, sample_type: 1 << 10 /* PERF_SAMPLE_RAW */, wakeup_events: 1 });
  using ev = perfEventOpen(attr, -1, 0);
  events.set(0, ev);
  assert.equal(events.delete(0), true, 'the slot held the event');
  assert.equal(events.delete(0), false);
  assert.equal(events.maxEntries >= 1, true);
});

kernelTest('stack trace map: a raw tracepoint program records this process\'s kernel stack', () => {
  using stacks = StackTraceMap.create({ maxEntries: 64, name: 'kt_stacks' });
  using ids = ArrayMap.create({ value: u64, maxEntries: 1, name: 'kt_stack_ids' });
  ids.set(0, 0xffffffffn);
  // if (bpf_get_current_pid_tgid() >> 32 == pid) { id = bpf_get_stackid(ctx, &stacks, 0); ids[0] = id; }
  const built = new ProgramBuilder()
    .mov(R6, reg(R1))
    .call(FuncId.get_current_pid_tgid)
    .alu('rsh', R0, 32)
    .jump('jne', R0, process.pid, 'out')
    .mov(R1, reg(R6))
    .ldMap(R2, 'stacks')
    .mov(R3, 0)
    .call(FuncId.get_stackid)
    .store(64, R10, -16, reg(R0))
    .store(32, R10, -4, 0)
    .ldMap(R1, 'ids')
    .mov(R2, reg(R10))
    .alu('add', R2, -4)
    .mov(R3, reg(R10))
    .alu('add', R3, -16)
    .mov(R4, 0)
    .call(FuncId.map_update_elem)
    .label('out')
    .mov(R0, 0)
    .exit()
    .build();
  using prog = load('RAW_TRACEPOINT', built, { stacks: stacks, ids: ids });
  const link = bpf('RAW_TRACEPOINT_OPEN', { name: 'sys_enter', prog_fd: prog.fd.value }).ret;
  try {
    for (let i = 0; i < 5 && ids.get(0) === 0xffffffffn; i++) statSync('/');
  } finally {
    syscalls().close(link);
  }
  const id = BigInt.asIntN(64, ids.get(0)!);
  assert.ok(id >= 0n && id < 64n, `bpf_get_stackid returned ${id}`);
  const frames = stacks.get(Number(id))!;
  assert.ok(frames.length > 0 && frames.length <= stacks.maxDepth, `${frames.length} frames`);
  for (const ip of frames) assert.ok(ip >= 0xffff800000000000n, `kernel address 0x${ip.toString(16)}`);
  assert.deepEqual([...stacks.ids()], [Number(id)]);
  assert.equal(stacks.delete(Number(id)), true);
  assert.equal(stacks.get(Number(id)), undefined);
});

kernelTest('ring buffer: a program writes a record, the producer position and bytes show it', () => {
  using rb = RingBufMap.create({ size: 4096, name: 'kt_ringbuf' });
  assert.equal(rb.info().type, 'RINGBUF');
  assert.throws(() => RingBufMap.create({ size: 5000 }), /power of two/);
  // u64 v = 0x1122334455667788; bpf_ringbuf_output(&rb, &v, 8, 0); return 0;
  const built = new ProgramBuilder()
    .lddw(R1, 0x1122334455667788n)
    .store(64, R10, -8, reg(R1))
    .ldMap(R1, 'rb')
    .mov(R2, reg(R10))
    .alu('add', R2, -8)
    .mov(R3, 8)
    .mov(R4, 0)
    .call(FuncId.ringbuf_output)
    .mov(R0, 0)
    .exit()
    .build();
  using prog = load('SOCKET_FILTER', built, { rb: rb });
  bpf('PROG_TEST_RUN', { prog_fd: prog.fd.value, data_in: new Uint8Array(64), data_size_in: 64, repeat: 1 });
  const sys = syscalls();
  // Layout from kernel/bpf/ringbuf.c: a consumer page, then the producer page, then the data
  // (mapped twice); each record has an 8-byte header (u32 len, u32 page offset).
  const producer = sys.mmap(rb.fd.value, 4096 + 2 * 4096, 1 /* PROT_READ */, 1 /* MAP_SHARED */, 4096);
  assert.ok(producer instanceof ArrayBuffer, `mmap: ${String(producer)}`);
  try {
    const view = new DataView(producer);
    assert.equal(view.getBigUint64(0, true), 16n, 'producer position: one 8-byte header + 8 bytes');
    assert.equal(view.getUint32(4096, true), 8, 'record length');
    assert.equal(view.getBigUint64(4096 + 8, true), 0x1122334455667788n, 'record data');
  } finally {
    sys.munmap(producer);
  }
});

kernelTest('byte-level maps of objects: BpfMap.fromFd reads the shape from the kernel', () => {
  using m = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 3, name: 'kt_shape' });
  const dup = bpf('MAP_GET_FD_BY_ID', { map_id: m.info().id }).ret;
  using again = BpfMap.fromFd(new Fd(dup));
  assert.deepEqual([again.type, again.keySize, again.valueSize, again.maxEntries, again.name], ['ARRAY', 4, 8, 3, 'kt_shape']);
});
