import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RingBufReader, type RingBufRecord } from '../../src/events/index.js';
import { BpfMap } from '../../src/kernel/index.js';
import { openFds } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';
import { attachTracepoint, checkEvent, createCfg, GetppidChild, loadTracepoint, procFds, readCfg, ringbufProgram, setTarget } from './support.js';

/** A ring buffer, a program reporting getppid() of a child into it, attached; disposable. */
function setup(ringSize: number, eventSize: number, discardEvery = 0) {
  const cfg = createCfg();
  const events = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: ringSize, name: 'ev_ring' });
  const prog = loadTracepoint(ringbufProgram(eventSize, discardEvery), { cfg, events }, 'ev_ringbuf');
  const link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
  const child = new GetppidChild();
  setTarget(cfg, child.pid);
  return {
    cfg,
    events,
    child,
    [Symbol.asyncDispose]: async () => {
      await child.end();
      link.close();
      prog.close();
      events.close();
      cfg.close();
    },
  };
}

/** Mappings of BPF maps and perf events in this process. */
function mappings(): number {
  return readFileSync('/proc/self/maps', 'latin1').split('\n').filter((l) => /anon_inode:(bpf-map|\[perf_event\])/.test(l)).length;
}

kernelTest('ring buffer: exactly the records the program submitted, in order, with their contents', async () => {
  await using s = setup(64 * 1024, 32);
  using reader = RingBufReader.open(s.events);
  await s.child.call(100);
  const seqs: number[] = [];
  for await (const rec of reader.records({ signal: AbortSignal.timeout(10_000) })) {
    assert.equal(rec.length, 32);
    seqs.push(checkEvent(rec.data, 32, s.child.pid));
    if (seqs.length === 100) break;
  }
  assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i));
  assert.equal(reader.read(), undefined, 'nothing more');
  assert.equal(reader.available(), 0, 'everything consumed and committed');
  assert.equal(readCfg(s.cfg).failed, 0);
});

kernelTest('ring buffer: discarded records are skipped', async () => {
  await using s = setup(64 * 1024, 24, 3);
  using reader = RingBufReader.open(s.events);
  await s.child.call(30);
  const seqs: number[] = [];
  reader.drain((rec) => seqs.push(checkEvent(rec.data, 24, s.child.pid)));
  assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 2));
  assert.equal(reader.available(), 0);
});

kernelTest('ring buffer overflow: failed reservations account for every missing record, and reading goes on', async () => {
  const size = 4096;
  const eventSize = 64; // 72 bytes with the header: 56 fit in a page
  await using s = setup(size, eventSize);
  using reader = RingBufReader.open(s.events);
  await s.child.call(1000); // nothing reads meanwhile
  const seqs: number[] = [];
  reader.drain((rec) => seqs.push(checkEvent(rec.data, eventSize, s.child.pid)));
  const { failed, seq } = readCfg(s.cfg);
  assert.equal(seq, 1000);
  assert.equal(seqs.length, Math.floor(size / (eventSize + 8)));
  assert.equal(seqs.length + failed, 1000, `received ${seqs.length} + failed ${failed}`);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i), 'the first records fit, the rest failed');
  // The ring works on: the next calls arrive in full.
  await s.child.call(20);
  const more: number[] = [];
  reader.drain((rec) => more.push(checkEvent(rec.data, eventSize, s.child.pid)));
  assert.deepEqual(more, Array.from({ length: 20 }, (_, i) => 1000 + i));
  assert.equal(readCfg(s.cfg).failed, failed);
});

for (const coalesceMs of [undefined, 0, 5]) {
  kernelTest(`ring buffer: consume(${coalesceMs === undefined ? '' : `coalesceMs ${coalesceMs}`}) follows a busy producer; received + failed = produced`, async () => {
    await using s = setup(16 * 4096, 24);
    using reader = RingBufReader.open(s.events);
    let received = 0;
    let last = -1;
    let monotonic = true;
    const ac = new AbortController();
    const onRecord = (rec: RingBufRecord): void => {
      const seq = Number(rec.view.getBigUint64(rec.offset + 8, true));
      if (seq <= last) monotonic = false;
      last = seq;
      received++;
    };
    const done = reader.consume(onRecord, { signal: ac.signal, coalesceMs });
    for (let i = 0; i < 20; i++) await s.child.call(2000);
    await sleep(50);
    // Quiet again: a single record still arrives (coalescing handed back to epoll).
    const before = received;
    await s.child.call(1);
    for (let i = 0; i < 100 && received === before; i++) await sleep(10);
    ac.abort();
    await done;
    reader.drain(onRecord);
    const { failed, seq } = readCfg(s.cfg);
    assert.equal(seq, 40_001);
    assert.equal(received + failed, 40_001, `received ${received} + failed ${failed}`);
    assert.equal(last, 40_000, 'the last record arrived');
    assert.ok(monotonic, 'records arrive in order');
    assert.ok(reader.wakeups > 0 && reader.wakeups <= received);
  });
}

kernelTest('ring buffer: AbortSignal ends iteration cleanly, while waiting and between records', async () => {
  await using s = setup(64 * 1024, 24);
  using reader = RingBufReader.open(s.events);
  // Aborted while waiting for records that never come.
  const started = Date.now();
  let n = 0;
  for await (const _ of reader.records({ signal: AbortSignal.timeout(100) })) n++;
  assert.equal(n, 0);
  assert.ok(Date.now() - started < 5000);
  // Aborted between records: the rest stays for the next reader.
  await s.child.call(10);
  const ac = new AbortController();
  const first: number[] = [];
  for await (const rec of reader.records({ signal: ac.signal })) {
    first.push(checkEvent(rec.data, 24, s.child.pid));
    if (first.length === 4) ac.abort();
  }
  assert.deepEqual(first, [0, 1, 2, 3]);
  const rest: number[] = [];
  for await (const rec of reader.records({ signal: AbortSignal.timeout(200) })) rest.push(checkEvent(rec.data, 24, s.child.pid));
  assert.deepEqual(rest, [4, 5, 6, 7, 8, 9]);
  // An already aborted signal: no iteration at all.
  for await (const _ of reader.records({ signal: AbortSignal.abort() })) assert.fail('aborted');
  await reader.consume(() => assert.fail('aborted'), { signal: AbortSignal.abort() });
});

kernelTest('ring buffer: leases end at the next read, and every view reads as empty after close', async () => {
  await using s = setup(64 * 1024, 24);
  const reader = RingBufReader.open(s.events);
  await s.child.call(3);
  const first = reader.read()!;
  const bytes = first.data;
  assert.equal(bytes.byteLength, 24);
  assert.equal(checkEvent(first.copy(), 24, s.child.pid), 0);
  const second = reader.read()!;
  assert.equal(first.data.byteLength, 0, 'a released record is empty');
  assert.equal(second.data.byteLength, 24);
  const kept: RingBufRecord = second;
  const keptBytes = second.data;
  const copy = second.copy();
  reader.close();
  assert.equal(kept.data.byteLength, 0);
  assert.equal(keptBytes.byteLength, 0, 'views into the unmapped ring are detached');
  assert.equal(bytes.byteLength, 0);
  assert.equal(kept.view.byteLength, 0);
  assert.equal(checkEvent(copy, 24, s.child.pid), 1, 'copies survive');
  assert.equal(reader.read(), undefined);
  assert.equal(reader.drain(() => assert.fail()), 0);
  reader.close();
});

kernelTest('ring buffer: a reader closed while events arrive stops cleanly', async () => {
  await using s = setup(64 * 1024, 24);
  const fds = procFds();
  const maps = mappings();
  // Closed from inside the callback.
  {
    const reader = RingBufReader.open(s.events);
    let seen = 0;
    let kept: Uint8Array | undefined;
    const done = reader.consume((rec) => {
      kept = rec.data;
      if (++seen === 50) reader.close();
    });
    const busy = s.child.call(50_000);
    await done;
    assert.equal(seen, 50);
    assert.equal(kept!.byteLength, 0);
    await busy;
  }
  // Closed from outside while the child produces, iterator pending.
  {
    const reader = RingBufReader.open(s.events);
    let seen = 0;
    const busy = s.child.call(200_000);
    setTimeout(() => reader.close(), 20);
    for await (const rec of reader) {
      assert.equal(rec.length, 24);
      seen++;
    }
    assert.ok(reader.closed);
    await busy;
    assert.ok(seen >= 0);
  }
  assert.equal(procFds(), fds, 'no fd left open');
  assert.equal(mappings(), maps, 'no mapping left');
});

kernelTest('ring buffer: 200 open/close cycles leave fds and mappings as they were', async () => {
  using events = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 4096 * 4, name: 'ev_cycle' });
  const fds = procFds();
  const tracked = openFds();
  const maps = mappings();
  for (let i = 0; i < 200; i++) {
    const reader = RingBufReader.open(events);
    const done = reader.consume(() => {}); // registers with epoll
    if (i % 2) assert.throws(() => reader.records(), /already being read/);
    reader.close();
    await done;
  }
  assert.equal(procFds(), fds);
  assert.equal(openFds(), tracked);
  assert.equal(mappings(), maps);
});

kernelTest('ring buffer: opens from a bare fd (type and size asked of the kernel); refuses other maps', () => {
  using events = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 8192, name: 'ev_fd' });
  using hash = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 4, maxEntries: 1, name: 'ev_hash' });
  for (const source of [events.fd, events.fd.value]) {
    using reader = RingBufReader.open(source);
    assert.equal(reader.size, 8192);
  }
  assert.throws(() => RingBufReader.open(hash.fd.value), /'ev_hash': the map is HASH, a ring buffer reader needs RINGBUF/);
  assert.throws(() => RingBufReader.open({ fd: hash.fd, maxEntries: 4096 }), /needs RINGBUF/, 'a type left out is checked');
  assert.throws(() => RingBufReader.open({ fd: 0, maxEntries: 4096, type: 'HASH' }), /needs RINGBUF/);
  assert.throws(() => RingBufReader.open({ fd: 0, maxEntries: 3 * 4096, type: 'RINGBUF' }), /power of two/);
});
