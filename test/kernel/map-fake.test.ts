// Map logic without the kernel, over the FakeKernel: the reused attrs and scratch buffers, typed
// errors, size checks before any system call, the per-element fallback of batch operations
// (the fake answers EINVAL to batch commands, like kernels before 5.6), and iteration rules.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BpfMap, HashMap, MapClosedError, MapFullError, MapKeyExistsError, MapKeyNotFoundError, MapSizeError, TypedMap, u32, u64, UpdateFlag, CodecError, CodecSizeError, MapTypeError, ArrayMap } from '../../src/kernel/index.js';
import { FakeKernel, useSyscalls } from '../../src/sys/index.js';

function fake(t: TestContext): FakeKernel {
  const k = new FakeKernel();
  t.after(useSyscalls(k));
  return k;
}

const key = (n: number) => u32.encode(n);

test('fake: typed get/set/delete/has reuse one attr (one bpf() per operation, no size surprises)', (t) => {
  const k = fake(t);
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 4, name: 'fake_hash' });
  const before = k.calls.length;
  m.set(1, 10n).set(2, 20n);
  assert.equal(m.get(1), 10n);
  assert.equal(m.get(3), undefined);
  assert.equal(m.has(2), true);
  assert.equal(m.delete(2), true);
  assert.equal(m.delete(2), false);
  assert.deepEqual(k.calls.slice(before).map((c) => c.cmd), ['MAP_UPDATE_ELEM', 'MAP_UPDATE_ELEM', 'MAP_LOOKUP_ELEM', 'MAP_LOOKUP_ELEM', 'MAP_LOOKUP_ELEM', 'MAP_DELETE_ELEM', 'MAP_DELETE_ELEM']);
  assert.equal(m.size, 1);
  assert.deepEqual([...m], [[1, 10n]]);
});

test('fake: typed errors name the map: full, exists, not found, closed, sizes', (t) => {
  const k = fake(t);
  const m = HashMap.create({ key: u32, value: u64, maxEntries: 2, name: 'small' });
  m.set(1, 1n).set(2, 2n);
  assert.throws(() => m.set(3, 3n), (e: unknown) => e instanceof MapFullError && e.mapName === 'small' && e.maxEntries === 2 && /small.*full.*2/.test(e.message));
  m.set(2, 5n); // an existing key still updates in a full map
  assert.throws(() => m.set(1, 1n, UpdateFlag.NOEXIST), (e: unknown) => e instanceof MapKeyExistsError && /small/.test(e.message));
  m.delete(1);
  assert.throws(() => m.set(1, 1n, UpdateFlag.EXIST), (e: unknown) => e instanceof MapKeyNotFoundError);
  const calls = k.calls.length;
  assert.throws(() => m.map.lookupBytes(new Uint8Array(3)), (e: unknown) => e instanceof MapSizeError && e.what === 'key' && e.expected === 4 && e.actual === 3);
  assert.throws(() => m.map.updateBytes(key(1), new Uint8Array(4)), (e: unknown) => e instanceof MapSizeError && e.what === 'value' && e.expected === 8);
  assert.throws(() => m.set(1, 1 as unknown as bigint), (e: unknown) => e instanceof CodecError && e.path === 'value');
  assert.equal(k.calls.length, calls, 'size and codec errors come before any system call');
  m.close();
  assert.throws(() => m.get(1), (e: unknown) => e instanceof MapClosedError && e.mapName === 'small');
  assert.throws(() => m.map.nextKeyBytes(undefined), MapClosedError);
  assert.throws(() => m.map.batchUpdateBytes(key(1), new Uint8Array(8)), MapClosedError);
  m.close(); // twice is fine
});

test('fake: codecs must match the map, typed classes the map type', (t) => {
  fake(t);
  using raw = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 4, name: 'shape' });
  assert.throws(() => new TypedMap(raw, u64, u64), (e: unknown) => e instanceof CodecSizeError && e.what === 'key');
  assert.throws(() => new ArrayMap(raw, u64), MapTypeError);
  using pc = BpfMap.create({ type: 'PERCPU_ARRAY', keySize: 4, valueSize: 8, maxEntries: 1, name: 'pc' });
  assert.throws(() => new TypedMap(pc, u32, u64), /perCpu/);
});

test('fake: batch operations fall back to one element at a time when the kernel lacks them', (t) => {
  const k = fake(t);
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 100, name: 'fallback' });
  assert.equal(m.batchUpdate(Array.from({ length: 10 }, (_, i) => [i, BigInt(i * i)] as const)), 10);
  assert.ok(k.calls.some((c) => c.cmd === 'MAP_UPDATE_BATCH' && c.ret < 0), 'the batch command was tried first');
  const got = new Map(m.batchEntries(3));
  assert.equal(got.size, 10);
  assert.equal(got.get(7), 49n);
  assert.equal(m.batchDelete([1, 2, 3, 42]), 3, 'a missing key is skipped, not an error');
  assert.equal(m.size, 7);
});

test('fake: iteration skips keys deleted meanwhile and does not repeat keys after a restart', (t) => {
  fake(t);
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 16, name: 'walk' });
  for (let i = 0; i < 8; i++) m.set(i, BigInt(i));
  const seen: number[] = [];
  for (const [k] of m) {
    seen.push(k);
    // Deleting the cursor key makes the fake's (and a hash map's) GET_NEXT_KEY restart from the first key.
    if (k === 3) m.delete(3);
    if (k === 4) m.delete(6);
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 7]);
});
