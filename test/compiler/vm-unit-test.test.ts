/**
 * The way docs/compiler.md tells users to unit-test a kernel program without root or a kernel:
 * compile the TypeScript source, run a program in the VM with a mocked task and context, and
 * read its maps. Kept here, line for line as documented, so the documentation stays true.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFile } from '../../src/compiler/index.js';
import { vmForObject, type MapModel } from '../../src/vm/index.js';

const comm = (name: string): Uint8Array => {
  const key = new Uint8Array(16);
  key.set(new TextEncoder().encode(name));
  return key;
};
const u64 = (bytes: Uint8Array | undefined): bigint | undefined => (bytes ? new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true) : undefined);

test('unit-testing examples/ts/syscount in the VM: one count per command, from a mocked task', () => {
  const { spec } = compileFile('examples/ts/syscount/syscount.bpf.ts');
  const maps = new Map<string, MapModel>(); // shared across runs, as the kernel's map would be
  for (const task of ['bash', 'bash', 'sshd', 'bash']) {
    const { vm } = vmForObject(spec, 'syscount', { maps, env: { comm: task, pid: 42, tgid: 42 } });
    assert.equal(vm.run({ context: new Uint8Array(8 * 7) }), 0n); // raw tracepoint context: pt_regs*, syscall nr
  }
  const counts = maps.get('counts')!;
  assert.equal(u64(counts.lookup(comm('bash'))), 3n);
  assert.equal(u64(counts.lookup(comm('sshd'))), 1n);
  assert.equal(counts.size, 2);
});
