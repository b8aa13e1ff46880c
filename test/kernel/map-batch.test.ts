// Batch operations in the kernel, and their per-element fallback where the kernel has no batch
// support for a map type (stack trace maps answer ENOTSUPP; arrays cannot batch-delete).
import assert from 'node:assert/strict';
import { ArrayMap, BatchCursor, HashMap, LpmTrie, MapFullError, PerCpuHashMap, possibleCpus, StackTraceMap, u32, u64, type BatchError } from '../../src/kernel/index.js';
import { setExplain } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';

kernelTest('hash batches: update, lookup in chunks (growing on ENOSPC), delete, lookup-and-delete', () => {
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 1000, name: 'kt_batch' });
  const entries = Array.from({ length: 1000 }, (_, i) => [i * 3, BigInt(i) * 1000n] as const);
  assert.equal(m.batchUpdate(entries), 1000);
  const all = new Map(m.batchEntries(1)); // one per call: buckets holding 2+ keys need a retry with more room
  assert.equal(all.size, 1000);
  for (const [k, v] of entries) assert.equal(all.get(k), v);
  assert.deepEqual(new Map(m.batchEntries(128)), all);
  assert.equal(m.batchDelete(entries.slice(0, 500).map(([k]) => k).concat([1, 4])), 500, 'keys not in the map are skipped');
  assert.equal(m.size, 500);
  const drained = m.batchLookupAndDelete(100);
  assert.equal(drained.length, 500);
  for (const [k, v] of drained) assert.equal(v, BigInt(k / 3) * 1000n);
  assert.equal(m.size, 0);
});

kernelTest('per-CPU batches carry every CPU\'s value', () => {
  const cpus = possibleCpus();
  using m = PerCpuHashMap.create({ key: u32, value: u32, maxEntries: 64, name: 'kt_pc_batch' });
  const row = (k: number) => Array.from({ length: cpus }, (_, c) => k * 10 + c);
  m.batchUpdate(Array.from({ length: 50 }, (_, k) => [k, row(k)] as const));
  const got = [...m.batchEntries(16)];
  assert.equal(got.length, 50);
  for (const [k, values] of got) assert.deepEqual(values, row(k));
});

kernelTest('a batch update into a full map is a MapFullError with the number stored', () => {
  using m = HashMap.create({ key: u32, value: u32, maxEntries: 10, name: 'kt_batch_full' });
  try {
    m.batchUpdate(Array.from({ length: 20 }, (_, i) => [i, i] as const));
    assert.fail('expected MapFullError');
  } catch (e) {
    assert.ok(e instanceof MapFullError, String(e));
    assert.equal(e.mapName, 'kt_batch_full');
    assert.equal((e as BatchError).processed, 10);
  }
});

kernelTest('array batches: update and lookup in the kernel; delete refused with a clear error', () => {
  using a = ArrayMap.create({ value: u32, maxEntries: 100, name: 'kt_arr_batch' });
  assert.equal(a.batchUpdate(Array.from({ length: 100 }, (_, i) => [i, i * i] as const)), 100);
  const got = [...a.batchEntries(30)];
  assert.deepEqual(got.map(([k]) => k), Array.from({ length: 100 }, (_, i) => i));
  for (const [k, v] of got) assert.equal(v, k * k);
  assert.throws(() => a.batchDelete([1]), /cannot be deleted/);
});

kernelTest('a type without kernel batch support (stack traces: ENOTSUPP) batches per element', () => {
  // Batches of stack trace maps go through the same code as any other; the kernel has none,
  // so lookups walk with GET_NEXT_KEY and deletes go one by one. Stack ids come from a program
  // in map-objects.test.ts; an empty map shows the same paths.
  using stacks = StackTraceMap.create({ maxEntries: 8, name: 'kt_st_batch' });
  const lines: string[] = [];
  const old = setExplain((l) => lines.push(l));
  try {
    assert.deepEqual([...stacks.map.batchEntriesBytes(4)], []);
    assert.equal(stacks.map.batchDeleteBytes(u32.encode(3)), 0);
  } finally {
    setExplain(old);
  }
  const calls = lines.map((l) => /^bpf\((BPF_\w+).*= (-1 \w+|\d+)/.exec(l)!.slice(1, 3).join(' '));
  assert.deepEqual(calls, ['BPF_MAP_LOOKUP_BATCH -1 ENOTSUPP', 'BPF_MAP_GET_NEXT_KEY -1 ENOENT', 'BPF_MAP_DELETE_BATCH -1 ENOTSUPP', 'BPF_MAP_DELETE_ELEM -1 ENOENT']);
});

kernelTest('LPM trie batches (generic batch ops in this kernel)', () => {
  using t = LpmTrie.create({ data: 4, value: u32, maxEntries: 64, name: 'kt_lpm_batch' });
  const keys = Array.from({ length: 20 }, (_, i) => ({ prefixlen: 32, data: Uint8Array.of(10, 0, 0, i) }));
  assert.equal(t.batchUpdate(keys.map((k, i) => [k, i] as const)), 20);
  const got = [...t.batchEntries(8)];
  assert.equal(got.length, 20);
  for (const [k, v] of got) assert.equal(k.data[3], v);
  assert.equal(t.batchDelete(keys.slice(0, 5)), 5);
  assert.equal(t.size, 15);
});

kernelTest('low-level batch lookup into caller buffers with a cursor', () => {
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 256, name: 'kt_cursor' });
  m.batchUpdate(Array.from({ length: 200 }, (_, i) => [i, BigInt(i)] as const));
  const cursor = new BatchCursor(m.map);
  const keys = new Uint8Array(64 * 4);
  const values = new Uint8Array(64 * 8);
  const seen = new Set<number>();
  while (!cursor.done) {
    const n = m.map.batchLookupBytes(cursor, keys, values);
    for (let i = 0; i < n; i++) seen.add(u32.decode(keys.subarray(i * 4)));
  }
  assert.equal(seen.size, 200);
  assert.equal(m.map.batchLookupBytes(cursor, keys, values), 0, 'a finished cursor reads nothing');
});
