/**
 * Root-less tests of the readers' ring logic: a fake system call layer hands out plain
 * ArrayBuffers for the mappings, and the tests play the kernel's producer side on them (the
 * ring buffer's double mapping is emulated by writing every byte twice).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, pageSize, parseCpuList, PerfBufReader, RingBufReader } from '../../src/events/index.js';
import { SyscallError, useSyscalls, type PollHandle, type Syscalls } from '../../src/sys/index.js';
import { PerfRecordType } from '../../src/uapi/enums.js';

const PAGE = pageSize();

interface Poll {
  fd: number;
  cb: (status: number, events: number) => void;
  stopped: boolean;
}

/** Just enough of a kernel: mappings are ArrayBuffers, polls are recorded and fired by hand. */
class FakeSys implements Syscalls {
  maps: Array<{ fd: number; offset: number; buffer: ArrayBuffer }> = [];
  polls: Poll[] = [];
  ioctls: Array<[number, number]> = [];
  bpfCalls = 0;
  nextFd = 50;
  closed: number[] = [];
  bpf(): number {
    this.bpfCalls++;
    return 0;
  }
  perfEventOpen(): number {
    return this.nextFd++;
  }
  ioctl(fd: number, request: number): number {
    this.ioctls.push([fd, request]);
    return 0;
  }
  close(fd: number): number {
    this.closed.push(fd);
    return 0;
  }
  /** Where a fresh ring's positions start (a ring that has been used for a while). */
  startPos = 0n;
  mmap(fd: number, length: number, _prot: number, _flags: number, offset: number): ArrayBuffer {
    const buffer = new ArrayBuffer(length);
    if (this.startPos && length >= 8) new BigInt64Array(buffer, 0, 1)[0] = this.startPos;
    this.maps.push({ fd, offset, buffer });
    return buffer;
  }
  munmap(buffer: ArrayBuffer): number {
    const i = this.maps.findIndex((m) => m.buffer === buffer);
    if (i < 0) return -22;
    this.maps.splice(i, 1);
    structuredClone(buffer, { transfer: [buffer] }); // detach, as the addon does
    return 0;
  }
  addressOf(): bigint {
    return 0x1000n;
  }
  poll(fd: number, _events: number, cb: (status: number, events: number) => void): PollHandle {
    const p: Poll = { fd, cb, stopped: false };
    this.polls.push(p);
    return p;
  }
  pollStop(handle: PollHandle): void {
    (handle as Poll).stopped = true;
  }
  pollRef(): void {}
  /** Fires every active poll of fd, as epoll would. */
  fire(fd: number, status = 0): number {
    const active = this.polls.filter((p) => p.fd === fd && !p.stopped);
    for (const p of active) p.cb(status, 1);
    return active.length;
  }
  active(fd: number): number {
    return this.polls.filter((p) => p.fd === fd && !p.stopped).length;
  }
}

let sys: FakeSys;
let restore: () => void;
beforeEach(() => {
  sys = new FakeSys();
  restore = useSyscalls(sys);
});
afterEach(() => restore());

/** The kernel side of a fake ring buffer of `size` bytes. */
class FakeRingProducer {
  readonly consumer: BigInt64Array;
  readonly producer: BigInt64Array;
  readonly data: DataView;
  pos = 0;
  constructor(readonly size: number) {
    const c = sys.maps.find((m) => m.offset === 0)!;
    const p = sys.maps.find((m) => m.offset === PAGE)!;
    this.consumer = new BigInt64Array(c.buffer, 0, 1);
    this.producer = new BigInt64Array(p.buffer, 0, 1);
    this.data = new DataView(p.buffer, PAGE);
    this.pos = Number(this.producer[0]);
  }
  private byte(at: number, v: number): void {
    const o = at % this.size;
    this.data.setUint8(o, v);
    this.data.setUint8(o + this.size, v); // the second mapping of the same page
  }
  private u32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.byte(at + i, (v >>> (8 * i)) & 0xff);
  }
  /** bpf_ringbuf_reserve: header BUSY, producer_pos advanced. Returns the record's position. */
  reserve(len: number): number | undefined {
    const total = (len + 8 + 7) & ~7;
    if (this.pos + total - Number(this.consumer[0]) > this.size) return undefined;
    const at = this.pos;
    this.u32(at, (len | BPF_RINGBUF_BUSY_BIT) >>> 0);
    this.u32(at + 4, 0);
    this.pos += total;
    this.producer[0] = BigInt(this.pos);
    return at;
  }
  /** Fills the record with bytes (seq + i) & 0xff and clears BUSY (or sets DISCARD). */
  commit(at: number, len: number, seq: number, discard = false): void {
    for (let i = 0; i < len; i++) this.byte(at + 8 + i, (seq + i) & 0xff);
    this.u32(at, discard ? (len | BPF_RINGBUF_DISCARD_BIT) >>> 0 : len);
  }
  output(len: number, seq: number): boolean {
    const at = this.reserve(len);
    if (at === undefined) return false;
    this.commit(at, len, seq);
    return true;
  }
}

function expectRecord(bytes: Uint8Array, len: number, seq: number): void {
  assert.equal(bytes.byteLength, len);
  for (let i = 0; i < len; i++) assert.equal(bytes[i], (seq + i) & 0xff, `seq ${seq} byte ${i}`);
}

test('ring buffer (fake): maps the consumer page read-write at 0 and the rest read-only from page 1', () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: 2 * PAGE, type: 'RINGBUF' });
  assert.deepEqual(sys.maps.map((m) => [m.fd, m.offset, m.buffer.byteLength]), [
    [7, 0, PAGE],
    [7, PAGE, PAGE + 4 * PAGE],
  ]);
  r.close();
  assert.equal(sys.maps.length, 0, 'both unmapped');
});

test('ring buffer (fake): records of every length, across the end of the ring, arrive intact', () => {
  const size = PAGE;
  const r = RingBufReader.open({ fd: 7, maxEntries: size, type: 'RINGBUF' });
  const k = new FakeRingProducer(size);
  let seq = 0;
  let crossed = 0;
  for (let round = 0; round < 40; round++) {
    const sent: Array<[number, number]> = [];
    for (let len = 1 + (round % 7); len < 300; len += 37) {
      const at = k.pos;
      if (!k.output(len, seq)) break;
      if ((at % size) + 8 + len > size) crossed++;
      sent.push([len, seq++]);
    }
    const got: Uint8Array[] = [];
    r.drain((rec) => got.push(rec.copy()));
    assert.equal(got.length, sent.length);
    got.forEach((g, i) => expectRecord(g, sent[i]![0], sent[i]![1]));
    assert.equal(k.consumer[0], BigInt(k.pos), 'consumer position committed');
  }
  assert.ok(crossed > 5, `${crossed} records crossed the end`);
  r.close();
});

test('ring buffer (fake): positions past 2^32 (4 GiB through the ring) work on', () => {
  sys.startPos = 2n ** 32n - 40n;
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(PAGE);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5; i++) k.output(16, round * 5 + i);
    const got: number[] = [];
    r.drain((rec) => got.push(rec.data[0]!));
    assert.deepEqual(got, [0, 1, 2, 3, 4].map((i) => round * 5 + i));
    assert.equal(k.consumer[0], BigInt(k.pos));
  }
  assert.ok(k.pos > 2 ** 32);
  r.close();
});

test('ring buffer (fake): a BUSY record holds back the ones after it; DISCARDed ones are skipped', () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(PAGE);
  const a = k.reserve(10)!;
  const b = k.reserve(20)!;
  const c = k.reserve(30)!;
  k.commit(b, 20, 2);
  k.commit(c, 30, 3, true);
  assert.equal(r.read(), undefined, 'a is still being written');
  assert.equal(k.consumer[0], 0n);
  k.commit(a, 10, 1);
  const first = r.read()!;
  expectRecord(first.data, 10, 1);
  const second = r.read()!;
  expectRecord(second.data, 20, 2);
  assert.equal(first.data.byteLength, 0, 'the first lease ended');
  assert.equal(r.read(), undefined, 'c was discarded');
  assert.equal(k.consumer[0], BigInt(k.pos), 'the discarded record was consumed too');
  r.close();
});

test('ring buffer (fake): read() commits in batches of commitBytes, and always before it reports empty', () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' }, { commitBytes: 64 });
  const k = new FakeRingProducer(PAGE);
  for (let i = 0; i < 10; i++) k.output(8, i); // 16 bytes each
  const committed: bigint[] = [];
  while (r.read()) committed.push(k.consumer[0]!);
  // Commits happen at the read after 64 bytes were consumed (the lease of the last one ends first).
  assert.deepEqual(committed, [0n, 0n, 0n, 0n, 64n, 64n, 64n, 64n, 128n, 128n]);
  assert.equal(k.consumer[0], 160n);
  r.close();
});

test('ring buffer (fake): consume() registers with epoll, drains on wakeups, stops on close', async () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(PAGE);
  const got: number[] = [];
  const done = r.consume((rec) => got.push(rec.data[0]!));
  assert.equal(sys.active(7), 1);
  k.output(4, 1);
  k.output(4, 2);
  sys.fire(7);
  assert.deepEqual(got, [1, 2]);
  k.output(4, 3);
  sys.fire(7);
  assert.deepEqual(got, [1, 2, 3]);
  r.close();
  await done;
  assert.equal(sys.active(7), 0);
});

test('ring buffer (fake): a poll error rejects consume() and iterators with a SyscallError', async () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' });
  const done = r.consume(() => {});
  sys.fire(7, -9); // EBADF
  await assert.rejects(done, (e: unknown) => e instanceof SyscallError && e.code === 'EBADF');
  const it = r.records();
  const next = it.next();
  await new Promise((res) => setImmediate(res));
  sys.fire(7, -9);
  await assert.rejects(next, SyscallError);
  r.close();
});

test('ring buffer (fake): an iterator waits on epoll, and unregisters when its user is busy', async () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(PAGE);
  const it = r.records();
  const p = it.next();
  await new Promise((res) => setImmediate(res));
  assert.equal(sys.active(7), 1, 'registered while waiting');
  k.output(3, 9);
  sys.fire(7);
  const { value } = await p;
  expectRecord(value!.data, 3, 9);
  // The user holds the record and does not ask for more; epoll fires again (level-triggered).
  k.output(3, 10);
  sys.fire(7);
  assert.equal(sys.active(7), 0, 'unregistered: no wakeups while nobody waits');
  const again = await it.next();
  expectRecord(again.value!.data, 3, 10);
  await it.return!();
  assert.equal(k.consumer[0], BigInt(k.pos), 'return() commits');
  r.close();
});

test('ring buffer (fake): coalescing reads a busy ring on a timer, then returns to epoll', async () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: 4 * PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(4 * PAGE);
  let got = 0;
  const done = r.consume(() => got++, { coalesceMs: 5 });
  for (let i = 0; i < 10; i++) k.output(8, i);
  sys.fire(7);
  assert.equal(got, 10);
  assert.equal(sys.active(7), 0, 'busy: off epoll');
  for (let i = 0; i < 10; i++) k.output(8, i);
  assert.equal(sys.fire(7), 0);
  await new Promise((res) => setTimeout(res, 30));
  assert.equal(got, 20, 'the timer read them');
  await new Promise((res) => setTimeout(res, 30));
  assert.equal(sys.active(7), 1, 'quiet: back on epoll');
  r.close();
  await done;
});

/** The kernel side of a fake perf ring. */
class FakePerfRing {
  readonly meta: DataView;
  readonly data: DataView;
  readonly size: number;
  head = 0;
  constructor(buffer: ArrayBuffer) {
    this.meta = new DataView(buffer, 0, PAGE);
    this.data = new DataView(buffer, PAGE);
    this.size = buffer.byteLength - PAGE;
  }
  get tail(): number {
    return Number(this.meta.getBigUint64(1032, true));
  }
  private write(bytes: Uint8Array): boolean {
    if (this.head + bytes.byteLength - this.tail > this.size) return false;
    for (let i = 0; i < bytes.byteLength; i++) this.data.setUint8((this.head + i) % this.size, bytes[i]!);
    this.head += bytes.byteLength;
    this.meta.setBigUint64(1024, BigInt(this.head), true);
    return true;
  }
  sample(len: number, seq: number): boolean {
    const raw = Math.ceil((len + 4) / 8) * 8 - 4;
    const rec = new DataView(new ArrayBuffer(12 + raw));
    rec.setUint32(0, PerfRecordType.SAMPLE, true);
    rec.setUint16(6, 12 + raw, true);
    rec.setUint32(8, raw, true);
    for (let i = 0; i < len; i++) rec.setUint8(12 + i, (seq + i) & 0xff);
    return this.write(new Uint8Array(rec.buffer));
  }
  lost(n: number): boolean {
    const rec = new DataView(new ArrayBuffer(24));
    rec.setUint32(0, PerfRecordType.LOST, true);
    rec.setUint16(6, 24, true);
    rec.setBigUint64(16, BigInt(n), true);
    return this.write(new Uint8Array(rec.buffer));
  }
  other(): boolean {
    const rec = new DataView(new ArrayBuffer(16));
    rec.setUint32(0, PerfRecordType.THROTTLE, true);
    rec.setUint16(6, 16, true);
    return this.write(new Uint8Array(rec.buffer));
  }
}

test('perf buffer (fake): opens, stores, registers and only then enables each CPU', () => {
  const r = PerfBufReader.open({ fd: 3, maxEntries: 4, type: 'PERF_EVENT_ARRAY' }, { cpus: [0, 2], pagesPerCpu: 2 });
  assert.deepEqual([...r.cpus], [0, 2]);
  assert.equal(sys.maps.length, 2);
  assert.ok(sys.maps.every((m) => m.buffer.byteLength === 3 * PAGE));
  assert.equal(sys.bpfCalls, 2, 'one map update per CPU');
  assert.equal(sys.polls.length, 2);
  assert.deepEqual(sys.ioctls.map(([, req]) => req), [0x2400, 0x2400], 'ENABLE after every poll registration');
  r.close();
  assert.deepEqual(sys.ioctls.map(([, req]) => req).slice(2), [0x2401, 0x2401], 'DISABLE on close');
  assert.equal(sys.maps.length, 0);
  assert.equal(sys.closed.length, 2);
  assert.equal(sys.active(50) + sys.active(51), 0);
});

test('perf buffer (fake): wrapped samples are copied, losses and other records counted, tails stored', () => {
  const r = PerfBufReader.open({ fd: 3, maxEntries: 2, type: 'PERF_EVENT_ARRAY' }, { cpus: [0, 1], pagesPerCpu: 1 });
  const [a, b] = sys.maps.map((m) => new FakePerfRing(m.buffer));
  let seq = 0;
  const expected: Array<[number, number, number]> = [];
  let wraps = 0;
  for (let round = 0; round < 30; round++) {
    for (const [cpu, ring] of [[0, a!], [1, b!]] as const) {
      for (let len = 5; len < 200; len += 41) {
        const off = ring.head % ring.size;
        const raw = Math.ceil((len + 4) / 8) * 8 - 4;
        if (!ring.sample(len, seq)) break;
        if (off + 12 + raw > ring.size) wraps++;
        expected.push([cpu, len, seq++]);
      }
    }
    if (round === 3) a!.lost(17);
    if (round === 5) b!.other();
    const got: Array<[number, Uint8Array]> = [];
    r.drain((ev) => {
      if (ev.type === 'sample') got.push([ev.cpu, ev.copy()]);
      else assert.deepEqual(ev, { type: 'lost', cpu: 0, lost: 17 });
    });
    // Ring order: CPU 0's records, then CPU 1's.
    const want = expected.splice(0).sort((x, y) => x[0] - y[0]);
    assert.equal(got.length, want.length);
    got.forEach(([cpu, data], i) => {
      assert.equal(cpu, want[i]![0]);
      expectRecord(data.subarray(0, want[i]![1]), want[i]![1], want[i]![2]);
    });
    assert.equal(a!.tail, a!.head);
    assert.equal(b!.tail, b!.head);
  }
  const stats = r.stats();
  assert.equal(stats.samples, seq);
  assert.equal(stats.lost, 17);
  assert.deepEqual([...stats.lostByCpu], [[0, 17]]);
  assert.equal(stats.other, 1);
  assert.equal(stats.wrapped, wraps);
  assert.ok(wraps > 5);
  r.close();
});

test('perf buffer (fake): a corrupt header is an error, not a hang', () => {
  const r = PerfBufReader.open({ fd: 3, maxEntries: 1, type: 'PERF_EVENT_ARRAY' }, { cpus: [0], pagesPerCpu: 1 });
  const meta = new DataView(sys.maps[0]!.buffer);
  meta.setBigUint64(1024, 64n, true); // data_head = 64, but the record says size 0
  assert.throws(() => r.read(), /corrupt record header/);
  r.close();
});

test('perf buffer (fake): the iterator wakes on any CPU and scans them all', async () => {
  const r = PerfBufReader.open({ fd: 3, maxEntries: 2, type: 'PERF_EVENT_ARRAY' }, { cpus: [0, 1], pagesPerCpu: 1 });
  const [a, b] = sys.maps.map((m) => new FakePerfRing(m.buffer));
  const it = r.records();
  const first = it.next();
  await new Promise((res) => setImmediate(res));
  a!.sample(4, 1);
  b!.sample(4, 2);
  sys.fire(51); // only CPU 1's fd reports
  const got = [(await first).value, (await it.next()).value];
  assert.deepEqual(got.map((e) => e?.cpu).sort(), [0, 1]);
  await it.return!();
  r.close();
});

test('cpu lists', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.throws(() => parseCpuList('a-b'), /not a CPU list/);
});

test('ring buffer (fake): a flood cannot hold the event loop', async () => {
  const size = 64 * PAGE;
  const r = RingBufReader.open({ fd: 7, maxEntries: size, type: 'RINGBUF' });
  const k = new FakeRingProducer(size);
  // drain(): a producer as fast as the callback gets one ring's worth per call, not forever.
  let n = 0;
  k.output(8, 0);
  const got = r.drain(() => {
    n++;
    k.output(8, n);
  });
  assert.equal(got, size / 16);
  while (k.output(8, 0));
  const waiting = r.available() / 16;
  assert.ok(waiting > 10_000);
  // An iterator over records that are all there lets timers run in between.
  let timerRan = false;
  let before = -1;
  setTimeout(() => (timerRan = true), 0);
  let i = 0;
  for await (const _ of r.records()) {
    if (timerRan && before < 0) before = i;
    if (++i === waiting) break;
  }
  assert.ok(timerRan && before > 0 && before < i, `the timer ran after ${before} of ${i} records`);
  r.close();
});

test('perf buffer (fake): a failure half-way closes everything opened so far', () => {
  let opens = 0;
  sys.perfEventOpen = () => (++opens === 3 ? -24 : sys.nextFd++); // EMFILE on the third CPU
  assert.throws(() => PerfBufReader.open({ fd: 3, maxEntries: 4, type: 'PERF_EVENT_ARRAY' }, { cpus: [0, 1, 2, 3] }), (e: unknown) => e instanceof SyscallError && e.code === 'EMFILE');
  assert.equal(sys.maps.length, 0, 'unmapped');
  assert.deepEqual(sys.closed.sort(), [50, 51], 'closed');
  assert.equal(sys.polls.filter((p) => !p.stopped).length, 0, 'unregistered');
  assert.equal(sys.ioctls.filter(([, r]) => r === 0x2400).length, 0, 'never enabled');
  // mmap refused: the event's fd is closed at once.
  sys = new FakeSys();
  restore();
  restore = useSyscalls(sys);
  sys.mmap = () => -1 as unknown as ArrayBuffer;
  assert.throws(() => PerfBufReader.open({ fd: 3, maxEntries: 4, type: 'PERF_EVENT_ARRAY' }, { cpus: [0] }), /mmap .*EPERM/);
  assert.deepEqual(sys.closed, [50]);
});

test('ring buffer (fake): an iterator that found a busy ring waits on a timer, not epoll', async () => {
  const r = RingBufReader.open({ fd: 7, maxEntries: 4 * PAGE, type: 'RINGBUF' });
  const k = new FakeRingProducer(4 * PAGE);
  // a timer long enough that no slow machine (emulation: scripts/guest) fires it before the check
  const it = r.records({ coalesceMs: 500 });
  for (let i = 0; i < 10; i++) k.output(8, i);
  for (let i = 0; i < 10; i++) assert.equal((await it.next()).value!.data[0], i);
  const next = it.next(); // nothing there: busy before, so a timer
  await new Promise((res) => setImmediate(res));
  assert.equal(sys.active(7), 0, 'not on epoll');
  k.output(8, 42);
  assert.equal((await next).value!.data[0], 42, 'the timer read it');
  const quiet = it.next(); // a batch of one: back on epoll
  await new Promise((res) => setImmediate(res));
  assert.equal(sys.active(7), 1);
  k.output(8, 43);
  sys.fire(7);
  assert.equal((await quiet).value!.data[0], 43);
  await it.return!();
  r.close();
});
