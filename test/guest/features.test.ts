// Feature probes on the 6.1 guest: what the host refuses is available here (kprobes, fentry,
// fexit, LSM), what 6.1 is too old for is unavailable with a reason (tcx, uprobe.multi, '?' in
// DATASEC names), and the skips of the kernel-layer suite are worded from these probes.
import assert from 'node:assert/strict';
import { probeAttach, probeBtfKind, probeMisc, probeProgramType } from '../../src/kernel/index.js';
import { kprobeMechanism } from '../../src/link/index.js';
import { missingFeature, PERF_LINK_INFO, RINGBUF_RECORD_KEY, TASK_KFUNCS, TCX, UPROBE_MULTI } from '../support/features.js';
import { guestTest } from './support.js';

guestTest('probes: kprobes (PMU and kprobe_events), fentry, fexit, LSM and tp_btf are available on 6.1', () => {
  for (const kind of ['kprobe', 'uprobe', 'fentry', 'fexit', 'lsm', 'tp_btf', 'iter', 'tracepoint', 'raw_tracepoint', 'perf_event', 'cgroup', 'xdp'] as const) {
    const r = probeAttach(kind);
    assert.equal(r.available, true, `${kind}: ${r.reason}`);
  }
  assert.match(probeAttach('kprobe').reason, /\/sys\/bus\/event_source\/devices\/kprobe\/type exists/);
  assert.deepEqual(Object.keys(kprobeMechanism()), ['pmu']);
  for (const t of ['KPROBE', 'TRACING', 'LSM', 'SYSCALL'] as const) assert.equal(probeProgramType(t).available, true, t);
  for (const m of ['bpf_link', 'ringbuf', 'bpf_cookie', 'kernel_btf', 'syscall_wrapper'] as const) assert.equal(probeMisc(m).available, true, `${m}: ${probeMisc(m).reason}`);
});

guestTest('probes: what 6.1 lacks is unavailable, with the reason', () => {
  const tcx = probeAttach('tcx');
  assert.equal(tcx.available, false);
  assert.match(tcx.reason, /EINVAL.*tcx needs 6\.6/);
  const um = probeAttach('uprobe.multi');
  assert.equal(um.available, false, um.reason);
  assert.match(um.reason, /6\.6/);
  const qmark = probeBtfKind('QMARK_DATASEC');
  assert.equal(qmark.available, false, 'DATASEC names starting with ? came after 6.1');
  for (const k of ['FUNC', 'FUNC_GLOBAL', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64'] as const) assert.equal(probeBtfKind(k).available, true, k);
});

guestTest('the kernel-layer suite skips name the feature, the release and the probe', () => {
  assert.equal(missingFeature([TCX]), 'tcx needs Linux 6.6 (feature probe: attach tcx unavailable)');
  assert.equal(missingFeature([UPROBE_MULTI]), 'uprobe.multi needs Linux 6.6 (feature probe: attach uprobe.multi unavailable)');
  assert.equal(missingFeature([PERF_LINK_INFO]), 'perf_event link info needs Linux 6.6 (feature probe: btf bpf_link_info.perf_event unavailable)');
  assert.equal(missingFeature([TASK_KFUNCS]), 'the kfunc bpf_task_acquire needs Linux 6.2 (feature probe: btf kfunc bpf_task_acquire unavailable)');
  assert.equal(missingFeature([RINGBUF_RECORD_KEY]), 'a ring buffer record as a map key needs Linux 6.2 (feature probe: misc ring buffer records as map keys unavailable)');
  assert.match(RINGBUF_RECORD_KEY.probe().reason, /alloc_mem/);
});
