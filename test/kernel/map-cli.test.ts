// `tsbpf map list | show | dump` against maps this test creates; the plain hex dump is checked
// byte for byte against bpftool's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BtfBuilder, BtfIntEncoding, BtfKind } from '../../src/btf/index.js';
import { BpfMap, HashMap, PerCpuArrayMap, QueueMap, u32, u64 } from '../../src/kernel/index.js';
import { bpf, Fd } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tsbpf = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'map', ...args], { encoding: 'utf8' });

function bpftool(...args: string[]): string | undefined {
  const r = spawnSync('bpftool', args, { encoding: 'utf8' });
  if (r.error && process.env.TSBPF_NO_LLVM === '1') return undefined;
  assert.equal(r.status, 0, `bpftool ${args.join(' ')}: ${r.error ?? r.stderr}`);
  return r.stdout;
}

kernelTest('map list and show: table and JSON with id, type, name, sizes, max entries, flags', () => {
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 7, name: 'kt_cli_list', flags: 1 });
  const id = m.info().id;
  const list = tsbpf('list');
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^ID +TYPE +NAME +KEY +VALUE +MAX_ENTRIES +FLAGS +BTF\n/);
  assert.match(list.stdout, new RegExp(`^${id} +hash +kt_cli_list +4B +8B +7 +0x1 +-$`, 'm'));
  const json = JSON.parse(tsbpf('list', '--json').stdout) as Array<{ id: number; type: string; name: string; keySize: number; valueSize: number; maxEntries: number; flags: number }>;
  const row = json.find((r) => r.id === id)!;
  assert.deepEqual([row.type, row.name, row.keySize, row.valueSize, row.maxEntries, row.flags], ['HASH', 'kt_cli_list', 4, 8, 7, 1]);
  const show = tsbpf('show', String(id));
  assert.match(show.stdout, /^id +\d+\ntype +hash\nname +kt_cli_list\nkey +4B\nvalue +8B\nmax_entries +7\nflags +0x1\n/);
  assert.equal(JSON.parse(tsbpf('show', String(id), '--json').stdout).name, 'kt_cli_list');
  const missing = tsbpf('show', '4000000000');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^tsbpf: no map has id 4000000000/);
  assert.match(tsbpf('show', 'abc').stderr, /not a map id/);
});

kernelTest('map dump without BTF: hex exactly like bpftool, per-CPU too', () => {
  using m = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 4, name: 'kt_cli_hex' });
  m.updateBytes(u32.encode(1), u64.encode(0x0a0bn));
  m.updateBytes(u32.encode(2), u64.encode(2n ** 64n - 1n));
  using pc = PerCpuArrayMap.create({ value: u32, maxEntries: 2, name: 'kt_cli_pc' });
  pc.set(1, pc.get(1)!.map((_, cpu) => cpu + 1));
  for (const id of [m.info().id, pc.info().id]) {
    const ours = tsbpf('dump', String(id));
    assert.equal(ours.status, 0, ours.stderr);
    const theirs = bpftool('map', 'dump', 'id', String(id));
    if (theirs !== undefined) assert.equal(ours.stdout, theirs);
  }
  const json = JSON.parse(tsbpf('dump', String(m.info().id), '--json').stdout) as Array<{ key: string[]; value: string[] }>;
  assert.equal(json.length, 2);
  assert.deepEqual(json.find((e) => e.key[0] === '0x01')!.value, ['0x0b', '0x0a', '0x00', '0x00', '0x00', '0x00', '0x00', '0x00']);
});

kernelTest('map dump with BTF: entries decoded with the BTF read back from the kernel', () => {
  const b = new BtfBuilder();
  const u32t = b.add({ kind: BtfKind.INT, name: 'unsigned int', size: 4, encoding: 0, bitsOffset: 0, bits: 32 });
  const u64t = b.add({ kind: BtfKind.INT, name: 'unsigned long long', size: 8, encoding: 0, bitsOffset: 0, bits: 64 });
  const chart = b.add({ kind: BtfKind.INT, name: 'char', size: 1, encoding: BtfIntEncoding.SIGNED, bitsOffset: 0, bits: 8 });
  const comm = b.add({ kind: BtfKind.ARRAY, name: '', type: chart, indexType: u32t, nelems: 8 });
  const val = b.add({ kind: BtfKind.STRUCT, name: 'val', size: 16, members: [{ name: 'hits', type: u64t, bitOffset: 0, bitfieldSize: 0 }, { name: 'comm', type: comm, bitOffset: 64, bitfieldSize: 0 }] });
  const raw = b.finish();
  using btf = new Fd(bpf('BTF_LOAD', { btf: raw, btf_size: raw.byteLength }).ret);
  using m = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 16, maxEntries: 4, name: 'kt_cli_btf', btf: { fd: btf.value, keyTypeId: u32t, valueTypeId: val } });
  const value = new Uint8Array(16);
  new DataView(value.buffer).setBigUint64(0, 12345678901234567890n, true);
  value.set(new TextEncoder().encode('bash'), 8);
  m.updateBytes(u32.encode(42), value);
  const id = String(m.info().id);
  const human = tsbpf('dump', id);
  assert.equal(human.status, 0, human.stderr);
  assert.equal(human.stdout, 'KEY  VALUE\n42   {hits: 12345678901234567890, comm: "bash"}\nFound 1 element\n');
  const json = tsbpf('dump', id, '--json').stdout;
  assert.match(json, /"hits": 12345678901234567890,/, 'u64 stays exact in JSON');
  assert.deepEqual(JSON.parse(json.replace(/12345678901234567890/, '0')), [{ key: 42, value: { hits: 0, comm: 'bash' } }]);
});

kernelTest('map dump refuses types it cannot list, saying why', () => {
  using q = QueueMap.create({ value: u32, maxEntries: 4, name: 'kt_cli_queue' });
  q.push(1);
  const r = tsbpf('dump', String(q.info().id));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tsbpf: map \d+ \('kt_cli_queue', queue\) cannot be dumped: its values can only be read by popping them\n$/);
  assert.equal(q.pop(), 1, 'and left the queue alone');
});
