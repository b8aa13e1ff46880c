/**
 * The BTF id a program's attach target has in the kernel's BTF, which BPF_PROG_LOAD needs for
 * BTF-typed program kinds (libbpf's libbpf_find_attach_btf_id). The name of the type to look
 * for follows libbpf's conventions:
 *
 * | kind                      | BTF type               |
 * |---------------------------|------------------------|
 * | tp_btf/NAME               | typedef btf_trace_NAME |
 * | fentry, fexit, fmod_ret   | FUNC NAME              |
 * | lsm/NAME, lsm_cgroup/NAME | FUNC bpf_lsm_NAME      |
 * | iter/NAME                 | FUNC bpf_iter_NAME     |
 *
 * vmlinux is searched first, then the split BTF of each module (/sys/kernel/btf/<module>);
 * `MODULE:NAME` looks only in that module's BTF, `vmlinux:NAME` only in vmlinux. The loader
 * (Collection) and the link layer's `attachBtfId` both resolve targets here.
 */
import { BtfKind, type Btf } from '../btf/index.js';
import { NotSupportedError, TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/index.js';
import { findKernelType, kernelBtf } from './vmlinux.js';

/** The program kinds whose target is a BTF id. */
export type BtfAttachKind = 'tp_btf' | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm' | 'lsm_cgroup' | 'iter';

/** A program's attach target does not exist in this kernel. */
export class AttachTargetError extends TsbpfError {
  override name = 'AttachTargetError';
  constructor(
    readonly program: string,
    /** The target as written in the section, e.g. 'sched_process_exec'. */
    readonly target: string,
    /** The BTF name looked up, e.g. 'btf_trace_sched_process_exec'. */
    readonly btfName: string,
    /** Where valid names can be found. */
    readonly hint: string,
  ) {
    super(`program '${program}': attach target '${target}' not found (no ${btfName} in the kernel's BTF); ${hint}`);
  }
}

/** Where the attach target of a BTF-typed program is. */
export interface AttachTarget {
  btfId: number;
  /** Kernel module whose BTF holds it, or undefined for vmlinux. */
  module: string | undefined;
}

const FUNCTIONS_HINT = 'traceable functions are FUNCs in /sys/kernel/btf/vmlinux; /sys/kernel/tracing/available_filter_functions lists those ftrace can attach to';
const LSM_HINT = 'LSM hooks are the bpf_lsm_* functions in /sys/kernel/btf/vmlinux (include/linux/lsm_hook_defs.h)';

/** What libbpf looks up for each kind, and where valid names can be found. */
const LOOKUP: Readonly<Record<BtfAttachKind, { prefix: string; kind: number; what: 'typedef' | 'function'; hint: string }>> = {
  tp_btf: {
    prefix: 'btf_trace_',
    kind: BtfKind.TYPEDEF,
    what: 'typedef',
    hint: 'tracepoints with BTF are the btf_trace_* typedefs: bpftool btf dump file /sys/kernel/btf/vmlinux | grep btf_trace_ (events are listed in /sys/kernel/tracing/available_events)',
  },
  fentry: { prefix: '', kind: BtfKind.FUNC, what: 'function', hint: FUNCTIONS_HINT },
  fexit: { prefix: '', kind: BtfKind.FUNC, what: 'function', hint: FUNCTIONS_HINT },
  fmod_ret: { prefix: '', kind: BtfKind.FUNC, what: 'function', hint: FUNCTIONS_HINT },
  lsm: { prefix: 'bpf_lsm_', kind: BtfKind.FUNC, what: 'function', hint: LSM_HINT },
  lsm_cgroup: { prefix: 'bpf_lsm_', kind: BtfKind.FUNC, what: 'function', hint: LSM_HINT },
  iter: { prefix: 'bpf_iter_', kind: BtfKind.FUNC, what: 'function', hint: 'iterator targets are the bpf_iter_* functions in /sys/kernel/btf/vmlinux (task, task_file, bpf_map, tcp, ...)' },
};

/** Whether `kind` is one of the BTF-typed attach kinds. */
export function isBtfAttachKind(kind: string): kind is BtfAttachKind {
  return Object.hasOwn(LOOKUP, kind);
}

/** The BTF-typed attach kind of a program's expected attach type ('TRACE_RAW_TP' is tp_btf). */
export function btfAttachKindOf(attachType: string | undefined): BtfAttachKind {
  switch (attachType) {
    case 'TRACE_RAW_TP':
      return 'tp_btf';
    case 'LSM_MAC':
      return 'lsm';
    case 'LSM_CGROUP':
      return 'lsm_cgroup';
    case 'TRACE_ITER':
      return 'iter';
    case 'TRACE_FEXIT':
      return 'fexit';
    case 'MODIFY_RETURN':
      return 'fmod_ret';
    default:
      return 'fentry';
  }
}

/** A target named in a section or by a caller, and what to look up for it. */
export interface AttachLookup {
  kind: BtfAttachKind;
  /** The target without its module, e.g. 'sched_process_exec'. */
  target: string;
  /** The module of `MODULE:NAME`, undefined for a bare name. */
  module: string | undefined;
  /** The BTF name looked up, e.g. 'btf_trace_sched_process_exec'. */
  btfName: string;
  /** The BTF kind looked up (TYPEDEF or FUNC) and its name in messages. */
  btfKind: number;
  what: 'typedef' | 'function';
  /** Where valid names can be found. */
  hint: string;
}

/** Splits `MODULE:NAME` and names the BTF type a target of `kind` is. */
export function attachLookup(kind: BtfAttachKind, name: string): AttachLookup {
  const l = LOOKUP[kind];
  const colon = name.indexOf(':');
  const module = colon > 0 ? name.slice(0, colon) : undefined;
  const target = colon > 0 ? name.slice(colon + 1) : name;
  return { kind, target, module, btfName: l.prefix + target, btfKind: l.kind, what: l.what, hint: l.hint };
}

/**
 * Where `lookup` is in the kernel's BTF: vmlinux first, then every module's BTF (only the
 * module's, or only vmlinux, when the name says so). Undefined when no BTF has it.
 *
 * @example
 * findAttachTarget(attachLookup('tp_btf', 'sched_process_exec')); // { btfId: 10324, module: undefined }
 */
export function findAttachTarget(lookup: AttachLookup, vmlinux: Btf = kernelBtf()): AttachTarget | undefined {
  const found = findKernelType(lookup.btfName, lookup.btfKind, vmlinux, lookup.module);
  return found && { btfId: found.id, module: found.module };
}

/**
 * Finds the attach BTF id of a program whose section needs one (`sectionDef.attachBtf`), in
 * vmlinux and then in the modules' BTF. `fentry/module:func` limits the search to one module.
 *
 * @example
 * attachTarget(spec.programs[0], kernelBtf()); // { btfId: 10324, module: undefined } for tp_btf/sched_process_exec
 */
export function attachTarget(prog: ProgramSpec, vmlinux: Btf): AttachTarget {
  if (prog.progType === 'EXT') {
    throw new NotSupportedError(`freplace program '${prog.name}'`, 'an extension needs the program it replaces: load it with Program.load({ type: "EXT", attachProgFd, attachBtfId })');
  }
  const lookup = attachLookup(btfAttachKindOf(prog.attachType), prog.attachTo);
  if (lookup.target === '') {
    throw new AttachTargetError(prog.name, '', lookup.btfName, `the section '${prog.section}' names no target; write it as ${prog.sectionDef?.prefix ?? prog.section}/<name>`);
  }
  const found = findAttachTarget(lookup, vmlinux);
  if (!found) throw new AttachTargetError(prog.name, lookup.target, lookup.btfName, lookup.hint);
  return found;
}
