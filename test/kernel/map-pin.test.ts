// Maps as kernel objects: pin/unpin/open pinned on bpffs (in a unique directory removed even on
// failure), typed errors for paths off bpffs, info(), ids, open by id, BTF-described maps
// decoded with the BTF read back from the kernel, and no leaked fds over 1,000 maps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfBuilder, BtfIntEncoding, BtfKind } from '../../src/btf/index.js';
import { ArrayMap, BpfMap, BpffsError, btfById, HashMap, mapCodecs, mapIds, MapFlag, MapNotFoundError, PinExistsError, PinNotFoundError, TypedMap, u32, u64, ensureBpffs, isBpffs, BPFFS_ROOT } from '../../src/kernel/index.js';
import { bpf, Fd, openFds } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';

kernelTest('pin, open pinned, unpin: the map outlives its fd; clear errors for bad paths', (t) => {
  ensureBpffs();
  assert.ok(isBpffs(BPFFS_ROOT));
  const dir = join(BPFFS_ROOT, `tsbpf-test-${process.pid}-${Date.now()}`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'counts');
  {
    using m = HashMap.create({ key: u32, value: u64, maxEntries: 8, name: 'kt_pinned' });
    m.set(1, 11n);
    m.pin(path); // creates dir/nested inside the bpffs
    assert.equal(m.map.pinnedPath, path);
    assert.ok(existsSync(path));
    assert.throws(() => m.pin(path), (e: unknown) => e instanceof PinExistsError && e.path === path);
  }
  // The fd is closed; the pin keeps the map alive.
  {
    using again = BpfMap.fromPin(path);
    assert.deepEqual([again.type, again.name, again.keySize, again.valueSize, again.maxEntries], ['HASH', 'kt_pinned', 4, 8, 8]);
    const typed = new HashMap(again, u32, u64);
    assert.equal(typed.get(1), 11n);
    typed.set(2, 22n);
    assert.equal(again.unpin(), true, 'unpins where it was opened from');
    assert.equal(existsSync(path), false);
    assert.equal(again.unpin(path), false, 'nothing left to unpin');
    assert.equal(typed.get(2), 22n, 'the open fd still works after unpinning');
  }
  assert.throws(() => BpfMap.fromPin(path), (e: unknown) => e instanceof PinNotFoundError && e.path === path);
  const notBpffs = mkdtempSync(join(tmpdir(), 'tsbpf-pin-'));
  t.after(() => rmSync(notBpffs, { recursive: true, force: true }));
  using m = ArrayMap.create({ value: u32, maxEntries: 1, name: 'kt_badpin' });
  assert.throws(() => m.pin(join(notBpffs, 'x')), (e: unknown) => e instanceof BpffsError && /not on a BPF filesystem/.test(e.message) && /\/sys\/fs\/bpf/.test(e.message));
  assert.throws(() => BpfMap.fromPin(join(notBpffs)), BpffsError);
});

kernelTest('pinning under /sys/fs/bpf mounts bpffs there when it is missing (in a private mount namespace)', () => {
  // unshare gives the child its own copy of the mounts: it unmounts bpffs there, then pins,
  // and nothing changes for this machine (the namespace and its bpffs go away with the child).
  const kernelIndex = new URL('../../src/kernel/index.js', import.meta.url).href;
  const script = `
    const { isBpffs, BpfMap } = await import(${JSON.stringify(kernelIndex)});
    const before = isBpffs('/sys/fs/bpf');
    const m = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1, name: 'kt_ns' });
    m.pin('/sys/fs/bpf/tsbpf-ns/m');
    const again = BpfMap.fromPin('/sys/fs/bpf/tsbpf-ns/m');
    console.log(JSON.stringify({ before, after: isBpffs('/sys/fs/bpf'), name: again.name }));
    again.close();
    m.close();`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'while umount /sys/fs/bpf 2>/dev/null; do :; done; exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.error ?? ''}${r.stderr}`);
  assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, name: 'kt_ns' });
  assert.ok(isBpffs(BPFFS_ROOT), "this machine's bpffs is untouched");
});

kernelTest('info(), ids, open by id, read-only fds', () => {
  using m = HashMap.create({ key: u32, value: u64, maxEntries: 32, name: 'kt-info!', flags: MapFlag.NO_PREALLOC });
  const info = m.info();
  assert.equal(info.type, 'HASH');
  assert.equal(info.name, 'ktinfo', 'characters the kernel refuses are dropped');
  assert.deepEqual([info.keySize, info.valueSize, info.maxEntries, info.flags], [4, 8, 32, MapFlag.NO_PREALLOC]);
  assert.ok(info.id > 0);
  assert.ok(mapIds().includes(info.id));
  {
    using byId = BpfMap.fromId(info.id);
    assert.equal(byId.info().id, info.id);
    new HashMap(byId, u32, u64).set(5, 55n);
  }
  assert.equal(m.get(5), 55n, 'same map through another fd');
  assert.throws(() => BpfMap.fromId(0x7ffffff0), MapNotFoundError);
});

kernelTest('a map created with BTF is decoded with the BTF read back from the kernel', () => {
  const b = new BtfBuilder();
  const u32t = b.add({ kind: BtfKind.INT, name: 'unsigned int', size: 4, encoding: 0, bitsOffset: 0, bits: 32 });
  const u64t = b.add({ kind: BtfKind.INT, name: 'unsigned long long', size: 8, encoding: 0, bitsOffset: 0, bits: 64 });
  const chart = b.add({ kind: BtfKind.INT, name: 'char', size: 1, encoding: BtfIntEncoding.SIGNED, bitsOffset: 0, bits: 8 });
  const comm = b.add({ kind: BtfKind.ARRAY, name: '', type: chart, indexType: u32t, nelems: 16 });
  const stat = b.add({
    kind: BtfKind.STRUCT,
    name: 'stat',
    size: 32,
    members: [
      { name: 'count', type: u64t, bitOffset: 0, bitfieldSize: 0 },
      { name: 'comm', type: comm, bitOffset: 64, bitfieldSize: 0 },
      { name: 'level', type: u32t, bitOffset: 192, bitfieldSize: 4 },
      { name: 'flags', type: u32t, bitOffset: 196, bitfieldSize: 12 },
    ],
  });
  const raw = b.finish();
  const btfFd = new Fd(bpf('BTF_LOAD', { btf: raw, btf_size: raw.byteLength }).ret);
  try {
    using m = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 32, maxEntries: 4, name: 'kt_btf', btf: { fd: btfFd.value, keyTypeId: u32t, valueTypeId: stat } });
    const info = m.info();
    assert.ok(info.btfId > 0);
    assert.deepEqual([info.btfKeyTypeId, info.btfValueTypeId], [u32t, stat]);
    const { key, value, typed } = mapCodecs(info);
    assert.equal(typed, true);
    const entry = { count: 7n, comm: 'bash', level: 3, flags: 0xabc };
    m.updateBytes(key.encode(9), value.encode(entry));
    const [[k, v]] = [...m.entriesBytes()];
    assert.equal(key.decode(k!), 9);
    assert.deepEqual(value.decode(v!), entry);
    const typedMap = TypedMap.fromBtf<number, typeof entry>(m, btfById(info.btfId), u32t, stat);
    assert.deepEqual(typedMap.get(9), entry);
  } finally {
    btfFd.close();
  }
});

kernelTest('creating and closing 1,000 maps leaves the process with the fds it had', () => {
  const count = () => readdirSync('/proc/self/fd').length;
  // Warm up once: the first map creation loads the addon and may open files of its own.
  BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 1 }).close();
  const before = count();
  const tracked = openFds();
  for (let i = 0; i < 1000; i++) {
    using m = ArrayMap.create({ value: u64, maxEntries: 1, name: `kt_fd_${i}` });
    m.set(0, BigInt(i));
    assert.equal(m.get(0), BigInt(i));
  }
  assert.equal(count(), before, 'entries of /proc/self/fd');
  assert.equal(openFds(), tracked, 'Fd objects still open');
});
