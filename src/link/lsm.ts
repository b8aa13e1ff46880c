/**
 * BPF LSM programs (BPF_PROG_TYPE_LSM): run at a Linux Security Module hook and may deny the
 * operation by returning an error. The hook is fixed at load time (attach_btf_id of the
 * bpf_lsm_<hook> function, see {@link attachBtfId}).
 */
import type { Program } from '../kernel/program.js';
import { expectProgram } from './check.js';
import type { BpfLink } from './link.js';
import { attachBtfProgram } from './tracing.js';

/** Options of {@link lsm}. */
export interface LsmOptions {
  /** A value the program reads with bpf_get_attach_cookie() (6.x). */
  cookie?: bigint;
  /** A name for the hook, shown by toString() (default: the program's name). */
  target?: string;
}

/**
 * Attaches an LSM program (BPF_PROG_TYPE_LSM, expected attach type BPF_LSM_MAC) to the hook
 * chosen at load time. Valid hooks are the bpf_lsm_* functions in /sys/kernel/btf/vmlinux;
 * the kernel must run the BPF LSM ("bpf" in /sys/kernel/security/lsm, e.g. booted with
 * lsm=...,bpf).
 *
 * Minimum kernel: 5.7. Where the kernel refuses LSM programs (no BPF LSM, or a security
 * policy), Program.load already throws a PermissionError naming the kind.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = lsm(Program.load({ type: 'LSM', expectedAttachType: 'LSM_MAC', attachBtfId: attachBtfId('lsm', 'file_open').btfId, ... }));
 */
export function lsm(program: Program, options: LsmOptions = {}): BpfLink {
  expectProgram('lsm', program, ['LSM'], ['LSM_MAC']);
  return attachBtfProgram('lsm', program, 'LSM_MAC', options.target ?? program.name, { cookie: options.cookie });
}
