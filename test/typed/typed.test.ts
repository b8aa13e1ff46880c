/**
 * The typed user side in the kernel: a TypeScript module loaded with its own types gives
 * ObjectMaps that decode and encode through the object's BTF and ring buffer records decoded
 * into the record interface, for events this test causes; mistakes are typed errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Typed from './typed.bpf.js';
import { load } from '../../src/load.js';
import '../../src/link/index.js';
import { CollectionMapError } from '../../src/kernel/collection.js';
import { CodecError } from '../../src/kernel/codec.js';
import { ObjectMap } from '../../src/kernel/map-object.js';
import { MapTypeError } from '../../src/kernel/map-view.js';
import { possibleCpus } from '../../src/kernel/map-cpus.js';
import { kernelTest } from '../support/kernel.js';

const SOURCE = new URL('../../../test/typed/typed.bpf.ts', import.meta.url);

/** Runs a copy of /bin/true named `comm` (so the comm is this test's alone); its pid. */
function runAs(comm: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-typed-'));
  try {
    copyFileSync('/bin/true', join(dir, comm));
    const r = spawnSync(join(dir, comm), [], { stdio: 'ignore' });
    assert.equal(r.status, 0, String(r.error));
    return r.pid!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

kernelTest('load<typeof M>(source): ring buffer records decode into the declared interface, maps into plain values, constants set', async () => {
  await using obj = await load<typeof Typed>(SOURCE, { constants: { pairA: 7 } });
  const events = obj.events('events', { signal: AbortSignal.timeout(30_000) });
  obj.attachAll();
  // At sys_enter_execve the child still has the comm of the process that forked it, so the
  // record is found by the child's pid; its comm is what the counts map was keyed by.
  const pid = runAs(`ty${process.pid % 100000}`);
  let found: Awaited<ReturnType<typeof events.next>>['value'] | undefined;
  for await (const e of events) {
    if (e.pid === pid) {
      found = e;
      break;
    }
  }
  assert.ok(found, `no record for pid ${pid}`);
  assert.equal(typeof found.pid, 'number');
  assert.equal(found.pidTgid >> 32n, BigInt(pid), 'u64 fields are bigints');
  assert.equal(typeof found.comm, 'string');
  assert.deepEqual(found.args, [1, 2, 3]);
  assert.deepEqual(found.pair, { a: 7, b: 8n });

  // The counts map: Comm keys as strings, u64 values as bigints.
  const n = obj.maps.counts.lookup(found.comm);
  assert.equal(typeof n, 'bigint');
  assert.ok(n! >= 1n);
  assert.ok([...obj.maps.counts.keys()].includes(found.comm));
  assert.equal(obj.maps.counts.lookup('no-such-comm'), undefined);
  // Per-CPU values: one bigint per possible CPU, summing to at least our exec.
  const perCpu = obj.maps.execs.lookup(0)!;
  assert.equal(perCpu.length, possibleCpus());
  assert.ok(perCpu.reduce((a, b) => a + b, 0n) >= 1n);
  // Struct values round-trip from user space.
  obj.maps.pairs.update(3, { a: 4, b: 5n });
  assert.deepEqual(obj.maps.pairs.lookup(3), { a: 4, b: 5n });
  assert.ok(obj.maps.pairs.delete(3));
  assert.ok(obj.maps.counts instanceof ObjectMap);
});

kernelTest('typed handles report mistakes as typed errors naming the map and the fix', async () => {
  await using obj = await load<typeof Typed>(SOURCE);
  const untyped = obj as unknown as { events(name: string): unknown; maps: Record<string, ObjectMap> };
  assert.throws(() => obj.maps.counts.lookup(7 as unknown as string), (e: unknown) => e instanceof CodecError && /map 'counts' key: 7 is not a string/.test(e.message));
  assert.throws(() => obj.maps.pairs.update(1, { a: 1, b: 2 as unknown as bigint }), (e: unknown) => e instanceof CodecError && /map 'pairs' value\.b/.test(e.message));
  assert.throws(() => untyped.events('nope'), (e: unknown) => e instanceof CollectionMapError && /map 'nope': no such map.*are: events/.test(e.message));
  assert.throws(() => untyped.events('counts'), MapTypeError);
});

kernelTest('tsbpf build output loads typed, with the record type named for the object file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-typed-cli-'));
  try {
    const out = join(dir, 'hello.bpf.o');
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const hello = fileURLToPath(new URL('../../../examples/ts/hello/hello.bpf.ts', import.meta.url));
    const r = spawnSync(process.execPath, [cli, 'build', hello, '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await using obj = await load<typeof import('../../examples/ts/hello/hello.bpf.js')>(out, { records: { events: 'ExecEvent' } });
    const events = obj.events('events', { signal: AbortSignal.timeout(30_000) });
    obj.attachAll();
    const pid = runAs(`cl${process.pid % 100000}`);
    let seen = false;
    for await (const e of events) if ((seen = e.pid === pid)) break;
    assert.ok(seen, `no record for pid ${pid}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
