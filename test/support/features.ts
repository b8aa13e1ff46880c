/**
 * Kernel features tests depend on, each with the release that brought it and a probe deciding
 * whether the running kernel has it. A kernel test that needs one names it in
 * `kernelTest(..., { requires: [...] })` and skips on kernels without it, saying which feature
 * and which probe: "tcx needs Linux 6.6 (feature probe: attach tcx unavailable)". On this
 * project's own machines (6.18) every feature is there, so these skips never happen there (and
 * .ci/run fails if they do); on older kernels (the 6.1 guest, scripts/guest) they are the
 * genuine differences. Probes come from src/kernel/features.ts where it has one; the others
 * look at the kernel's BTF or ask the verifier, the way features.ts does.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ProgramBuilder, R0, R1, R2, R3, R6, reg } from '../../src/asm/index.js';
import { BtfKind, findMember } from '../../src/btf/index.js';
import { BpfMap, Program, probeAttach, type FeatureResult } from '../../src/kernel/index.js';
import { kernelBtf } from '../../src/kernel/vmlinux.js';
import { FuncId } from '../../src/uapi/enums.js';

/** A kernel feature: what it is, since when, and how to find out. */
export interface KernelFeature {
  /** What the test needs, e.g. 'tcx', 'uprobe.multi'. */
  name: string;
  /** The first release that has it, e.g. '6.6'. */
  since: string;
  /** Decides (and caches nothing itself: the probes cache). */
  probe: () => FeatureResult;
}

/** Why a test needing `features` cannot run here, or undefined when the kernel has them all. */
export function missingFeature(features: readonly KernelFeature[]): string | undefined {
  for (const f of features) {
    const r = f.probe();
    if (!r.available) return `${f.name} needs Linux ${f.since} (feature probe: ${r.category} ${r.name} unavailable)`;
  }
  return undefined;
}

/** Whether the kernel has `feature` (a probe that throws counts as "no"). */
export function has(feature: KernelFeature): boolean {
  try {
    return feature.probe().available;
  } catch {
    return false;
  }
}

const memo = new Map<string, FeatureResult>();
function once(key: string, probe: () => FeatureResult): FeatureResult {
  let r = memo.get(key);
  if (!r) memo.set(key, (r = probe()));
  return r;
}

/** A member of a kernel struct, from the kernel's BTF: the probe for "struct S has field F". */
function btfMember(struct: string, member: string, what: string): FeatureResult {
  return once(`btf:${struct}.${member}`, () => {
    const btf = kernelBtf();
    const s = btf.typeByName(struct, BtfKind.STRUCT) ?? btf.typeByName(struct, BtfKind.UNION);
    const found = s !== undefined && findMember(btf, s.id, member) !== undefined;
    return { name: what, category: 'btf', available: found, reason: found ? `${struct} has ${member} in the kernel BTF` : `no ${struct}.${member} in /sys/kernel/btf/vmlinux` };
  });
}

/** A kfunc in the kernel's BTF. */
function kfunc(name: string): FeatureResult {
  return once(`kfunc:${name}`, () => {
    const btf = kernelBtf();
    const found = btf.idsByName(name).some((id) => btf.kindOf(id) === BtfKind.FUNC);
    return { name: `kfunc ${name}`, category: 'btf', available: found, reason: found ? `${name} is a FUNC in the kernel BTF` : `no FUNC ${name} in /sys/kernel/btf/vmlinux` };
  });
}

/**
 * Whether the verifier lets a program pass a ring buffer record (bpf_ringbuf_reserve's memory)
 * as the key of bpf_map_lookup_elem. Older verifiers accept only the stack, packets and map
 * values there ("R2 type=alloc_mem expected=fp, pkt, pkt_meta, map_key, map_value").
 */
function ringbufRecordAsKey(): FeatureResult {
  return once('verifier:ringbuf-key', () => {
    const name = 'ring buffer records as map keys';
    const ring = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 4096, name: 'probe_ring' });
    const hash = BpfMap.create({ type: 'HASH', keySize: 16, valueSize: 8, maxEntries: 1, name: 'probe_hash' });
    try {
      const b = new ProgramBuilder()
        .ldMap(R1, 'ring')
        .mov(R2, 16)
        .mov(R3, 0)
        .call(FuncId.ringbuf_reserve)
        .jump('jeq', R0, 0, 'out')
        .mov(R6, reg(R0))
        .ldMap(R1, 'hash')
        .mov(R2, reg(R6))
        .call(FuncId.map_lookup_elem)
        .mov(R1, reg(R6))
        .mov(R2, 0)
        .call(FuncId.ringbuf_discard)
        .label('out')
        .mov(R0, 0)
        .exit();
      const built = b.build();
      const insns = built.instructions.map((i) => ({ ...i }));
      for (const ref of built.references) insns[ref.index]!.imm = (ref.symbol === 'ring' ? ring : hash).fd.value;
      try {
        Program.load({ type: 'TRACEPOINT', license: 'GPL', name: 'probe_rb_key', instructions: insns }).close();
        return { name, category: 'misc', available: true, reason: 'a program looking up a ring buffer record as a key loads' };
      } catch (e) {
        return { name, category: 'misc', available: false, reason: `the verifier refuses it: ${(e as Error).message.split('\n')[0]}` };
      }
    } finally {
      ring.close();
      hash.close();
    }
  });
}

/**
 * Whether the verifier knows the cpu v4 instructions (sign-extending moves and loads, bswap,
 * signed division, gotol): a socket filter doing `r0 = (s8)r1`. Older verifiers call the
 * encoding invalid ("BPF_LDX uses reserved fields", "invalid BPF_ALU opcode").
 */
function cpuV4(): FeatureResult {
  return once('verifier:cpu-v4', () => {
    const name = 'cpu v4 instructions';
    const insns = new ProgramBuilder().mov(R1, 0).movsx(R0, R1, 8).exit().build().instructions;
    try {
      Program.load({ type: 'SOCKET_FILTER', license: 'GPL', name: 'probe_cpu_v4', instructions: insns }).close();
      return { name, category: 'misc', available: true, reason: 'a program with a sign-extending move loads' };
    } catch (e) {
      return { name, category: 'misc', available: false, reason: `the verifier refuses it: ${(e as Error).message.split('\n')[0]}` };
    }
  });
}

/** tcx links: BPF_LINK_CREATE with BPF_TCX_INGRESS/EGRESS. */
export const TCX: KernelFeature = { name: 'tcx', since: '6.6', probe: () => probeAttach('tcx') };
/** uprobe.multi links (BPF_TRACE_UPROBE_MULTI). */
export const UPROBE_MULTI: KernelFeature = { name: 'uprobe.multi', since: '6.6', probe: () => probeAttach('uprobe.multi') };
/** Link info of perf-event links says what they attach to (bpf_link_info.perf_event). */
export const PERF_LINK_INFO: KernelFeature = { name: 'perf_event link info', since: '6.6', probe: () => btfMember('bpf_link_info', 'perf_event', 'bpf_link_info.perf_event') };
/** The task kfuncs (bpf_task_acquire, bpf_task_release). */
export const TASK_KFUNCS: KernelFeature = { name: 'the kfunc bpf_task_acquire', since: '6.2', probe: () => kfunc('bpf_task_acquire') };
/** The verifier accepting ring buffer records as map keys. */
export const RINGBUF_RECORD_KEY: KernelFeature = { name: 'a ring buffer record as a map key', since: '6.2', probe: ringbufRecordAsKey };
/** The verifier accepting cpu v4 instructions (clang -mcpu=v4). */
export const CPU_V4: KernelFeature = { name: 'cpu v4 instructions', since: '6.6', probe: cpuV4 };

/**
 * Checks the perf-event part of a link's info (what it is attached to) where the kernel reports
 * it (6.6+, {@link PERF_LINK_INFO}); an older kernel leaves it empty ('unspec'), which is checked
 * instead, and the test says what it could not check.
 */
export function expectPerfLinkInfo(t: TestContext, info: object, expected: Readonly<Record<string, unknown>>): void {
  const actual = info as Record<string, unknown>;
  if (has(PERF_LINK_INFO)) {
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(actual[k], v, k);
    return;
  }
  assert.equal(actual.perfEvent, 'unspec', 'a kernel without bpf_link_info.perf_event reports no details');
  t.diagnostic(`link info ${Object.keys(expected).join(', ')} not checked: ${missingFeature([PERF_LINK_INFO])}`);
}
