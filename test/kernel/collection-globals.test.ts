// Global data in the kernel: .rodata constants set before load change what a program returns
// (the verifier sees them frozen), and .data/.bss variables are read and written after load —
// through the mmapped map and through lookups — while programs update them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VariableError } from '../../src/kernel/globals.js';
import { Collection } from '../../src/kernel/collection.js';
import type { BtfValue } from '../../src/kernel/codec-btf.js';
import { load } from '../../src/load.js';
import { readObject } from '../../src/object/index.js';
import { kernelTest } from '../support/kernel.js';

const OBJ = 'testdata/loader/globals.bpf.o';
const packet = new Uint8Array(64);
const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3 };

kernelTest('.rodata constants set before load decide what the programs return', async () => {
  const run = async (constants: Record<string, BtfValue>): Promise<[number, number]> => {
    await using c = await load(OBJ, { constants });
    return [c.programs.xdp_verdict!.testRun({ data: packet }).retval, c.programs.sock_const!.testRun({ data: packet }).retval];
  };
  assert.deepEqual(await run({}), [XDP.PASS, 2 * 100 + 10 - 1]);
  assert.deepEqual(await run({ verdict: XDP.DROP }), [XDP.DROP, 100 + 10 - 1]);
  assert.deepEqual(await run({ magic: 0xdeadbeefcafen }), [XDP.DROP, 209]);
  assert.deepEqual(await run({ tag: 'xyz' }), [XDP.TX, 209]);
  assert.deepEqual(await run({ pair: { a: 3, b: 4 } }), [XDP.PASS, 234]);
  assert.deepEqual(await run({ strict: true }), [XDP.PASS, 209], 'color is GREEN: strict changes nothing');
  assert.deepEqual(await run({ verdict: 0, tag: new TextEncoder().encode('n\0\0\0\0\0\0\0') }), [XDP.ABORTED, 9]);
});

kernelTest('constants: a name the object lacks or a value of the wrong size is a VariableError naming it', async () => {
  await assert.rejects(load(OBJ, { constants: { verdikt: 1 } }), (e: unknown) => e instanceof VariableError && e.variable === 'verdikt');
  await assert.rejects(load(OBJ, { constants: { magic: new Uint8Array(3) } }), (e: unknown) => e instanceof VariableError && e.variable === 'magic');
  await assert.rejects(load(OBJ, { constants: { tag: 'longer than 8' } }), (e: unknown) => e instanceof VariableError && e.variable === 'tag');
});

kernelTest('variables: programs update .bss/.data and user space reads and writes them (mmap)', async () => {
  await using c = await load(OBJ);
  const v = c.variables;
  assert.equal(v.hits!.get(), 0n);
  assert.equal(v.last_len!.get(), 7);
  assert.deepEqual(v.where!.get(), { x: 3, y: 4 });
  assert.equal(v.label!.get(), 'start');
  assert.equal(v.color!.get(), 5);
  c.programs.xdp_verdict!.testRun({ data: packet });
  assert.equal(v.hits!.get(), 1n, 'the program incremented the .bss counter');
  assert.equal(v.last_len!.get(), packet.byteLength);
  assert.deepEqual(v.where!.get(), { x: 4, y: 4 });
  assert.equal(v.label!.get(), 'Start');
  assert.deepEqual(v.history!.get(), [0n, -1n, 0n]);
  v.hits!.set(100n);
  v.where!.set({ y: 40 });
  v.label!.set('reset');
  c.programs.xdp_verdict!.testRun({ data: packet });
  assert.equal(v.hits!.get(), 101n, 'the program saw the value user space wrote');
  assert.deepEqual(v.where!.get(), { x: 5, y: 40 });
  assert.equal(v.label!.get(), 'Seset');
  assert.equal(v.verdict!.get(), 2);
  assert.equal(v.verdict!.readOnly, true);
  assert.throws(() => v.verdict!.set(1), (e: unknown) => e instanceof VariableError && /frozen/.test(e.message));
  assert.deepEqual(v.pair!.get(), { a: 1, b: -1 });
  assert.throws(() => v.hits!.set('many'), VariableError);
});

kernelTest('variables without mmap go through map lookups and updates', () => {
  const spec = readObject(readFileSync(OBJ));
  // Without BPF_F_MMAPABLE the data maps are plain arrays (as on kernels before 5.5).
  for (const m of spec.maps) if (m.data) m.flags &= ~(1 << 10);
  using c = Collection.load(spec);
  c.variables.hits!.set(41n);
  c.programs.xdp_verdict!.testRun({ data: packet });
  assert.equal(c.variables.hits!.get(), 42n);
  assert.deepEqual(c.variables.where!.get(), { x: 4, y: 4 });
});
