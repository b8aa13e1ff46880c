/**
 * The BTF id a program's attach target has in the kernel's BTF, which BPF_PROG_LOAD needs for
 * BTF-typed program kinds (libbpf's libbpf_find_attach_btf_id): tp_btf programs name the
 * `btf_trace_<tracepoint>` typedef, LSM programs the `bpf_lsm_<hook>` function, iterators the
 * `bpf_iter_<target>` function, fentry/fexit/fmod_ret the traced function itself.
 */
import { BtfKind, type Btf } from '../btf/index.js';
import { NotSupportedError, TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/index.js';
import { moduleBtf, moduleBtfNames } from './vmlinux.js';

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

/** The BTF name and kind libbpf looks up for a section's attach type, and where to look for names. */
function targetName(attachType: string | undefined, target: string): { name: string; kind: number; hint: string } {
  switch (attachType) {
    case 'TRACE_RAW_TP':
      return {
        name: `btf_trace_${target}`,
        kind: BtfKind.TYPEDEF,
        hint: 'tracepoints with BTF are the btf_trace_* typedefs: bpftool btf dump file /sys/kernel/btf/vmlinux | grep btf_trace_ (events are listed in /sys/kernel/tracing/available_events)',
      };
    case 'LSM_MAC':
    case 'LSM_CGROUP':
      return { name: `bpf_lsm_${target}`, kind: BtfKind.FUNC, hint: 'LSM hooks are the bpf_lsm_* functions in /sys/kernel/btf/vmlinux (include/linux/lsm_hook_defs.h)' };
    case 'TRACE_ITER':
      return { name: `bpf_iter_${target}`, kind: BtfKind.FUNC, hint: 'iterator targets are the bpf_iter_* functions in /sys/kernel/btf/vmlinux (task, task_file, bpf_map, tcp, ...)' };
    default:
      return { name: target, kind: BtfKind.FUNC, hint: 'traceable functions are FUNCs in /sys/kernel/btf/vmlinux; /sys/kernel/tracing/available_filter_functions lists those ftrace can attach to' };
  }
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
  let target = prog.attachTo;
  let onlyModule: string | undefined;
  const colon = target.indexOf(':');
  if (colon > 0 && prog.attachType !== 'TRACE_RAW_TP') {
    onlyModule = target.slice(0, colon);
    target = target.slice(colon + 1);
  }
  const { name, kind, hint } = targetName(prog.attachType, target);
  if (target === '') throw new AttachTargetError(prog.name, '', name, `the section '${prog.section}' names no target; write it as ${prog.sectionDef?.prefix ?? prog.section}/<name>`);
  if (!onlyModule || onlyModule === 'vmlinux') {
    const id = vmlinux.idsByName(name).find((i) => vmlinux.kindOf(i) === kind);
    if (id !== undefined) return { btfId: id, module: undefined };
  }
  for (const mod of onlyModule && onlyModule !== 'vmlinux' ? [onlyModule] : moduleBtfNames()) {
    const btf = moduleBtf(mod, vmlinux);
    const id = btf?.idsByName(name).find((i) => i >= btf.firstId && btf.kindOf(i) === kind);
    if (id !== undefined) return { btfId: id, module: mod };
  }
  throw new AttachTargetError(prog.name, target, name, hint);
}
