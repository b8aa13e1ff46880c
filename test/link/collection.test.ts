import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collection } from '../../src/kernel/index.js';
import '../../src/link/index.js'; // registers the auto-attach dispatcher
import { usdt } from '../../src/link/index.js';
import { readObject } from '../../src/object/index.js';
import { kernelTest } from '../support/kernel.js';
import { FIXTURES, i64s, runTarget, TARGET } from './support.js';

function count(coll: Collection, map: string, pid: number): bigint {
  const v = coll.maps[map]!.lookupBytes(new Uint8Array(Uint32Array.of(pid).buffer));
  return v ? new DataView(v.buffer).getBigUint64(0, true) : 0n;
}

kernelTest('Collection.attachAll() attaches tp, raw_tp and tp_btf sections through the link layer and skips bare usdt', () => {
  using coll = Collection.load(readObject(new Uint8Array(readFileSync(join(FIXTURES, 'auto.bpf.o')))));
  const links = coll.attachAll();
  assert.equal(links.length, 3, 'tp, raw_tp, tp_btf; SEC("usdt") names no target');
  const { pid } = runTarget(['getppid', '12']);
  assert.equal(count(coll, 'tp_counts', pid), 12n);
  assert.equal(count(coll, 'raw_counts', pid), 12n);
  assert.equal(count(coll, 'exec_counts', pid), 1n);
});

kernelTest('usdt.bpf.h through a Collection: its maps are found from the program, the arguments read', () => {
  using coll = Collection.load(readObject(new Uint8Array(readFileSync(join(FIXTURES, 'auto.bpf.o')))), { programs: ['on_hit'] });
  using link = usdt(coll.programs.on_hit!, TARGET, 'tsbpf', 'hit', { cookie: 3n });
  const { pid } = runTarget(['call', '6']);
  const [n, sum0, sum1, last2, argCnt, cookie] = i64s(coll.maps.usdt_hits!.lookupBytes(new Uint8Array(Uint32Array.of(pid).buffer)), 6);
  assert.deepEqual([n, sum0, sum1, last2, argCnt, cookie], [6n, 15n, 150n, 7n, 3n, 3n]);
  assert.equal(link.kind, 'usdt');
});
