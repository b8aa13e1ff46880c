/**
 * Feature probes: what the running kernel supports, found by trying it — loading a minimal
 * program of a type, creating a minimal map, loading BTF with one kind, calling a helper —
 * the way libbpf (libbpf_probe_bpf_*) and cilium/ebpf (features/) do, plus checks of the files
 * attach kinds depend on (kprobe PMU, tracefs, cgroup v2, the LSM list). Every result says why
 * it is what it is: the errno the kernel returned, the verifier's words, or the missing file.
 * Results are cached per process (and per system-call backend, so fakes do not leak into real
 * results).
 */
import { existsSync, readFileSync } from 'node:fs';
import { encode } from '../asm/codec.js';
import type { Instruction } from '../asm/instruction.js';
import { BtfBuilder, BtfFuncLinkage, BtfKind, BtfVarLinkage, type BtfType } from '../btf/index.js';
import { cString } from '../bytes/reader.js';
import { NotSupportedError } from '../errors.js';
import { bpf, bpfAttr, Errno, errnoName, newAttr, newPerfAttr, perfEventOpen, syscalls, type Syscalls } from '../sys/index.js';
import { AttachType, MapType, PerfSwId, PerfType, ProgType } from '../uapi/enums.js';
import { helperByName, helperById } from '../uapi/index.js';
import type { BtfFeatures } from './btf-fixup.js';
import type { AttachTypeName, ProgTypeName } from './program.js';
import { kallsymsAddress } from './ksym.js';
import { kernelBtf } from './vmlinux.js';

/** One probe's answer. */
export interface FeatureResult {
  /** What was probed, e.g. 'XDP', 'RINGBUF', 'bpf_get_attach_cookie', 'kprobe', 'ENUM64'. */
  name: string;
  category: 'program type' | 'map type' | 'helper' | 'attach' | 'btf' | 'misc';
  available: boolean;
  /** Why: what worked, the errno and the kernel's message, or the file that is missing. */
  reason: string;
  /** The errno the deciding call returned, if one did. */
  errno?: number;
}

/**
 * Throws a NotSupportedError carrying the probe's reason unless the feature is available.
 *
 * @example
 * requireFeature(probeMapType('RINGBUF')); // NotSupportedError before 5.8
 */
export function requireFeature(result: FeatureResult): void {
  if (!result.available) throw new NotSupportedError(`${result.category} ${result.name}`, result.reason);
}

const caches = new WeakMap<Syscalls, Map<string, FeatureResult>>();

function cached(key: string, probe: () => FeatureResult): FeatureResult {
  const sys = syscalls();
  let cache = caches.get(sys);
  if (!cache) caches.set(sys, (cache = new Map()));
  let r = cache.get(key);
  if (!r) {
    r = probe();
    cache.set(key, r);
  }
  return r;
}

const closeFd = (fd: number): void => void syscalls().close(fd);

/** BPF_F_SLEEPABLE (include/uapi/linux/bpf.h). */
const F_SLEEPABLE = 1 << 4;

const RET0: Instruction[] = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, // r0 = 0
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, // exit
];

/** The outcome of one BPF_PROG_LOAD attempt (the fd is closed already). */
interface LoadAttempt {
  ok: boolean;
  errno: number;
  log: string;
}

interface LoadSpec {
  type: ProgTypeName;
  attachType?: AttachTypeName;
  attachBtfId?: number;
  attachProgFd?: number;
  insns?: Instruction[];
  license?: string;
  /** BPF_F_* program flags (SYSCALL programs must be sleepable). */
  flags?: number;
  /** Load with a verifier log (helper probes read it). */
  withLog?: boolean;
}

function tryLoad(s: LoadSpec): LoadAttempt {
  const insns = encode(s.insns ?? RET0);
  const attr = newAttr('PROG_LOAD').assign({
    prog_type: ProgType[s.type],
    insns,
    insn_cnt: insns.byteLength / 8,
    license: s.license ?? 'GPL',
    expected_attach_type: s.attachType ? AttachType[s.attachType] : undefined,
    attach_btf_id: s.attachBtfId,
    attach_prog_fd: s.attachProgFd,
    prog_flags: s.flags,
    // Old kernels check kprobe programs against LINUX_VERSION_CODE.
    kern_version: s.type === 'KPROBE' ? kernelVersionNow() : undefined,
  });
  const log = s.withLog ? new Uint8Array(16 * 1024) : undefined;
  if (log) attr.assign({ log_buf: log, log_size: log.byteLength, log_level: 1 });
  const { ret } = bpfAttr('PROG_LOAD', attr, { allow: 'all', subject: `probe ${s.type}` });
  if (ret >= 0) {
    closeFd(ret);
    return { ok: true, errno: 0, log: '' };
  }
  let text = '';
  if (log) {
    text = cString(log);
  } else if (-ret !== Errno.EPERM) {
    // Load again with a log, only to explain the failure.
    return { ...tryLoad({ ...s, withLog: true }), errno: -ret };
  }
  return { ok: false, errno: -ret, log: text };
}

function kernelVersionNow(): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(process.platform === 'linux' ? readOsRelease() : '');
  return m ? (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255) : 0;
}

function readOsRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'latin1').trim();
  } catch {
    return '';
  }
}

/** The last meaningful line of a verifier log. */
function lastLogLine(log: string): string {
  const lines = log
    .trimEnd()
    .split('\n')
    .filter((l) => l && !/^(processed \d+ insns|verification time|stack depth)/.test(l));
  return lines[lines.length - 1]?.trim() ?? '';
}

function failure(errno: number, log: string, what: string): string {
  const why =
    errno === Errno.EPERM || errno === Errno.EACCES
      ? process.geteuid?.() === 0
        ? 'the kernel refuses it even for root (security policy, lockdown or missing kernel support)'
        : 'needs root or CAP_BPF (+ CAP_PERFMON / CAP_NET_ADMIN)'
      : errno === Errno.EINVAL && !log
        ? `the kernel does not know ${what} (too old, or built without it)`
        : errno === Errno.ENOTSUPP || errno === Errno.EOPNOTSUPP
          ? `the kernel does not support ${what}`
          : '';
  const said = lastLogLine(log);
  return `${errnoName(errno)}${why ? `: ${why}` : ''}${said ? ` (verifier: "${said}")` : ''}`;
}

/** BTF ids in vmlinux the probes attach to; undefined when the kernel has no BTF. */
function vmlinuxId(name: string, kind: number): number | undefined {
  try {
    const btf = kernelBtf();
    return btf.idsByName(name).find((i) => btf.kindOf(i) === kind);
  } catch {
    return undefined;
  }
}

/**
 * Whether the running kernel knows attach type BPF_`name`, from the enumerators of its BTF's
 * enum bpf_attach_type; undefined when there is no kernel BTF to tell. BPF_LINK_CREATE answers
 * EINVAL both for an attach type the kernel is too old for and for a bad argument, and some
 * program types load with any expected attach type: this tells them apart.
 *
 * @example
 * kernelKnowsAttachType('TCX_INGRESS'); // false before 6.6
 */
export function kernelKnowsAttachType(name: string): boolean | undefined {
  try {
    const found = kernelBtf().typeByName('bpf_attach_type', BtfKind.ENUM);
    if (!found || found.type.kind !== BtfKind.ENUM) return undefined;
    return found.type.values.some((v) => v.name === `BPF_${name}`);
  } catch {
    return undefined;
  }
}

/** How a minimal program of each type is loaded: expected attach type and attach target. */
function loadSpecFor(type: ProgTypeName): LoadSpec | string {
  switch (type) {
    case 'CGROUP_SOCK_ADDR':
      return { type, attachType: 'CGROUP_INET4_CONNECT', insns: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, RET0[1]!] };
    case 'CGROUP_SOCKOPT':
      return { type, attachType: 'CGROUP_GETSOCKOPT', insns: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, RET0[1]!] };
    case 'SK_LOOKUP':
      return { type, attachType: 'SK_LOOKUP' };
    case 'NETFILTER':
      return { type, attachType: 'NETFILTER' };
    case 'TRACING': {
      const id = vmlinuxId('btf_trace_sys_enter', BtfKind.TYPEDEF) ?? vmlinuxId('btf_trace_sched_switch', BtfKind.TYPEDEF);
      return id === undefined ? 'needs the kernel BTF (/sys/kernel/btf/vmlinux) to name an attach target' : { type, attachType: 'TRACE_RAW_TP', attachBtfId: id };
    }
    case 'LSM': {
      const id = vmlinuxId('bpf_lsm_file_open', BtfKind.FUNC);
      return id === undefined ? 'no bpf_lsm_file_open in the kernel BTF (CONFIG_BPF_LSM off)' : { type, attachType: 'LSM_MAC', attachBtfId: id };
    }
    case 'SYSCALL':
      return { type, flags: F_SLEEPABLE };
    case 'EXT':
      return 'an extension needs a target program with BTF; not probed';
    case 'STRUCT_OPS':
      return 'needs a struct_ops map type; not probed by loading';
    default:
      return { type };
  }
}

/**
 * Whether programs of `type` load here (kernel-dependent; e.g. TRACING 5.5, LSM 5.7, SYSCALL
 * 5.14, NETFILTER 6.4).
 *
 * @example
 * probeProgramType('XDP').available; // true
 */
export function probeProgramType(type: ProgTypeName): FeatureResult {
  return cached(`prog:${type}`, () => {
    const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name: type, category: 'program type', available, reason, ...(errno ? { errno } : {}) });
    if (type === 'UNSPEC') return r(false, 'not a program type');
    if (type === 'EXT' || type === 'STRUCT_OPS') {
      // Both need attach targets a probe cannot make cheaply (a program with BTF, a struct_ops
      // type). With a bogus target, a known type fails verification with a message; an unknown
      // one fails with EINVAL and no message.
      const target = type === 'EXT' ? tryTarget() : undefined;
      try {
        const a = tryLoad({ type, attachBtfId: 1, attachProgFd: target, withLog: true });
        if (a.ok) return r(true, 'a minimal program loads');
        if (a.errno === Errno.EPERM || a.errno === Errno.EACCES || !a.log) return r(false, failure(a.errno, a.log, `BPF_PROG_TYPE_${type}`), a.errno);
        return r(true, `the kernel knows the type: it checked the probe's bogus attach target ("${lastLogLine(a.log)}")`, a.errno);
      } finally {
        if (target !== undefined) closeFd(target);
      }
    }
    const spec = loadSpecFor(type);
    if (typeof spec === 'string') return r(false, spec);
    const a = tryLoad(spec);
    if (a.ok) return r(true, 'a minimal program loads');
    return r(false, failure(a.errno, a.log, `BPF_PROG_TYPE_${type}`), a.errno);
  });
}

/** A loaded socket filter for EXT probes to point at, or undefined. */
function tryTarget(): number | undefined {
  const insns = encode(RET0);
  const { ret } = bpf('PROG_LOAD', { prog_type: ProgType.SOCKET_FILTER, insns, insn_cnt: 2, license: 'GPL' }, { allow: 'all', subject: 'probe' });
  return ret >= 0 ? ret : undefined;
}

/** Verifier messages that mean "this helper does not exist for this program type". */
const NO_HELPER = /invalid func |unknown func |program of this type cannot use helper /;

/**
 * Whether programs of `type` may call `helper` (a name such as 'bpf_get_attach_cookie' or a
 * helper id): a program calling it is loaded and the verifier log read, as libbpf's
 * libbpf_probe_bpf_helper does. Other verifier complaints (about arguments) still mean yes.
 *
 * @example
 * probeHelper('TRACEPOINT', 'bpf_get_attach_cookie').available;
 */
export function probeHelper(type: ProgTypeName, helper: string | number): FeatureResult {
  const proto = typeof helper === 'number' ? helperById(helper) : helperByName(helper);
  const name = proto?.name ?? String(helper);
  return cached(`helper:${type}:${name}`, () => {
    const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name: `${name} (${type})`, category: 'helper', available, reason, ...(errno ? { errno } : {}) });
    if (!proto) return r(false, `unknown helper '${helper}'`);
    const base = probeProgramType(type);
    if (!base.available) return r(false, `program type ${type} is unavailable: ${base.reason}`, base.errno);
    const spec = loadSpecFor(type);
    if (typeof spec === 'string') return r(false, spec);
    const insns: Instruction[] = [{ code: 0x85, dst: 0, src: 0, off: 0, imm: proto.id }, ...RET0];
    const a = tryLoad({ ...spec, insns, withLog: true });
    if (a.ok) return r(true, 'a program calling it loads');
    if (NO_HELPER.test(a.log)) return r(false, `the verifier says: ${a.log.split('\n').find((l) => NO_HELPER.test(l))!.trim()}`, a.errno);
    if (a.errno === Errno.EPERM) return r(false, failure(a.errno, a.log, name), a.errno);
    return r(true, `known to the verifier (it only objected to the probe's arguments: "${lastLogLine(a.log)}")`, a.errno);
  });
}

/** struct bpf_cgroup_storage_key: u64 cgroup_inode_id, u32 attach_type, padded to 16. */
const CGROUP_STORAGE_KEY = 16;
const F_NO_PREALLOC = 1;
const F_MMAPABLE = 1 << 10;

function tryCreateMap(values: Parameters<typeof bpf<'MAP_CREATE'>>[1]): number {
  const { ret } = bpf('MAP_CREATE', values, { allow: 'all', subject: 'probe' });
  if (ret >= 0) closeFd(ret);
  return ret;
}

/** A BTF object with `int` (id 1), for maps that require BTF; the caller closes the fd. */
function intBtfFd(): number {
  const b = new BtfBuilder();
  b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
  const bytes = b.finish();
  return bpf('BTF_LOAD', { btf: bytes, btf_size: bytes.byteLength }, { allow: 'all' }).ret;
}

/**
 * Whether maps of `type` can be created here (e.g. RINGBUF 5.8, BLOOM_FILTER 5.16, ARENA 6.9).
 *
 * @example
 * probeMapType('RINGBUF').available;
 */
export function probeMapType(type: keyof typeof MapType): FeatureResult {
  return cached(`map:${type}`, () => {
    const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name: type, category: 'map type', available, reason, ...(errno ? { errno } : {}) });
    const map_type = MapType[type];
    let attr: Parameters<typeof bpf<'MAP_CREATE'>>[1] = { map_type, key_size: 4, value_size: 4, max_entries: 1 };
    const cleanup: number[] = [];
    try {
      switch (type) {
        case 'UNSPEC':
          return r(false, 'not a map type');
        case 'STRUCT_OPS':
          return r(vmlinuxId('bpf_struct_ops', BtfKind.STRUCT) !== undefined, 'decided by the kernel BTF (creating one needs a struct_ops type)');
        case 'STACK_TRACE':
          attr = { ...attr, value_size: 8 };
          break;
        case 'LPM_TRIE':
          attr = { ...attr, key_size: 8, map_flags: F_NO_PREALLOC };
          break;
        case 'QUEUE':
        case 'STACK':
        case 'BLOOM_FILTER':
          attr = { ...attr, key_size: 0 };
          break;
        case 'RINGBUF':
        case 'USER_RINGBUF':
          attr = { map_type, key_size: 0, value_size: 0, max_entries: 4096 };
          break;
        case 'ARENA':
          attr = { map_type, key_size: 0, value_size: 0, max_entries: 1, map_flags: F_MMAPABLE };
          break;
        case 'CGROUP_STORAGE':
        case 'PERCPU_CGROUP_STORAGE':
        case 'CGROUP_STORAGE_DEPRECATED':
        case 'PERCPU_CGROUP_STORAGE_DEPRECATED':
          attr = { ...attr, key_size: CGROUP_STORAGE_KEY, max_entries: 0 };
          break;
        case 'SK_STORAGE':
        case 'INODE_STORAGE':
        case 'TASK_STORAGE':
        case 'CGRP_STORAGE': {
          const btf = intBtfFd();
          if (btf < 0) return r(false, `needs BTF, and BPF_BTF_LOAD failed: ${errnoName(-btf)}`, -btf);
          cleanup.push(btf);
          attr = { ...attr, max_entries: 0, map_flags: F_NO_PREALLOC, btf_fd: btf, btf_key_type_id: 1, btf_value_type_id: 1 };
          break;
        }
        case 'ARRAY_OF_MAPS':
        case 'HASH_OF_MAPS': {
          const inner = bpf('MAP_CREATE', { map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1 }, { allow: 'all' }).ret;
          if (inner < 0) return r(false, `creating the inner array failed: ${errnoName(-inner)}`, -inner);
          cleanup.push(inner);
          attr = { ...attr, inner_map_fd: inner };
          break;
        }
        default:
          break;
      }
      const ret = tryCreateMap(attr);
      if (ret >= 0) return r(true, 'a minimal map can be created');
      return r(false, failure(-ret, '', `BPF_MAP_TYPE_${type}`), -ret);
    } finally {
      cleanup.forEach(closeFd);
    }
  });
}

/** The BTF kinds and conventions the loader sanitises for. */
export type BtfProbeKind = 'FUNC' | 'FUNC_GLOBAL' | 'DATASEC' | 'QMARK_DATASEC' | 'FLOAT' | 'DECL_TAG' | 'TYPE_TAG' | 'ENUM64';

const INT: BtfType = { kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 };

/** A minimal BTF blob using each kind (types from id 1). */
function btfProbeTypes(kind: BtfProbeKind): BtfType[] {
  switch (kind) {
    case 'FUNC':
    case 'FUNC_GLOBAL':
      return [
        INT,
        { kind: BtfKind.FUNC_PROTO, name: '', returnType: 1, params: [{ name: 'x', type: 1 }] },
        { kind: BtfKind.FUNC, name: 'f', type: 2, linkage: kind === 'FUNC' ? BtfFuncLinkage.STATIC : BtfFuncLinkage.GLOBAL },
      ];
    case 'DATASEC':
    case 'QMARK_DATASEC':
      return [
        INT,
        { kind: BtfKind.VAR, name: 'x', type: 1, linkage: BtfVarLinkage.GLOBAL_ALLOCATED },
        { kind: BtfKind.DATASEC, name: kind === 'DATASEC' ? '.data' : '?.data', size: 4, vars: [{ type: 2, offset: 0, size: 4 }] },
      ];
    case 'FLOAT':
      return [{ kind: BtfKind.FLOAT, name: 'float', size: 4 }];
    case 'DECL_TAG':
      return [INT, { kind: BtfKind.VAR, name: 'x', type: 1, linkage: BtfVarLinkage.GLOBAL_ALLOCATED }, { kind: BtfKind.DECL_TAG, name: 'tag', type: 2, componentIdx: -1, attribute: false }];
    case 'TYPE_TAG':
      return [INT, { kind: BtfKind.TYPE_TAG, name: 'tag', type: 1, attribute: false }, { kind: BtfKind.PTR, name: '', type: 2 }];
    case 'ENUM64':
      return [{ kind: BtfKind.ENUM64, name: 'e', size: 8, signed: false, values: [{ name: 'BIG', value: 1n << 40n }] }];
  }
}

/**
 * Whether the kernel accepts BTF using `kind` (FUNC 5.0, DATASEC 5.2, FUNC_GLOBAL 5.6, FLOAT
 * 5.13, DECL_TAG 5.16, TYPE_TAG 5.17, ENUM64 6.0).
 *
 * @example
 * probeBtfKind('ENUM64').available;
 */
export function probeBtfKind(kind: BtfProbeKind): FeatureResult {
  return cached(`btf:${kind}`, () => {
    const b = new BtfBuilder();
    b.addAll(btfProbeTypes(kind));
    const bytes = b.finish();
    const { ret } = bpf('BTF_LOAD', { btf: bytes, btf_size: bytes.byteLength }, { allow: 'all', subject: `probe BTF ${kind}` });
    if (ret >= 0) {
      closeFd(ret);
      return { name: kind, category: 'btf', available: true, reason: 'BTF using it loads' };
    }
    return { name: kind, category: 'btf', available: false, reason: failure(-ret, '', `BTF kind ${kind}`), errno: -ret };
  });
}

/** The BTF features the loader sanitises an object's BTF for. */
export function btfFeatures(): BtfFeatures {
  const has = (k: BtfProbeKind): boolean => probeBtfKind(k).available;
  return {
    func: has('FUNC'),
    funcGlobal: has('FUNC_GLOBAL'),
    datasec: has('DATASEC'),
    qmarkDatasec: has('QMARK_DATASEC'),
    float: has('FLOAT'),
    declTag: has('DECL_TAG'),
    typeTag: has('TYPE_TAG'),
    enum64: has('ENUM64'),
  };
}

/** Attach kinds probed by {@link probeAttach}. */
export type AttachProbe =
  | 'kprobe'
  | 'uprobe'
  | 'uprobe.multi'
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'tp_btf'
  | 'fentry'
  | 'fexit'
  | 'fmod_ret'
  | 'lsm'
  | 'iter'
  | 'cgroup'
  | 'xdp'
  | 'tcx'
  | 'perf_event';

const ATTACH_KINDS: readonly AttachProbe[] = ['kprobe', 'uprobe', 'uprobe.multi', 'tracepoint', 'raw_tracepoint', 'tp_btf', 'fentry', 'fexit', 'fmod_ret', 'lsm', 'iter', 'cgroup', 'xdp', 'tcx', 'perf_event'];

const PMU = (name: string): string => `/sys/bus/event_source/devices/${name}/type`;
const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function tracefsFile(name: string): string | undefined {
  return TRACEFS.map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/mounts', 'latin1').split('\n')) {
      const [, dir, fstype] = line.split(' ');
      if (fstype === 'cgroup2' && dir) return dir;
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** BPF_LINK_CREATE on an ifindex that cannot exist: ENODEV means the attach type is known. */
function linkCreateKnown(attachType: AttachTypeName, progFd: number): number {
  return -bpf('LINK_CREATE', { prog_fd: progFd, target_ifindex: 0x7fffffff, attach_type: AttachType[attachType] }, { allow: 'all', subject: 'probe' }).ret;
}

/** Loads a minimal program and runs `then` with its fd (closed afterwards). */
function withProgram<T>(spec: LoadSpec, then: (fd: number) => T): T | LoadAttempt {
  const insns = encode(spec.insns ?? RET0);
  const { ret } = bpf(
    'PROG_LOAD',
    { prog_type: ProgType[spec.type], insns, insn_cnt: insns.byteLength / 8, license: 'GPL', expected_attach_type: spec.attachType ? AttachType[spec.attachType] : undefined, attach_btf_id: spec.attachBtfId },
    { allow: 'all', subject: 'probe' },
  );
  if (ret < 0) return { ok: false, errno: -ret, log: '' };
  try {
    return then(ret);
  } finally {
    closeFd(ret);
  }
}

const isAttempt = (x: unknown): x is LoadAttempt => typeof x === 'object' && x !== null && 'ok' in x && 'errno' in x;

function probeTracingKind(kind: 'fentry' | 'fexit' | 'fmod_ret' | 'iter' | 'tp_btf'): FeatureResult {
  const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name: kind, category: 'attach', available, reason, ...(errno ? { errno } : {}) });
  const [attachType, target, targetKind] =
    kind === 'fentry'
      ? (['TRACE_FENTRY', 'bpf_fentry_test1', BtfKind.FUNC] as const)
      : kind === 'fexit'
        ? (['TRACE_FEXIT', 'bpf_fentry_test1', BtfKind.FUNC] as const)
        : kind === 'fmod_ret'
          ? (['MODIFY_RETURN', 'bpf_modify_return_test', BtfKind.FUNC] as const)
          : kind === 'iter'
            ? (['TRACE_ITER', 'bpf_iter_task', BtfKind.FUNC] as const)
            : (['TRACE_RAW_TP', 'btf_trace_sys_enter', BtfKind.TYPEDEF] as const);
  const id = vmlinuxId(target, targetKind);
  if (id === undefined) return r(false, existsSync('/sys/kernel/btf/vmlinux') ? `no ${target} in the kernel BTF to probe with` : 'needs the kernel BTF: /sys/kernel/btf/vmlinux is missing (CONFIG_DEBUG_INFO_BTF)');
  const a = tryLoad({ type: 'TRACING', attachType, attachBtfId: id });
  if (a.ok) return r(true, `${kind === 'iter' ? 'an' : 'a'} ${kind} program on ${target} loads`);
  return r(false, failure(a.errno, a.log, `${kind} programs`), a.errno);
}

/**
 * Whether programs can be attached this way here: the files and kernel support each attach
 * kind needs. On a kernel without CONFIG_KPROBES, 'kprobe' is unavailable because neither the
 * kprobe PMU nor tracefs kprobe_events exists; where trampolines are refused, 'fentry' is
 * unavailable with EPERM.
 *
 * @example
 * probeAttach('kprobe').reason; // 'missing /sys/bus/event_source/devices/kprobe/type and kprobe_events in tracefs ...'
 */
export function probeAttach(kind: AttachProbe): FeatureResult {
  return cached(`attach:${kind}`, () => {
    const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name: kind, category: 'attach', available, reason, ...(errno ? { errno } : {}) });
    const needType = (type: ProgTypeName): FeatureResult | undefined => {
      const p = probeProgramType(type);
      return p.available ? undefined : r(false, `program type ${type} is unavailable: ${p.reason}`, p.errno);
    };
    switch (kind) {
      case 'kprobe':
      case 'uprobe': {
        const pmu = PMU(kind);
        const events = tracefsFile(`${kind}_events`);
        if (!existsSync(pmu) && !events) {
          return r(false, `missing ${pmu} and ${kind}_events in tracefs${kind === 'kprobe' ? ' (kernel built without CONFIG_KPROBES)' : ' (kernel built without CONFIG_UPROBE_EVENTS)'}`);
        }
        return needType('KPROBE') ?? r(true, existsSync(pmu) ? `${pmu} exists (perf_event_open ${kind} PMU)` : `${events} exists (legacy tracefs ${kind}s)`);
      }
      case 'uprobe.multi': {
        if (!existsSync(PMU('uprobe')) && !tracefsFile('uprobe_events')) return r(false, 'no uprobe support (missing the uprobe PMU and uprobe_events)');
        const a = tryLoad({ type: 'KPROBE', attachType: 'TRACE_UPROBE_MULTI' });
        if (!a.ok) return r(false, failure(a.errno, a.log, 'uprobe.multi programs'), a.errno);
        // kernels before 6.6 load KPROBE programs whatever their expected attach type
        if (kernelKnowsAttachType('TRACE_UPROBE_MULTI') === false) return r(false, 'KPROBE programs load with any expected attach type, but the kernel BTF has no BPF_TRACE_UPROBE_MULTI (uprobe.multi needs 6.6)');
        return r(true, 'a uprobe.multi program loads (6.6+)');
      }
      case 'tracepoint': {
        const events = tracefsFile('events');
        if (!events) return r(false, `tracefs is not mounted (no events under ${TRACEFS.join(' or ')}): mount -t tracefs nodev /sys/kernel/tracing`);
        return needType('TRACEPOINT') ?? r(true, `${events} exists and TRACEPOINT programs load`);
      }
      case 'raw_tracepoint': {
        const res = withProgram({ type: 'RAW_TRACEPOINT' }, (fd) => {
          const { ret } = bpf('RAW_TRACEPOINT_OPEN', { name: 'sys_enter', prog_fd: fd }, { allow: 'all', subject: 'probe' });
          if (ret >= 0) closeFd(ret);
          return ret;
        });
        if (isAttempt(res)) return r(false, failure(res.errno, res.log, 'RAW_TRACEPOINT programs'), res.errno);
        return res >= 0 ? r(true, 'a raw tracepoint program attaches to sys_enter') : r(false, failure(-res, '', 'BPF_RAW_TRACEPOINT_OPEN'), -res);
      }
      case 'tp_btf':
      case 'fentry':
      case 'fexit':
      case 'fmod_ret':
      case 'iter':
        return probeTracingKind(kind);
      case 'lsm': {
        const t = probeProgramType('LSM');
        if (!t.available) return r(false, t.reason, t.errno);
        try {
          const lsms = readFileSync('/sys/kernel/security/lsm', 'latin1').trim();
          if (!lsms.split(',').includes('bpf')) return r(false, `BPF LSM programs load, but 'bpf' is not in the active LSMs (${lsms}): boot with lsm=...,bpf`);
        } catch {
          // securityfs not mounted: loading worked, which is what can be checked
        }
        return r(true, 'LSM programs load and bpf is an active LSM');
      }
      case 'cgroup': {
        const dir = cgroup2Mount();
        if (!dir) return r(false, 'no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)');
        return needType('CGROUP_SKB') ?? r(true, `cgroup v2 is mounted at ${dir} and cgroup programs load`);
      }
      case 'xdp': {
        // XDP's BPF_LINK_CREATE answers EINVAL both for a missing interface and for an unknown
        // attach type, so the kernel's BTF decides whether XDP links exist (5.9).
        const missing = needType('XDP');
        if (missing) return missing;
        const link = vmlinuxId('bpf_xdp_link_attach', BtfKind.FUNC) !== undefined;
        return r(true, link ? 'XDP programs load, and the kernel has XDP links (bpf_xdp_link_attach)' : 'XDP programs load (attach through netlink: no XDP links before 5.9)');
      }
      case 'tcx': {
        const res = withProgram({ type: 'SCHED_CLS' }, (fd) => linkCreateKnown('TCX_INGRESS', fd));
        if (isAttempt(res)) return r(false, failure(res.errno, res.log, 'SCHED_CLS programs'), res.errno);
        if (res === Errno.ENODEV) return r(true, 'BPF_LINK_CREATE knows TCX_INGRESS (ENODEV for a missing interface)');
        return r(false, `BPF_LINK_CREATE with TCX_INGRESS: ${failure(res, '', 'tcx links')} (tcx needs 6.6)`, res);
      }
      case 'perf_event': {
        const missing = needType('PERF_EVENT');
        if (missing) return missing;
        try {
          const fd = perfEventOpen(newPerfAttr({ type: PerfType.SOFTWARE, config: PerfSwId.CPU_CLOCK, sample_period: 1_000_000, disabled: 1 }), -1, 0);
          fd.close();
        } catch (err) {
          return r(false, `perf_event_open of a software clock event failed: ${(err as Error).message}`, (err as { errno?: number }).errno);
        }
        return r(true, 'perf_event_open works and PERF_EVENT programs load');
      }
    }
  });
}

/** Other capabilities probed by {@link probeMisc}. */
export type MiscProbe = 'bpf_link' | 'ringbuf' | 'mmapable_array' | 'map_freeze' | 'bpf_cookie' | 'syscall_wrapper' | 'test_run' | 'enable_stats' | 'kernel_btf';

const MISC: readonly MiscProbe[] = ['bpf_link', 'ringbuf', 'mmapable_array', 'map_freeze', 'bpf_cookie', 'syscall_wrapper', 'test_run', 'enable_stats', 'kernel_btf'];

const SYSCALL_PREFIX: Readonly<Record<string, string>> = { x64: '__x64_', arm64: '__arm64_', s390x: '__s390x_', riscv64: '__riscv_', ia32: '__ia32_' };

/**
 * Assorted capabilities: bpf_link (5.7), ring buffers (5.8), mmapable arrays (5.5), map freezing
 * (5.2), BPF cookies (5.15), syscall wrappers (how syscall arguments reach kprobes), test runs,
 * run-time statistics (5.8), kernel BTF.
 */
export function probeMisc(name: MiscProbe): FeatureResult {
  return cached(`misc:${name}`, () => {
    const r = (available: boolean, reason: string, errno?: number): FeatureResult => ({ name, category: 'misc', available, reason, ...(errno ? { errno } : {}) });
    switch (name) {
      case 'bpf_link': {
        const { ret } = bpf('LINK_CREATE', { prog_fd: -1 >>> 0, target_fd: -1 >>> 0 }, { allow: 'all', subject: 'probe' });
        if (ret >= 0) closeFd(ret);
        return ret === -Errno.EBADF ? r(true, 'BPF_LINK_CREATE exists (EBADF for a bad fd)') : r(false, `BPF_LINK_CREATE: ${errnoName(-ret)} (needs 5.7)`, -ret);
      }
      case 'ringbuf': {
        const m = probeMapType('RINGBUF');
        return r(m.available, m.reason, m.errno);
      }
      case 'mmapable_array': {
        const ret = tryCreateMap({ map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1, map_flags: F_MMAPABLE });
        return ret >= 0 ? r(true, 'an array with BPF_F_MMAPABLE can be created') : r(false, failure(-ret, '', 'BPF_F_MMAPABLE (5.5)'), -ret);
      }
      case 'map_freeze': {
        const { ret: fd } = bpf('MAP_CREATE', { map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1 }, { allow: 'all', subject: 'probe' });
        if (fd < 0) return r(false, `creating an array failed: ${errnoName(-fd)}`, -fd);
        const { ret } = bpf('MAP_FREEZE', { map_fd: fd }, { allow: 'all', subject: 'probe' });
        closeFd(fd);
        return ret === 0 ? r(true, 'BPF_MAP_FREEZE works') : r(false, `BPF_MAP_FREEZE: ${failure(-ret, '', 'map freezing (5.2)')}`, -ret);
      }
      case 'bpf_cookie': {
        const h = probeHelper('TRACEPOINT', 'bpf_get_attach_cookie');
        return r(h.available, h.reason, h.errno);
      }
      case 'syscall_wrapper': {
        const prefix = SYSCALL_PREFIX[process.arch === 'x64' ? 'x64' : process.arch] ?? '';
        const sym = `${prefix}sys_bpf`;
        return prefix && kallsymsAddress(sym) !== undefined ? r(true, `${sym} is in /proc/kallsyms`) : r(false, `no ${sym || 'arch syscall wrapper'} in /proc/kallsyms`);
      }
      case 'test_run': {
        const res = withProgram({ type: 'XDP', attachType: 'XDP' }, (fd) => bpf('PROG_TEST_RUN', { prog_fd: fd, data_in: new Uint8Array(64), data_size_in: 64 }, { allow: 'all', subject: 'probe' }).ret);
        if (isAttempt(res)) return r(false, failure(res.errno, res.log, 'XDP programs'), res.errno);
        return res === 0 ? r(true, 'BPF_PROG_TEST_RUN of an XDP program works') : r(false, `BPF_PROG_TEST_RUN: ${failure(-res, '', 'test runs')}`, -res);
      }
      case 'enable_stats': {
        const { ret } = bpf('ENABLE_STATS', { type: 0 }, { allow: 'all', subject: 'probe' });
        if (ret >= 0) closeFd(ret);
        return ret >= 0 ? r(true, 'BPF_ENABLE_STATS works') : r(false, `BPF_ENABLE_STATS: ${failure(-ret, '', 'run-time statistics (5.8)')}`, -ret);
      }
      case 'kernel_btf':
        return existsSync('/sys/kernel/btf/vmlinux') ? r(true, '/sys/kernel/btf/vmlinux exists') : r(false, 'missing /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)');
    }
  });
}

/** What {@link probeAll} covers. */
export interface ProbeAllOptions {
  /** Also probe every helper for these program types (one load per helper). */
  helpersFor?: readonly ProgTypeName[];
}

/**
 * Every probe: program types, map types, attach kinds, BTF kinds, other capabilities, and
 * helpers for the program types asked for. What `tsbpf feature` prints.
 *
 * @example
 * probeAll().filter((f) => !f.available).map((f) => `${f.name}: ${f.reason}`);
 */
export function probeAll(options: ProbeAllOptions = {}): FeatureResult[] {
  const out: FeatureResult[] = [];
  const progTypes = Object.keys(ProgType).filter((t) => t !== 'UNSPEC') as ProgTypeName[];
  for (const t of progTypes) out.push(probeProgramType(t));
  const seen = new Set<number>();
  for (const [t, n] of Object.entries(MapType)) {
    // Aliases share numbers: report each number once, under its current name.
    if (t === 'UNSPEC' || t.endsWith('_DEPRECATED') || seen.has(n)) continue;
    seen.add(n);
    out.push(probeMapType(t as keyof typeof MapType));
  }
  for (const k of ATTACH_KINDS) out.push(probeAttach(k));
  for (const k of ['FUNC', 'FUNC_GLOBAL', 'DATASEC', 'QMARK_DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64'] as const) out.push(probeBtfKind(k));
  for (const m of MISC) out.push(probeMisc(m));
  for (const t of options.helpersFor ?? []) {
    for (let id = 1; helperById(id); id++) out.push(probeHelper(t, id));
  }
  return out;
}
