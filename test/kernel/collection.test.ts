// Collections in the kernel: every clang-built object in testdata loads (or fails for the reason
// this kernel gives), maps and programs are what the object says (checked with the kernel's
// info and with bpftool), verifier rejections name the C line, and nothing is left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Collection } from '../../src/kernel/collection.js';
import { mapInfoBasics } from '../../src/kernel/map-info.js';
import { objectIds } from '../../src/kernel/obj-info.js';
import { VerifierError } from '../../src/kernel/program.js';
import { load, weakExternsOf } from '../../src/load.js';
import { readObject } from '../../src/object/index.js';
import { NotSupportedError } from '../../src/errors.js';
import { KsymError } from '../../src/kernel/ksym.js';
import { openFds, PermissionError } from '../../src/sys/index.js';
import { probeAttach } from '../../src/kernel/features.js';
import { MapType } from '../../src/uapi/enums.js';
import { CPU_V4, has, missingFeature, RINGBUF_RECORD_KEY, TASK_KFUNCS, type KernelFeature } from '../support/features.js';
import { cycles, kernelTest } from '../support/kernel.js';

const PIN = `/sys/fs/bpf/tsbpf-coll-${process.pid}`;

/** What loading each object does on this kernel; anything not listed must load. */
const EXPECTED_FAILURES: Record<string, (e: unknown) => boolean> = {
  // big-endian builds (bpfeb, types-be) cannot load on a little-endian host
  bpfeb: (e) => e instanceof NotSupportedError && /big-endian/.test(e.message),
  // a strong kconfig extern no kernel sets
  'kconfig_strong.bpf.o': (e) => e instanceof Error && /CONFIG_TSBPF_DOES_NOT_EXIST/.test(e.message),
  // the deliberate out-of-bounds read
  'verifier.bpf.o': (e) => e instanceof VerifierError,
  // testdata/btf/core*.o assume a task_struct with a 3-bit `flags` bitfield: the relocation is
  // poisoned (as libbpf does) and the verifier reports where
  'core.o': (e) => e instanceof VerifierError && /CO-RE relocation/.test(e.message),
  'core-clang14.o': (e) => e instanceof VerifierError && /CO-RE relocation/.test(e.message),
  // testdata/btf/types*.o (a BTF fixture) dereference a global function's pointer argument
  // without a NULL check; libbpf's load (bpftool prog loadall) fails the same way
  'types.o': (e) => e instanceof VerifierError && /mem_or_null/.test(e.reason) && e.source?.line !== undefined,
  'types-clang14.o': (e) => e instanceof VerifierError && /mem_or_null/.test(e.reason),
  // fentry/fexit/LSM where the kernel refuses trampolines (see the test below; 6.1 loads them)
  'trampoline.bpf.o': (e) => e instanceof PermissionError && /TRACING\/TRACE_FENTRY|TRACING\/TRACE_FEXIT|LSM\/LSM_MAC/.test(e.message),
};

/** Objects only newer kernels accept: the feature that decides, and how the load fails without it. */
const NEEDS: Record<string, { feature: KernelFeature; refusal: (e: unknown) => boolean }> = {
  // bpf_map_lookup_elem(&counts, e->comm) with e a ring buffer record
  'maps_globals.bpf.o': { feature: RINGBUF_RECORD_KEY, refusal: verifierSays(/type=alloc_mem expected=/) },
  'maps_globals.v4.bpf.o': { feature: RINGBUF_RECORD_KEY, refusal: verifierSays(/type=alloc_mem expected=/) },
  // sign-extending loads and moves, bswap, signed division (-mcpu=v4)
  'v4.bpf.o': { feature: CPU_V4, refusal: verifierSays(/reserved fields|invalid BPF_ALU opcode|unknown opcode/) },
  // a strong extern for the kfunc bpf_task_acquire
  'ksym.bpf.o': { feature: TASK_KFUNCS, refusal: (e) => e instanceof KsymError && /bpf_task_acquire/.test(e.message) },
};

/** Whether this kernel refuses the trampoline programs of trampoline.bpf.o (EPERM on the host). */
function trampolinesRefused(): boolean {
  return !probeAttach('fentry').available || !probeAttach('lsm').available;
}

function verifierSays(reason: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof VerifierError && reason.test(e.reason);
}

function objects(): string[] {
  const out: string[] = [];
  for (const dir of ['testdata/objdump', 'testdata/object', 'testdata/btf', 'testdata/loader', 'testdata/elf']) {
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.o') || f === 'tiny.o') continue;
      const bytes = readFileSync(`${dir}/${f}`);
      if (bytes[18] !== 247 && bytes[19] !== 247) continue; // EM_BPF (either byte order)
      out.push(`${dir}/${f}`);
    }
  }
  return out;
}

kernelTest('every clang-built object in testdata loads, or fails for the reason this kernel gives', async (t) => {
  t.after(() => rmSync(PIN, { recursive: true, force: true }));
  const before = openFds();
  for (const path of objects()) {
    const name = path.split('/').pop()!;
    const bigEndian = readFileSync(path)[5] === 2; // EI_DATA = ELFDATA2MSB
    const needs = NEEDS[name];
    const tooOld = needs && !has(needs.feature) ? needs.refusal : undefined;
    const expectedFailure = name === 'trampoline.bpf.o' && !trampolinesRefused() ? undefined : EXPECTED_FAILURES[name];
    const expect = bigEndian ? EXPECTED_FAILURES.bpfeb : (expectedFailure ?? tooOld);
    try {
      const coll = await load(path, { pinPath: PIN });
      try {
        assert.equal(expect, undefined, `${path} loaded, but was expected to fail`);
        const spec = coll.spec;
        assert.deepEqual(Object.keys(coll.programs).sort(), spec.programs.map((p) => p.name).sort(), path);
        for (const p of Object.values(coll.programs)) assert.ok(p.info().id > 0);
        for (const m of spec.maps) assert.ok(coll.maps[m.name], `${path}: map ${m.name}`);
      } finally {
        coll.close();
        coll.unpinMaps();
      }
      t.diagnostic(`${path}: loaded`);
    } catch (e) {
      if (name === 'features.bpf.o' && e instanceof VerifierError && /bpf_prog_active/.test(e.log)) {
        // A typed ksym of a per-CPU variable needs its address in kallsyms (CONFIG_KALLSYMS_ALL),
        // which this kernel lacks; the rest of the object is checked in collection-maps.test.ts.
        t.diagnostic(`${path}: the kernel cannot resolve bpf_prog_active here (${e.reason})`);
        continue;
      }
      if (!expect || !expect(e)) throw e;
      t.diagnostic(`${path}: failed as expected: ${(e as Error).message.split('\n')[0]}${expect === tooOld ? ` (${missingFeature([needs!.feature])})` : ''}`);
    }
  }
  assert.equal(openFds(), before, 'every fd closed');
});

kernelTest('maps have the types, sizes, flags and names the object declares (kernel info and bpftool agree)', async () => {
  await using coll = await load('testdata/objdump/maps_globals.bpf.o');
  const info = (name: string) => mapInfoBasics(coll.maps[name]!.fd.value);
  const events = info('events');
  assert.equal(events.type, MapType.RINGBUF);
  assert.equal(events.maxEntries, 1 << 16);
  const counts = info('counts');
  assert.deepEqual([counts.type, counts.keySize, counts.valueSize, counts.maxEntries], [MapType.HASH, 16, 8, 10240]);
  assert.ok(counts.btfId > 0, 'created with BTF');
  const scratch = info('scratch');
  assert.equal(scratch.type, MapType.PERCPU_ARRAY);
  const rodata = info('.rodata');
  const spec = coll.spec.maps.find((m) => m.name === '.rodata')!;
  assert.deepEqual([rodata.type, rodata.keySize, rodata.valueSize, rodata.maxEntries, rodata.flags], [MapType.ARRAY, 4, spec.valueSize, 1, (1 << 7) | (1 << 10)]);
  assert.equal(rodata.name, 'maps_glo.rodata', "libbpf's name: object prefix + section, 15 characters");
  assert.match(readFileSync(`/proc/self/fdinfo/${coll.maps['.rodata']!.fd.value}`, 'latin1'), /frozen:\s*1/);

  const bpftool = (args: string[]): unknown => JSON.parse(execFileSync('bpftool', ['-j', ...args]).toString());
  for (const [name, map] of Object.entries(coll.maps)) {
    const shown = bpftool(['map', 'show', 'id', String(mapInfoBasics(map.fd.value).id)]) as { name: string; type: string; bytes_key: number; bytes_value: number; max_entries: number };
    assert.equal(shown.name, mapInfoBasics(map.fd.value).name, name);
    assert.equal(shown.max_entries, mapInfoBasics(map.fd.value).maxEntries, name);
  }
  assert.equal((bpftool(['map', 'show', 'id', String(counts.id)]) as { type: string }).type, 'hash');
  const prog = coll.programs.on_exec!;
  const shown = bpftool(['prog', 'show', 'id', String(prog.info().id)]) as { name: string; type: string; map_ids: number[]; btf_id: number };
  assert.equal(shown.name, 'on_exec');
  assert.equal(shown.type, 'tracepoint');
  assert.deepEqual([...shown.map_ids].sort(), [...prog.info().mapIds].sort());
  assert.ok(shown.btf_id > 0, 'loaded with the object BTF');
}, { requires: [RINGBUF_RECORD_KEY] });

kernelTest('a verifier rejection names the C source line from line_info', async () => {
  const source = readFileSync('testdata/loader/verifier.bpf.c', 'utf8').split('\n');
  const line = source.findIndex((l) => l.includes('OUT OF BOUNDS')) + 1;
  try {
    await load('testdata/loader/verifier.bpf.o');
    assert.fail('the verifier accepted an out-of-bounds read');
  } catch (e) {
    assert.ok(e instanceof VerifierError, String(e));
    assert.equal(e.program, 'out_of_bounds');
    assert.ok(e.source, 'has a source line');
    assert.equal(e.source.line, line);
    assert.match(e.source.fileName, /verifier\.bpf\.c$/);
    assert.match(e.source.lineText, /v\[5\]/);
    assert.match(e.message, new RegExp(`verifier\\.bpf\\.c:${line}`));
    assert.match(e.log, /value_size=32|outside of the allowed memory range/);
  }
});

/** Waits until none of `ids` is listed any more (the kernel frees maps and programs after RCU). */
async function gone(kind: 'PROG' | 'MAP' | 'BTF', ids: number[]): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const live = new Set(objectIds(kind));
    const left = ids.filter((id) => live.has(id));
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 20));
  }
  const live = new Set(objectIds(kind));
  return ids.filter((id) => live.has(id));
}

kernelTest('closing a collection leaves no program, map or BTF object behind', async () => {
  const coll = await load('testdata/loader/mim.bpf.o');
  const progIds = Object.values(coll.programs).map((p) => p.info().id);
  const mapIds = Object.values(coll.maps).map((m) => mapInfoBasics(m.fd.value).id);
  const btfId = coll.programs.read_inner!.info().btfId;
  assert.ok(progIds.every((id) => objectIds('PROG').includes(id)));
  coll.close();
  assert.deepEqual(await gone('PROG', progIds), []);
  assert.deepEqual(await gone('MAP', mapIds), []);
  assert.deepEqual(await gone('BTF', [btfId]), []);
});

function procFds(): number {
  return readdirSync('/proc/self/fd').length;
}

kernelTest(`${cycles(1000)} loads and unloads leave the process fd count unchanged`, async () => {
  const bytes = readFileSync('testdata/loader/globals.bpf.o');
  const spec = readObject(bytes);
  const weak = weakExternsOf(bytes);
  const warm = Collection.load(spec, { weakExterns: weak });
  warm.variables.hits!.get(); // maps the .bss once, so the mmap path is part of the loop too
  warm.close();
  const fds = procFds();
  for (let i = 0; i < cycles(1000); i++) {
    using coll = Collection.load(spec, { weakExterns: weak, objectName: 'loop' });
    if (i % 20 === 0) assert.equal(coll.variables.hits!.get(), 0n);
  }
  assert.equal(procFds(), fds);
}, { timeout: 300_000 });

kernelTest('fentry, fexit and LSM programs the kernel refuses fail with a PermissionError naming the kind; an iterator loads', async (t) => {
  const kinds = [
    ['on_unlink', 'fentry', 'TRACING/TRACE_FENTRY'],
    ['after_unlink', 'fexit', 'TRACING/TRACE_FEXIT'],
    ['check_open', 'lsm', 'LSM/LSM_MAC'],
  ] as const;
  for (const [name, kind, label] of kinds) {
    const probe = probeAttach(kind);
    try {
      const c = await load('testdata/loader/trampoline.bpf.o', { programs: [name] });
      c.close();
      assert.ok(probe.available || /active LSMs/.test(probe.reason), `${name} loaded although the probe said: ${probe.reason}`);
      t.diagnostic(`${kind}: this kernel loads it`);
    } catch (e) {
      assert.ok(e instanceof PermissionError, String(e));
      assert.match(e.message, new RegExp(label.replace('/', '\\/')));
      assert.match(e.message, /refuses/);
      assert.equal(probe.available, false, 'the feature probe agrees');
    }
  }
  await using iter = await load('testdata/loader/trampoline.bpf.o', { programs: ['each_task'] });
  assert.equal(iter.programs.each_task!.info().type, 'TRACING');
});
