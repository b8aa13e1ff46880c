/** The map models on their own, as user space sees them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArrayMap,
  createMap,
  Errno,
  HashMap,
  MapSpecError,
  MapType,
  QueueMap,
  RingBuffer,
  RingbufHeader,
  UpdateFlags,
} from '../../src/vm/maps/index.js';
import { readU64, u32, u64 } from './util.js';

test('hash: BPF_ANY/NOEXIST/EXIST, -E2BIG when full, delete, iteration', () => {
  const m = createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2, name: 'h' }) as HashMap;
  assert.equal(m.update(u32(1), u64(10n), UpdateFlags.EXIST), -Errno.ENOENT);
  assert.equal(m.update(u32(1), u64(10n), UpdateFlags.NOEXIST), 0);
  assert.equal(m.update(u32(1), u64(11n), UpdateFlags.NOEXIST), -Errno.EEXIST);
  assert.equal(m.update(u32(1), u64(12n), UpdateFlags.EXIST), 0);
  assert.equal(m.update(u32(2), u64(20n)), 0);
  assert.equal(m.update(u32(3), u64(30n)), -Errno.E2BIG);
  assert.equal(m.update(u32(3), u64(30n), 7), -Errno.EINVAL);
  assert.equal(readU64(m.lookup(u32(1))!), 12n);
  const live = m.lookup(u32(2))!;
  live[0] = 21;
  assert.equal(readU64(m.lookup(u32(2))!), 21n, 'lookup returns the live value');
  assert.deepEqual(m.nextKey(undefined), u32(1));
  assert.deepEqual(m.nextKey(u32(1)), u32(2));
  assert.equal(m.nextKey(u32(2)), undefined);
  assert.deepEqual(m.nextKey(u32(9)), u32(1));
  assert.equal(m.delete(u32(1)), 0);
  assert.equal(m.delete(u32(1)), -Errno.ENOENT);
  assert.equal(m.size, 1);
  assert.equal(m.update(u32(3), u64(30n)), 0);
  assert.throws(() => m.lookup(new Uint8Array(3)), MapSpecError);
});

test('per-CPU hash: one slot per CPU; a program updates its own CPU, user space all of them', () => {
  const m = new HashMap({ type: MapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 4 }, { cpus: 3 });
  assert.equal(m.update(u32(1), u64(5n), UpdateFlags.ANY, 1), 0);
  assert.deepEqual(m.lookupAll(u32(1))!.map((v) => readU64(v)), [0n, 5n, 0n]);
  assert.equal(readU64(m.lookup(u32(1), 1)!), 5n);
  assert.equal(m.update(u32(1), u64(7n)), 0);
  assert.deepEqual(m.lookupAll(u32(1))!.map((v) => readU64(v)), [7n, 7n, 7n]);
  assert.equal(m.updateAll(u32(2), [u64(1n), u64(2n), u64(3n)]), 0);
  assert.equal(readU64(m.lookup(u32(2), 2)!), 3n);
});

test('LRU hash: full maps evict the least recently used element', () => {
  const m = new HashMap({ type: MapType.LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 3 });
  for (const k of [1, 2, 3]) assert.equal(m.update(u32(k), u64(BigInt(k))), 0);
  m.lookup(u32(1)); // 2 is now the least recently used
  assert.equal(m.update(u32(4), u64(4n)), 0);
  assert.equal(m.lookup(u32(2)), undefined);
  assert.ok(m.lookup(u32(1)) && m.lookup(u32(3)) && m.lookup(u32(4)));
  assert.equal(m.update(u32(1), u64(1n), UpdateFlags.NOEXIST), -Errno.EEXIST);
  const p = new HashMap({ type: MapType.LRU_PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 1 }, { cpus: 2 });
  assert.equal(p.update(u32(1), u32(1), 0, 1), 0);
  assert.equal(p.update(u32(2), u32(2), 0, 0), 0);
  assert.equal(p.size, 1);
  assert.deepEqual(p.lookupAll(u32(2)), [u32(2), u32(0)]);
});

test('array: every element exists, -E2BIG past the end, NOEXIST fails, delete is -EINVAL', () => {
  const m = createMap({ type: MapType.ARRAY, keySize: 4, valueSize: 12, maxEntries: 3 }) as ArrayMap;
  assert.equal(m.stride, 16, 'elements are 8-byte aligned');
  assert.deepEqual(m.lookup(u32(2)), new Uint8Array(12));
  assert.equal(m.lookup(u32(3)), undefined);
  assert.equal(m.update(u32(1), new Uint8Array(12).fill(1)), 0);
  assert.equal(m.update(u32(1), new Uint8Array(12), UpdateFlags.NOEXIST), -Errno.EEXIST);
  assert.equal(m.update(u32(3), new Uint8Array(12)), -Errno.E2BIG);
  assert.equal(m.delete(u32(1)), -Errno.EINVAL);
  assert.equal(m.lookup(u32(1)), m.lookup(u32(1)), 'one stable view per element');
  assert.deepEqual(m.nextKey(undefined), u32(0));
  assert.deepEqual(m.nextKey(u32(1)), u32(2));
  assert.equal(m.nextKey(u32(2)), undefined);
  assert.throws(() => createMap({ type: MapType.ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 }), MapSpecError);
  const pc = new ArrayMap({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, { cpus: 2 });
  assert.equal(pc.update(u32(0), u32(9), 0, 1), 0);
  assert.deepEqual(pc.lookupAll(u32(0)), [u32(0), u32(9)]);
  assert.equal(pc.updateAll(u32(1), [u32(1), u32(2)]), 0);
  assert.deepEqual(pc.lookup(u32(1), 1), u32(2));
});

test('queue and stack: FIFO/LIFO, -E2BIG when full unless BPF_EXIST drops the oldest', () => {
  const q = createMap({ type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 2 }) as QueueMap;
  const s = createMap({ type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 2 }) as QueueMap;
  for (const m of [q, s]) {
    assert.equal(m.pop(), undefined);
    assert.equal(m.push(u32(1)), 0);
    assert.equal(m.push(u32(2)), 0);
    assert.equal(m.push(u32(3)), -Errno.E2BIG);
    assert.equal(m.push(u32(3), 5), -Errno.EINVAL);
    assert.equal(m.push(u32(3), UpdateFlags.EXIST), 0);
    assert.equal(m.lookup(), undefined);
    assert.equal(m.delete(), -Errno.EINVAL);
  }
  assert.deepEqual(q.peek(), u32(2));
  assert.deepEqual([q.pop(), q.pop(), q.pop()], [u32(2), u32(3), undefined]);
  assert.deepEqual(s.peek(), u32(3));
  assert.deepEqual([s.pop(), s.pop(), s.pop()], [u32(3), u32(2), undefined]);
  assert.throws(() => createMap({ type: MapType.QUEUE, keySize: 4, valueSize: 4, maxEntries: 1 }), MapSpecError);
});

test('ring buffer: kernel header layout, busy/discard bits, wrap-around, full buffer', () => {
  assert.throws(() => new RingBuffer({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 1000 }), MapSpecError);
  const rb = new RingBuffer({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
  const view = new DataView(rb.data.buffer);
  const rec = rb.reserve(5)!;
  rec.set([1, 2, 3, 4, 5]);
  assert.equal(view.getUint32(0, true), (5 | RingbufHeader.BUSY_BIT) >>> 0);
  assert.deepEqual(rb.consume(), [], 'a busy record blocks the consumer');
  assert.ok(rb.commit(rec));
  assert.equal(view.getUint32(0, true), 5);
  assert.deepEqual([...rb.data.subarray(8, 13)], [1, 2, 3, 4, 5]);
  assert.equal(rb.producer, 16, 'header + data rounded up to 8');
  const discarded = rb.reserve(3)!;
  rb.commit(discarded, true);
  assert.equal(view.getUint32(16, true), (3 | RingbufHeader.DISCARD_BIT) >>> 0);
  assert.equal(rb.output(Uint8Array.of(9)), 0);
  assert.equal(rb.query(0), 48n);
  assert.deepEqual(rb.consume(), [Uint8Array.of(1, 2, 3, 4, 5), Uint8Array.of(9)]);
  assert.equal(rb.consumer, rb.producer);
  assert.equal(rb.query(1), 4096n);
  // Fill up: the ring holds at most size - 8 bytes of records.
  assert.equal(rb.reserve(4096), undefined);
  const big = rb.reserve(4000)!;
  assert.equal(rb.reserve(100), undefined);
  assert.equal(rb.output(new Uint8Array(100)), -Errno.EAGAIN);
  rb.commit(big);
  assert.equal(rb.consume().length, 1);
  // A record crossing the end comes back whole.
  const wrapping = rb.reserve(200)!;
  wrapping.forEach((_, i) => (wrapping[i] = i));
  rb.commit(wrapping);
  const [got] = rb.consume();
  assert.deepEqual(got, Uint8Array.from({ length: 200 }, (_, i) => i));
  assert.equal(rb.output(new Uint8Array(1), 4), -Errno.EINVAL);
});

test('createMap rejects types without a model and impossible sizes', () => {
  assert.throws(() => createMap({ type: MapType.LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 1 }), MapSpecError);
  assert.throws(() => createMap({ type: MapType.HASH, keySize: 0, valueSize: 8, maxEntries: 1 }), MapSpecError);
  assert.throws(() => createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 0 }), MapSpecError);
});
