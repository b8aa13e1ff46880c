/**
 * Interoperability (issue requirement): every kernel program of the repository written in the
 * dialect — the examples (examples/ts), testdata/compiler, the TypeScript twins of testdata/diff,
 * the CO-RE fixture of the guest kernel tests and the typed-load fixture — compiles
 * to an object that libbpf loads (`bpftool prog loadall`, every program pinned, then unpinned),
 * whose BTF bpftool reads (`bpftool btf dump file`, a FUNC for every program), and that tsbpf's
 * own loader loads. Where this kernel refuses a program kind outright (fentry, fexit and LSM
 * programs here: EPERM for root), both loaders must say so instead.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileFile } from '../../src/compiler/index.js';
import { NotSupportedError } from '../../src/errors.js';
import { Collection, probeAttach, type AttachProbe } from '../../src/kernel/index.js';
import type { ObjectSpec } from '../../src/object/index.js';
import { PermissionError } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';
import { bpftoolBtfDump, bpftoolLoadall } from './bpftool.js';

const DIRS = ['examples/ts', 'testdata/compiler', 'testdata/diff', 'testdata/guest', 'test/typed'];
const SOURCES = DIRS.flatMap((d) =>
  readdirSync(d, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bpf.ts'))
    .sort()
    .map((f) => join(d, f)),
);

/** Trampoline sections, whose loading (not only attaching) a kernel may refuse. */
const TRAMPOLINES: Record<string, AttachProbe> = { 'fentry/': 'fentry', 'fexit/': 'fexit', 'lsm/': 'lsm' };

/** Why this kernel refuses to load some program of `spec` (from the feature probes), or undefined. */
function refusedHere(spec: ObjectSpec): string | undefined {
  for (const p of spec.programs) {
    const kind = Object.entries(TRAMPOLINES).find(([prefix]) => p.section.startsWith(prefix))?.[1];
    if (!kind) continue;
    const probe = probeAttach(kind);
    if (!probe.available) return `${p.name} (${p.section}): ${probe.reason}`;
  }
  return undefined;
}

test('the interop test covers every dialect program of the repository', () => {
  for (const d of DIRS) assert.ok(SOURCES.some((s) => s.startsWith(`${d}/`)), `programs found in ${d}`);
});

for (const source of SOURCES) {
  kernelTest(`${source}: libbpf (bpftool prog loadall, pinning every program) and tsbpf's loader load it, or both report the kernel's refusal; bpftool btf dump reads its BTF`, () => {
    const { object, spec } = compileFile(source);
    const names = spec.programs.map((p) => p.name).sort();
    assert.ok(names.length > 0);

    const dump = bpftoolBtfDump(object, source);
    for (const n of names) assert.match(dump, new RegExp(`\\] FUNC '${n}' type_id=\\d+ linkage=global`), `the BTF has a global FUNC for program ${n}`);

    const lib = bpftoolLoadall(object, source);
    const refused = refusedHere(spec);
    if (refused) {
      assert.notEqual(lib.status, 0, `libbpf is refused too (${refused})`);
      assert.match(lib.log, /Operation not permitted/, 'and says why');
      assert.throws(() => Collection.load(spec), (e: unknown) => e instanceof PermissionError || e instanceof NotSupportedError, 'tsbpf refuses with a typed error');
      return;
    }
    assert.equal(lib.status, 0, `bpftool prog loadall failed:\n${lib.log}`);
    assert.deepEqual(lib.programs, names, 'every program is pinned under its name');

    const coll = Collection.load(spec);
    try {
      assert.deepEqual(Object.keys(coll.programs).sort(), names);
      assert.equal(coll.warnings.length, 0, `loader warnings: ${coll.warnings.join('; ')}`);
    } finally {
      coll.close();
    }
  });
}
