/**
 * BTF ids of attach targets. BTF-typed programs (tp_btf, fentry, fexit, fmod_ret, LSM,
 * iterators) name their target at load time by its BTF type id in the kernel's BTF
 * (/sys/kernel/btf/vmlinux, or a module's split BTF under /sys/kernel/btf/). The lookup itself
 * is the loader's (src/kernel/attach-target.ts, which has the naming table); this adds input
 * checks, the link layer's errors and, for a module, an fd of its BTF object.
 */
import { attachLookup, findAttachTarget, isBtfAttachKind, type BtfAttachKind } from '../kernel/attach-target.js';
import { moduleBtfFd } from '../kernel/btf-info.js';
import { KERNEL_BTF_DIR, kernelBtf } from '../kernel/vmlinux.js';
import type { Fd } from '../sys/index.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';

export type { BtfAttachKind } from '../kernel/attach-target.js';

/** Where an attach target lives in the kernel's BTF. */
export interface AttachBtfTarget {
  /** The BTF type id, for BPF_PROG_LOAD's attach_btf_id. */
  btfId: number;
  /** The kernel module whose BTF holds it; undefined for vmlinux. */
  module?: string;
  /**
   * For a module: an fd of its BTF object, for BPF_PROG_LOAD's attach_btf_obj_fd. The caller
   * owns it (close it after loading).
   */
  btfObjFd?: Fd;
}

/**
 * The BTF id of the attach target of a BTF-typed program: what BPF_PROG_LOAD needs in
 * attach_btf_id (and, for a module, attach_btf_obj_fd). `name` is the section's extras, e.g.
 * 'sched_process_exec' for tp_btf, 'do_unlinkat' for fentry, 'file_open' for lsm, 'task' for
 * iter; 'module:name' looks only in that module's BTF.
 *
 * Valid names: `bpftool btf dump file /sys/kernel/btf/vmlinux` lists them (FUNC and TYPEDEF
 * btf_trace_* entries).
 *
 * @example
 * Program.load({ type: 'TRACING', expectedAttachType: 'TRACE_RAW_TP', attachBtfId: attachBtfId('tp_btf', 'sched_process_exec').btfId, ... });
 */
export function attachBtfId(kind: BtfAttachKind, name: string): AttachBtfTarget {
  if (!isBtfAttachKind(kind)) throw new InvalidAttachError(String(kind), `not a BTF-typed attach kind; expected one of tp_btf, fentry, fexit, fmod_ret, lsm, lsm_cgroup, iter`);
  const lookup = attachLookup(kind, name);
  if (!/^\w+$/.test(lookup.target) || (lookup.module !== undefined && !/^\w+$/.test(lookup.module))) {
    throw new InvalidAttachError(kind, `invalid target '${name}': expected NAME or MODULE:NAME`);
  }
  const found = findAttachTarget(lookup, kernelBtf());
  if (!found) {
    const where = lookup.module ? `${KERNEL_BTF_DIR}/${lookup.module}` : `${KERNEL_BTF_DIR}/vmlinux or module BTF`;
    const full = lookup.btfName;
    throw new AttachTargetNotFoundError(kind, name, `no ${lookup.what} '${full}' in ${where}; list candidates with "bpftool btf dump file ${KERNEL_BTF_DIR}/vmlinux | grep ${full.slice(0, 24)}"`);
  }
  if (found.module === undefined) return { btfId: found.btfId };
  const btfObjFd = moduleBtfFd(found.module);
  if (!btfObjFd) throw new AttachTargetNotFoundError('btf', found.module, `no loaded BTF object named '${found.module}' (is the module loaded? see ${KERNEL_BTF_DIR})`);
  return { btfId: found.btfId, module: found.module, btfObjFd };
}
