// Every keyed and keyless map type, created in the kernel and exercised with values checked.
// Types whose values are other kernel objects, and the ones only programs fill (stack traces,
// ring buffers), are in map-objects.test.ts.
import assert from 'node:assert/strict';
import {
  ArrayMap,
  BloomFilter,
  BpfMap,
  cstring,
  HashMap,
  LpmTrie,
  MapFullError,
  MapIndexError,
  MapReadOnlyError,
  PerCpuArrayMap,
  PerCpuHashMap,
  possibleCpus,
  QueueMap,
  StackMap,
  struct,
  u32,
  u64,
  u8,
  UpdateFlag,
  MapKeyExistsError,
} from '../../src/kernel/index.js';
import { SyscallError } from '../../src/sys/index.js';
import { readFileSync } from 'node:fs';
import { kernelTest } from '../support/kernel.js';

kernelTest('hash: set/get/has/delete, iteration, size, NOEXIST/EXIST, full map error naming the map', () => {
  using m = HashMap.create({ key: cstring(16), value: u64, maxEntries: 3, name: 'kt_comm' });
  m.set('bash', 1n).set('node', 2n);
  assert.equal(m.get('bash'), 1n);
  assert.equal(m.get('zsh'), undefined);
  assert.equal(m.has('node'), true);
  assert.equal(m.size, 2);
  assert.deepEqual(new Map(m), new Map([['bash', 1n], ['node', 2n]]));
  assert.deepEqual([...m.keys()].sort(), ['bash', 'node']);
  assert.deepEqual([...m.values()].sort(), [1n, 2n]);
  assert.throws(() => m.set('bash', 5n, UpdateFlag.NOEXIST), MapKeyExistsError);
  m.set('bash', 5n, UpdateFlag.EXIST);
  assert.equal(m.get('bash'), 5n);
  m.set('sh', 3n);
  assert.throws(
    () => m.set('dash', 4n),
    (e: unknown) => e instanceof MapFullError && e.mapName === 'kt_comm' && e.maxEntries === 3 && e.errno === 7 && /kt_comm.*full.*3/.test(e.message),
  );
  assert.equal(m.lookupAndDelete('sh'), 3n);
  assert.equal(m.has('sh'), false);
  assert.equal(m.delete('node'), true);
  assert.equal(m.delete('node'), false);
  assert.equal(m.clear(), 1);
  assert.equal(m.size, 0);
});

kernelTest('LRU hash: a full map evicts instead of failing', () => {
  using m = HashMap.create({ key: u32, value: u32, maxEntries: 16, lru: true, name: 'kt_lru' });
  for (let i = 0; i < 200; i++) m.set(i, i * 2);
  assert.equal(m.type, 'LRU_HASH');
  assert.ok(m.size <= 16 && m.size > 0, `size ${m.size}`);
  assert.equal(m.get(199), 398, 'the newest entry is there');
  for (const [k, v] of m) assert.equal(v, k * 2);
});

kernelTest('array: indexes, size = max_entries, zero-filled, out-of-range and delete errors', () => {
  const event = struct({ pid: u32, comm: cstring(12), flags: u8 });
  using m = ArrayMap.create({ value: event, maxEntries: 4, name: 'kt_array' });
  assert.equal(m.size, 4);
  assert.deepEqual(m.get(3), { pid: 0, comm: '', flags: 0 });
  m.set(1, { pid: 7, comm: 'init', flags: 3 });
  assert.deepEqual(m.get(1), { pid: 7, comm: 'init', flags: 3 });
  assert.deepEqual([...m.keys()], [0, 1, 2, 3]);
  assert.throws(() => m.set(4, { pid: 1, comm: '', flags: 0 }), (e: unknown) => e instanceof MapIndexError && /below 4/.test(e.message));
  assert.throws(() => m.delete(1), (e: unknown) => e instanceof SyscallError && /cannot be deleted/.test(e.message));
});

kernelTest('per-CPU hash and array: one value per possible CPU, each slot 8-byte aligned', () => {
  const cpus = possibleCpus();
  const expected = Math.max(...readFileSync('/sys/devices/system/cpu/possible', 'latin1').trim().split(/[,-]/).map(Number)) + 1;
  assert.equal(cpus, expected);
  for (const lru of [false, true]) {
    using h = PerCpuHashMap.create({ key: u32, value: u32, maxEntries: 8, lru, name: lru ? 'kt_lru_pc' : 'kt_pc_hash' });
    assert.equal(h.map.userValueSize, 8 * cpus, 'u32 values take 8 bytes per CPU');
    const values = Array.from({ length: cpus }, (_, i) => 100 + i);
    h.set(5, values);
    assert.deepEqual(h.get(5), values);
    assert.equal(h.get(5)!.length, cpus);
    assert.deepEqual([...h], [[5, values]]);
    assert.throws(() => h.set(6, [1]), /array of \d+ elements/);
  }
  using a = PerCpuArrayMap.create({ value: u64, maxEntries: 2, name: 'kt_pc_array' });
  assert.deepEqual(a.get(1), new Array(cpus).fill(0n));
  a.set(1, Array.from({ length: cpus }, (_, i) => BigInt(i) << 40n));
  assert.deepEqual(a.get(1), Array.from({ length: cpus }, (_, i) => BigInt(i) << 40n));
});

kernelTest('LPM trie: longest prefix match over {prefixlen, data}', () => {
  using routes = LpmTrie.create({ data: 4, value: u32, maxEntries: 16, name: 'kt_lpm' });
  const ip = (s: string) => Uint8Array.from(s.split('.').map(Number));
  routes.set({ prefixlen: 8, data: ip('10.0.0.0') }, 8);
  routes.set({ prefixlen: 24, data: ip('10.1.2.0') }, 24);
  assert.equal(routes.get({ prefixlen: 32, data: ip('10.1.2.3') }), 24);
  assert.equal(routes.get({ prefixlen: 32, data: ip('10.9.9.9') }), 8);
  assert.equal(routes.get({ prefixlen: 32, data: ip('192.168.0.1') }), undefined);
  const keys = [...routes.keys()].map((k) => `${[...k.data].join('.')}/${k.prefixlen}`).sort();
  assert.deepEqual(keys, ['10.0.0.0/8', '10.1.2.0/24']);
  assert.equal(routes.delete({ prefixlen: 8, data: ip('10.0.0.0') }), true);
  assert.equal(routes.get({ prefixlen: 32, data: ip('10.9.9.9') }), undefined);
});

kernelTest('queue and stack: push/pop/peek order, full error, overwrite', () => {
  using q = QueueMap.create({ value: u32, maxEntries: 3, name: 'kt_queue' });
  q.push(1);
  q.push(2);
  q.push(3);
  assert.throws(() => q.push(4), (e: unknown) => e instanceof MapFullError && e.mapName === 'kt_queue');
  q.push(4, true); // drops the oldest
  assert.equal(q.peek(), 2);
  assert.equal(q.pop(), 2);
  assert.deepEqual([...q.drain()], [3, 4]);
  assert.equal(q.pop(), undefined);
  assert.equal(q.peek(), undefined);

  using s = StackMap.create({ value: u64, maxEntries: 4, name: 'kt_stack' });
  for (const v of [1n, 2n, 3n]) s.push(v);
  assert.equal(s.peek(), 3n);
  assert.deepEqual([...s.drain()], [3n, 2n, 1n]);
});

kernelTest('bloom filter: added values test true, others (almost always) false', () => {
  using f = BloomFilter.create({ value: u32, maxEntries: 1000, hashes: 3, name: 'kt_bloom' });
  for (let i = 0; i < 100; i++) f.add(i * 7);
  for (let i = 0; i < 100; i++) assert.equal(f.has(i * 7), true);
  let falsePositives = 0;
  for (let i = 0; i < 100; i++) if (f.has(1_000_000 + i)) falsePositives++;
  assert.ok(falsePositives < 20, `${falsePositives} false positives out of 100`);
  assert.equal(f.info().mapExtra, 3n, 'hash count travels in map_extra');
});

kernelTest('frozen map: reads work, writes fail with MapReadOnlyError naming the map', () => {
  using m = ArrayMap.create({ value: u32, maxEntries: 2, name: 'kt_frozen' });
  m.set(0, 42);
  m.freeze();
  assert.equal(m.get(0), 42);
  assert.throws(() => m.set(0, 1), (e: unknown) => e instanceof MapReadOnlyError && /kt_frozen.*read-only/.test(e.message));
});

kernelTest('raw bytes with any codec: TypedMap over a BpfMap, lookup into scratch without allocation', () => {
  using m = BpfMap.create({ type: 'HASH', keySize: 2, valueSize: 3, maxEntries: 8, name: 'kt_raw' });
  m.updateBytes(Uint8Array.of(1, 2), Uint8Array.of(3, 4, 5));
  m.keyBuffer.set([1, 2]);
  assert.equal(m.lookupInPlace(), true);
  assert.deepEqual([...m.valueBuffer], [3, 4, 5]);
  assert.deepEqual([...m.entriesBytes()].map(([k, v]) => [[...k], [...v]]), [[[1, 2], [3, 4, 5]]]);
  assert.deepEqual(m.lookupAndDeleteBytes(Uint8Array.of(1, 2)), Uint8Array.of(3, 4, 5));
  assert.equal(m.lookupBytes(Uint8Array.of(1, 2)), undefined);
});
