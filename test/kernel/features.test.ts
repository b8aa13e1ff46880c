// Feature probes on this machine: what loads here loads, what the machine refuses (kprobes,
// fentry/fexit/LSM) is reported unavailable with the reason, and `tsbpf feature` prints it.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { NotSupportedError } from '../../src/errors.js';
import { btfFeatures, kernelKnowsAttachType, probeAll, probeAttach, probeBtfKind, probeHelper, probeMapType, probeMisc, probeProgramType, requireFeature } from '../../src/kernel/features.js';
import { Errno, FakeKernel, useSyscalls } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';

/** The built CLI next to this test's build (dist/src/cli/main.js). */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const kprobesBuiltIn = (() => {
  try {
    return !/# CONFIG_KPROBES is not set/.test(execFileSync('sh', ['-c', 'zcat /proc/config.gz']).toString());
  } catch {
    return undefined;
  }
})();

kernelTest('program and map types that load here are available, with the reason', () => {
  for (const t of ['SOCKET_FILTER', 'XDP', 'TRACEPOINT', 'RAW_TRACEPOINT', 'TRACING', 'CGROUP_SKB', 'SCHED_CLS', 'SYSCALL', 'KPROBE'] as const) {
    const r = probeProgramType(t);
    assert.ok(r.available, `${t}: ${r.reason}`);
    assert.equal(r.category, 'program type');
  }
  for (const t of ['HASH', 'ARRAY', 'RINGBUF', 'PROG_ARRAY', 'ARRAY_OF_MAPS', 'LPM_TRIE', 'TASK_STORAGE', 'BLOOM_FILTER', 'QUEUE', 'CGROUP_STORAGE'] as const) {
    const r = probeMapType(t);
    assert.ok(r.available, `${t}: ${r.reason}`);
  }
  for (const k of ['FUNC', 'FUNC_GLOBAL', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64'] as const) assert.ok(probeBtfKind(k).available, k);
  // every kind up to ENUM64 (6.0) is there on any 6.x kernel; '?' in DATASEC names came later
  const features = btfFeatures();
  assert.deepEqual({ ...features, qmarkDatasec: true }, Object.fromEntries(Object.keys(features).map((k) => [k, true])), 'a 6.x kernel has every BTF kind');
  assert.equal(features.qmarkDatasec, probeBtfKind('QMARK_DATASEC').available);
  for (const m of ['bpf_link', 'ringbuf', 'mmapable_array', 'map_freeze', 'test_run', 'kernel_btf', 'bpf_cookie'] as const) assert.ok(probeMisc(m).available, `${m}: ${probeMisc(m).reason}`);
});

kernelTest('attach kinds: kprobe without CONFIG_KPROBES names the missing files; refused trampolines report EPERM', () => {
  const kprobe = probeAttach('kprobe');
  if (kprobesBuiltIn === false) {
    assert.equal(kprobe.available, false);
    assert.match(kprobe.reason, /\/sys\/bus\/event_source\/devices\/kprobe\/type/);
    assert.match(kprobe.reason, /CONFIG_KPROBES/);
    assert.throws(() => requireFeature(kprobe), (e: unknown) => e instanceof NotSupportedError && /kprobe/.test(e.message));
  }
  for (const kind of ['fentry', 'fexit', 'lsm'] as const) {
    const r = probeAttach(kind);
    if (r.available) continue; // a machine that allows trampolines
    assert.ok(r.errno === Errno.EPERM || r.errno === Errno.ENOTSUPP || /not in the active LSMs/.test(r.reason), `${kind}: ${r.reason}`);
    assert.ok(r.reason.length > 10);
  }
  for (const kind of ['tracepoint', 'raw_tracepoint', 'tp_btf', 'iter', 'uprobe', 'perf_event', 'cgroup', 'xdp'] as const) {
    const r = probeAttach(kind);
    assert.ok(r.available, `${kind}: ${r.reason}`);
  }
  // tcx and uprobe.multi came with 6.6: the probes agree with the attach types the kernel's BTF lists
  assert.equal(probeAttach('tcx').available, kernelKnowsAttachType('TCX_INGRESS'), `tcx (6.6+): ${probeAttach('tcx').reason}`);
  assert.equal(probeAttach('uprobe.multi').available, kernelKnowsAttachType('TRACE_UPROBE_MULTI'), `uprobe.multi (6.6+): ${probeAttach('uprobe.multi').reason}`);
});

kernelTest('helpers: known ones are available per program type, ones a type may not call are not', () => {
  assert.ok(probeHelper('TRACEPOINT', 'bpf_get_current_pid_tgid').available);
  assert.ok(probeHelper('XDP', 'bpf_redirect').available);
  const r = probeHelper('SOCKET_FILTER', 'bpf_override_return');
  assert.equal(r.available, false);
  assert.match(r.reason, /cannot use helper|unknown func|invalid func/);
  assert.equal(probeHelper('XDP', 'bpf_no_such_helper').available, false);
});

kernelTest('probeAll covers every category and is cached', () => {
  const t0 = Date.now();
  const all = probeAll();
  const categories = new Set(all.map((r) => r.category));
  assert.deepEqual([...categories].sort(), ['attach', 'btf', 'map type', 'misc', 'program type']);
  assert.ok(all.every((r) => r.reason.length > 0));
  const first = Date.now() - t0;
  const t1 = Date.now();
  probeAll();
  assert.ok(Date.now() - t1 <= Math.max(first, 50), 'second run from the cache');
});

kernelTest('tsbpf feature: a table with reasons, and --json', () => {
  const text = execFileSync('node', [CLI, 'feature']).toString();
  assert.match(text, /^CATEGORY\s+FEATURE\s+AVAILABLE\s+REASON/);
  assert.match(text, /program type\s+XDP\s+yes/);
  const json = JSON.parse(execFileSync('node', [CLI, 'feature', '--json', '--helpers', 'xdp']).toString()) as Array<{ name: string; category: string; available: boolean; reason: string }>;
  assert.ok(json.some((r) => r.category === 'helper' && r.name === 'bpf_xdp_adjust_head (XDP)' && r.available));
  const kp = json.find((r) => r.category === 'attach' && r.name === 'kprobe')!;
  if (kprobesBuiltIn === false) assert.equal(kp.available, false);
});

test('probes run against the fake kernel without touching the real one, cached per backend', () => {
  const fake = new FakeKernel();
  const restore = useSyscalls(fake);
  try {
    assert.equal(probeMapType('HASH').available, true);
    const n = fake.calls.length;
    assert.ok(n > 0);
    probeMapType('HASH');
    assert.equal(fake.calls.length, n, 'cached');
  } finally {
    restore();
  }
});
