/**
 * Root-less checks of what the differential test found and of its own machinery: the VM
 * differences it exposed (fixed in src/vm) pinned down on the VM alone, and the context
 * rewrite that lets the VM run XDP and tc programs with direct packet access.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ProgramBuilder, R0, R1, R2, R6, R10, reg } from '../../src/asm/index.js';
import { readObject } from '../../src/object/index.js';
import { HashMap, MapType } from '../../src/vm/index.js';
import { contextLoads, rewriteContextLoads, SK_BUFF, XDP_MD } from './context.js';
import { refusedFrame, skbProtocol, VmSide } from './harness.js';

const object = (name: string) => readObject(readFileSync(`testdata/diff/${name}.bpf.o`));
const frame = (...payload: number[]): Uint8Array => Uint8Array.from([...new Array(12).fill(0), 0x08, 0x00, ...payload]);
const s64 = (hex: string): bigint => BigInt.asIntN(64, Buffer.from(hex, 'hex').readBigUInt64LE());

test('LRU hash: looking elements up while walking the keys visits every element once', () => {
  const m = new HashMap({ type: MapType.LRU_HASH, keySize: 1, valueSize: 1, maxEntries: 4 });
  for (let k = 0; k < 4; k++) m.update(Uint8Array.of(k), Uint8Array.of(k));
  const seen: number[] = [];
  for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) {
    seen.push(k[0]!);
    m.lookup(k); // a use: before the fix this moved the element to the end of the walk
  }
  assert.deepEqual(seen, [0, 1, 2, 3]);
  // Recency still decides eviction: 0 was used last, so 1 is the least recently used.
  m.lookup(Uint8Array.of(0));
  m.update(Uint8Array.of(9), Uint8Array.of(9));
  assert.equal(m.lookup(Uint8Array.of(1)), undefined);
  assert.ok(m.lookup(Uint8Array.of(0)));
});

test('pop and peek of an empty queue or stack zero the value buffer, as the kernel does', () => {
  const vm = new VmSide(object('xdp_maps'), 'xdp_maps');
  // Commands (op, key, value): 10 = pop the empty stack, 11 = peek the empty queue, 8 = pop it.
  vm.run({ packet: frame(10, 0, 0, 11, 0, 0, 8, 0, 0) });
  const log = vm.snapshot().results!.slice(0, 3).map((l) => s64(l.split('=')[1]!));
  assert.deepEqual(log, [-2n * 0x10000n, -2n * 0x10000n, -2n * 0x10000n], 'errno -ENOENT and a zeroed value (not 0xbeef/0xfeed/0xdead)');
});

test('BPF_F_LOCK: -EINVAL for a map without a spin lock, allowed where the value has one (found from BTF)', () => {
  const vm = new VmSide(object('xdp_spinlock'), 'xdp_spinlock');
  vm.run({ packet: frame(1, 3) }); // key 1, v = 3: plain update with F_LOCK, locked insert with F_LOCK
  vm.run({ packet: frame(1, 4) }); // the locked path: spin_lock, update, then F_LOCK | EXIST
  const snap = vm.snapshot();
  const rets = snap.rets!.map((l) => s64(l.split('=')[1]!));
  assert.deepEqual(rets.slice(0, 3), [0n, 0n, 0n], 'plain update without F_LOCK, locked insert and locked update with F_LOCK all succeed');
  const vm2 = new VmSide(object('xdp_spinlock'), 'xdp_spinlock');
  vm2.run({ packet: frame(1, 3) });
  assert.equal(s64(vm2.snapshot().rets![0]!.split('=')[1]!), -22n, 'the plain map refuses BPF_F_LOCK');
  assert.equal(s64(vm2.snapshot().rets![1]!.split('=')[1]!), 0n, 'the locked map accepts it');
  assert.equal(snap.locked!.length, 1);
});

test('the context rewrite follows the context pointer through moves and stack spills', () => {
  // r6 = r1; spill r6; r1 = 0; fill r2; r0 = *(u32 *)(r2 + 4) must become a 64-bit load of
  // the shadow slot; a load through the stack frame pointer must not.
  const insns = new ProgramBuilder()
    .mov(R6, reg(R1))
    .store(64, R10, -8, reg(R6))
    .mov(R1, 0)
    .load(64, R2, R10, -8)
    .load(32, R0, R2, 4)
    .load(32, R1, R10, -8)
    .exit()
    .build().instructions;
  assert.deepEqual([...contextLoads(insns)], [4]);
  const out = rewriteContextLoads(insns, XDP_MD);
  assert.equal(out[4]!.off, 32);
  assert.equal(out[4]!.code & 0x18, 0x18, 'an 8-byte load');
  assert.equal(out[5]!.off, -8);
});

test('the clang fixtures: exactly the data/data_end loads are rewritten', () => {
  for (const [name, layout, want] of [
    ['xdp_parse', XDP_MD, [0, 4]],
    ['tc_classify', SK_BUFF, [76, 80]],
  ] as const) {
    const p = object(name).programs[0]!;
    const out = rewriteContextLoads(p.instructions, layout);
    const changed = p.instructions.flatMap((insn, i) => (out[i]!.off !== insn.off ? [insn.off] : []));
    assert.deepEqual([...new Set(changed)].sort((a, b) => a - b), want, name);
  }
});

test('kernel facts the harness models: eth_type_trans protocols, frames the skb test run refuses', () => {
  assert.equal(skbProtocol(frame()), 0x0008); // ETH_P_IP, big-endian in a u32
  assert.equal(skbProtocol(Uint8Array.from([...new Array(12).fill(0), 0x00, 0x40, 0xff, 0xff])), 0x0100); // ETH_P_802_3
  assert.equal(skbProtocol(Uint8Array.from([...new Array(12).fill(0), 0x00, 0x40, 0xaa, 0xaa])), 0x0400); // ETH_P_802_2
  assert.ok(refusedFrame(frame(0x45), 'tc') && !refusedFrame(frame(0x45), 'xdp'));
  assert.ok(!refusedFrame(frame(...new Array(20).fill(0)), 'socket'));
});
