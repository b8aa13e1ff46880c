// CO-RE across kernels, the comparison: inside the guest, the relocations of each CO-RE fixture
// (clang-built and tsbpf-built) are resolved against the guest's BTF (/sys/kernel/btf/vmlinux,
// 6.1) and against the host's (a copy the runner puts in the run directory: TSBPF_HOST_BTF),
// with src/btf/core. The same
// access paths land on different offsets: that is what test/guest/all-kernels/core.test.ts,
// run on both kernels, proves the loader gets right.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { parseBtf } from '../../src/btf/index.js';
import { kernelBtf } from '../../src/kernel/vmlinux.js';
import { CORE_OBJECTS, coreResults, reloKey } from './core-support.js';
import { guestTest } from './support.js';

for (const fixture of CORE_OBJECTS) {
  guestTest(`CO-RE (${fixture.compiler}-built object): the same relocations resolve to different offsets on the host kernel and on 6.1`, (t) => {
    const hostBtfPath = process.env.TSBPF_HOST_BTF;
    assert.ok(hostBtfPath, 'the guest runner passes the host kernel BTF (TSBPF_HOST_BTF)');
    const host = coreResults(parseBtf(new Uint8Array(readFileSync(hostBtfPath))), fixture.path);
    const guest = coreResults(kernelBtf(), fixture.path);
    assert.equal(host.length, guest.length);
    const hostRelease = process.env.TSBPF_HOST_RELEASE ?? 'host';
    const differ: string[] = [];
    for (let i = 0; i < host.length; i++) {
      const [h, g] = [host[i]!, guest[i]!];
      assert.equal(reloKey(h), reloKey(g), 'the same relocation');
      assert.equal(h.localValue, g.localValue, 'the same compiled value');
      assert.ok(!h.poisoned && !g.poisoned, `${reloKey(h)} resolves on both kernels`);
      const line = `${reloKey(g)}: compiled ${g.localValue}, ${hostRelease} ${h.targetValue}, ${release()} ${g.targetValue}`;
      t.diagnostic(line);
      if (h.targetValue !== g.targetValue) differ.push(line);
    }
    const byKey = new Map(guest.map((g, i) => [reloKey(g), [host[i]!.targetValue, g.targetValue]]));
    // task_struct moved a lot between 6.1 and 6.18; comm's size did not.
    for (const f of ['tgid', 'pid', 'real_parent', 'mm', 'comm']) {
      const [h, g] = byKey.get(`struct task_struct::${f}: byte offset`)!;
      assert.notEqual(h, g, `task_struct::${f} is at ${g} on ${release()} and ${h} on ${hostRelease}`);
    }
    if (fixture.fieldSize) assert.deepEqual(byKey.get('struct task_struct::comm: byte size'), [16n, 16n]);
    assert.ok(differ.length >= 5, differ.join('\n'));
  });
}
