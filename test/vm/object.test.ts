/**
 * Programs from clang-built objects run in the VM with their maps: the documented way to
 * unit-test a kernel program without a kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../../src/errors.js';
import { readObject } from '../../src/object/index.js';
import { Engine, RingBuffer, vmForObject } from '../../src/vm/index.js';

const object = (path: string) => readObject(readFileSync(path));

for (const engine of [Engine.JIT, Engine.INTERPRETER]) {
  test(`execve tracer runs with its ring buffer, hash map and globals (${engine})`, () => {
    const spec = object('testdata/objdump/maps_globals.bpf.o');
    const { vm, maps } = vmForObject(spec, 'on_exec', { engine, env: { pid: 4242, tgid: 4242, uid: 1000, comm: 'abcat' } });
    assert.equal(vm.run({ context: new Uint8Array(64) }), 0n);
    assert.equal(vm.run({ context: new Uint8Array(64) }), 0n);
    const events = (maps.get('events') as RingBuffer).consume();
    assert.equal(events.length, 2);
    const ev = new DataView(events[0]!.buffer);
    assert.equal(ev.getUint32(0, true), 4242); // pid
    assert.equal(ev.getUint32(4, true), 1000); // uid
    assert.equal(new TextDecoder().decode(events[0]!.subarray(8, 13)), 'abcat');
    const key = new Uint8Array(16);
    key.set(new TextEncoder().encode('abcat'));
    const count = maps.get('counts')!.lookup(key)!;
    assert.equal(new DataView(count.buffer, count.byteOffset).getBigUint64(0, true), 2n, 'second run incremented the first insert');
    // comm starts with 'a' == prefix[0], so `seen` (initially 1 in .data) went up twice.
    const data = maps.get('.data')!.lookup(new Uint8Array(4))!;
    assert.equal(new DataView(data.buffer, data.byteOffset).getBigUint64(0, true), 3n);
    assert.deepEqual(vm.trace, ['exec 4242', 'exec 4242']);
  });
}

test('.rodata constants set before the run change what the program does', () => {
  const spec = object('testdata/objdump/maps_globals.bpf.o');
  const rodata = spec.maps.find((m) => m.name === '.rodata')!;
  new DataView(rodata.data!.buffer, rodata.data!.byteOffset).setUint32(0, 7, true); // target_pid = 7
  const { vm, maps } = vmForObject(spec, 'on_exec', { env: { pid: 4242, tgid: 4242, comm: 'x' } });
  vm.run({ context: new Uint8Array(64) });
  assert.equal((maps.get('events') as RingBuffer).consume().length, 0, 'filtered out: not pid 7');
});

test('linked subprograms run: tail_one returns global_helper(answer) = 2 * 42 + 1', () => {
  const { vm } = vmForObject(object('testdata/object/features.bpf.o'), 'tail_one');
  assert.equal(vm.run(), 85n);
});

test('kernel symbols and unknown programs are NotSupportedErrors that say why', () => {
  const spec = object('testdata/object/features.bpf.o');
  assert.throws(() => vmForObject(spec, 'entry'), (e) => e instanceof NotSupportedError && /bpf_prog_active|kernel symbol|map/.test(e.message));
  assert.throws(() => vmForObject(spec, 'nope'), (e) => e instanceof NotSupportedError && /tail_one, tail_two, entry/.test(e.message));
});
