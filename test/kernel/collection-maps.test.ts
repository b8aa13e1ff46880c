// Maps that hold other objects and maps that outlive a load: prog arrays filled from their
// initial slots (tail calls work), maps of maps with their inner maps, and maps pinned by name,
// reused by the next load when compatible and refused when not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Collection } from '../../src/kernel/collection.js';
import { VerifierError } from '../../src/kernel/program.js';
import { readObject } from '../../src/object/index.js';
import { PinnedMapMismatchError } from '../../src/kernel/collection-maps.js';
import { BpfMap } from '../../src/kernel/map.js';
import { mapInfoBasics } from '../../src/kernel/map-info.js';
import { pinFd } from '../../src/kernel/pin.js';
import { load } from '../../src/load.js';
import { kernelTest } from '../support/kernel.js';

const packet = new Uint8Array(64);
const u32 = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);
const u64 = (n: bigint) => new Uint8Array(BigUint64Array.of(n).buffer);
const readU32 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : undefined);
const readU64 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) : undefined);

kernelTest('prog arrays: initial slots are filled after the programs load, and tail calls reach them', async () => {
  for (const [slot, expected] of [
    [1, 11],
    [3, 33],
    [2, 99],
  ] as const) {
    await using c = await load('testdata/loader/tailcall.bpf.o', { constants: { slot } });
    assert.equal(c.programs.entry!.testRun({ data: packet }).retval, expected, `slot ${slot}`);
  }
  await using c = await load('testdata/loader/tailcall.bpf.o');
  // From user space, a prog array slot reads back as the program's id.
  const jumps = c.maps.jumps!;
  assert.equal(readU32(jumps.lookupBytes(u32(1))), c.programs.slot_one!.info().id);
  assert.equal(readU32(jumps.lookupBytes(u32(3))), c.programs.slot_three!.info().id);
  assert.equal(jumps.lookupBytes(u32(0)), undefined);
});

kernelTest('maps of maps: inner maps from the initial slots are readable through the outer map', async () => {
  await using c = await load('testdata/loader/mim.bpf.o');
  const outer = c.maps.outer!;
  assert.equal(readU32(outer.lookupBytes(u32(0))), mapInfoBasics(c.maps.inner_a!.fd.value).id);
  assert.equal(readU32(outer.lookupBytes(u32(1))), mapInfoBasics(c.maps.inner_b!.fd.value).id);
  c.maps.inner_b!.updateBytes(u32(0), u64(41n));
  assert.equal(c.programs.read_inner!.testRun({ data: packet }).retval, 0);
  assert.equal(c.variables.seen!.get(), 41n, 'the program read inner_b through outer');
  assert.equal(readU64(c.maps.inner_b!.lookupBytes(u32(0))), 42n, 'and wrote it back');
  await using a = await load('testdata/loader/mim.bpf.o', { constants: { which: 0 } });
  a.maps.inner_a!.updateBytes(u32(0), u64(7n));
  a.programs.read_inner!.testRun({ data: packet });
  assert.equal(a.variables.seen!.get(), 7n);
});

kernelTest('features.bpf.o without its kernel-variable program: prog array, map of maps, pin, kconfig and constants', async () => {
  const pinPath = `/sys/fs/bpf/tsbpf-features-${process.pid}`;
  try {
    await using c = await load('testdata/object/features.bpf.o', { pinPath, programs: ['tail_one', 'tail_two'], constants: { answer: 7 } });
    assert.equal(readU32(c.maps.jumps!.lookupBytes(u32(0))), c.programs.tail_one!.info().id);
    assert.equal(readU32(c.maps.jumps!.lookupBytes(u32(2))), c.programs.tail_two!.info().id);
    assert.equal(readU32(c.maps.outer!.lookupBytes(u32(1))), mapInfoBasics(c.maps.inner_b!.fd.value).id);
    assert.equal(c.maps.outer!.lookupBytes(u32(0)), undefined);
    assert.ok(existsSync(`${pinPath}/pinned`), 'the LIBBPF_PIN_BY_NAME map is pinned');
    assert.equal(c.variables.answer!.get(), 7);
    assert.equal(c.variables.CONFIG_BPF_SYSCALL!.get(), true);
    assert.ok((c.variables.LINUX_KERNEL_VERSION!.get() as number) > 0);
  } finally {
    rmSync(pinPath, { recursive: true, force: true });
  }
});

kernelTest('pinned maps: a second load reuses a compatible pin; an incompatible one is refused', async () => {
  const pinPath = `/sys/fs/bpf/tsbpf-pins-${process.pid}`;
  const pin = `${pinPath}/tsbpf_shared`;
  try {
    {
      await using first = await load('testdata/loader/pinned.bpf.o', { pinPath });
      assert.deepEqual(first.pinnedPaths, [pin]);
      first.programs.bump!.testRun({ data: packet });
      await using second = await load('testdata/loader/pinned.bpf.o', { pinPath });
      assert.deepEqual(second.pinnedPaths, [], 'reused, not pinned again');
      assert.equal(mapInfoBasics(second.maps.tsbpf_shared!.fd.value).id, mapInfoBasics(first.maps.tsbpf_shared!.fd.value).id, 'the same map');
      second.programs.bump!.testRun({ data: packet });
      assert.equal(readU64(first.maps.tsbpf_shared!.lookupBytes(u32(1))), 2n, 'both programs counted into one map');
      const shown = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', pin]).toString()) as { name: string };
      assert.equal(shown.name, 'tsbpf_shared');
    }
    assert.ok(existsSync(pin), 'the pin outlives the collections');
    rmSync(pin);
    // Something else pinned under the name, with another max_entries.
    {
      using other = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 32, name: 'tsbpf_shared' });
      pinFd(other.fd.value, pin, 'test');
    }
    await assert.rejects(load('testdata/loader/pinned.bpf.o', { pinPath }), (e: unknown) => e instanceof PinnedMapMismatchError && e.field === 'max_entries' && e.pinned === 32 && e.wanted === 64);
  } finally {
    rmSync(pinPath, { recursive: true, force: true });
  }
});

kernelTest('a failed load removes the pins it created, and keeps pins it reused', () => {
  const pinPath = `/sys/fs/bpf/tsbpf-failpin-${process.pid}`;
  const bytes = readFileSync('testdata/loader/pinned.bpf.o');
  const broken = () => {
    const spec = readObject(bytes);
    // r0 = r3 first: "R3 !read_ok", after the pinned map was created and pinned
    spec.programs[0]!.instructions.unshift({ code: 0xbf, dst: 0, src: 3, off: 0, imm: 0 });
    for (const r of spec.programs[0]!.references) r.index++;
    for (const l of spec.programs[0]!.lineInfos) l.index++;
    spec.programs[0]!.lineInfos.unshift({ ...spec.programs[0]!.lineInfos[0]!, index: 0 });
    return spec;
  };
  try {
    assert.throws(() => Collection.load(broken(), { pinPath }), VerifierError);
    assert.ok(!existsSync(`${pinPath}/tsbpf_shared`), 'the new pin was removed');
    {
      using ok = Collection.load(readObject(bytes), { pinPath });
      assert.equal(ok.pinnedPaths.length, 1);
    }
    assert.throws(() => Collection.load(broken(), { pinPath }), VerifierError);
    assert.ok(existsSync(`${pinPath}/tsbpf_shared`), 'a reused pin stays');
  } finally {
    rmSync(pinPath, { recursive: true, force: true });
  }
});
