/**
 * BTF ids of attach targets. BTF-typed programs (tp_btf, fentry, fexit, fmod_ret, LSM,
 * iterators) name their target at load time by its BTF type id in the kernel's BTF
 * (/sys/kernel/btf/vmlinux, or a module's split BTF under /sys/kernel/btf/). The name of the
 * type to look for follows libbpf's conventions:
 *
 * | kind                      | BTF type             |
 * |---------------------------|----------------------|
 * | tp_btf/NAME               | typedef btf_trace_NAME |
 * | fentry, fexit, fmod_ret   | FUNC NAME            |
 * | lsm/NAME, lsm_cgroup/NAME | FUNC bpf_lsm_NAME    |
 * | iter/NAME                 | FUNC bpf_iter_NAME   |
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BtfKind, parseBtf, type Btf } from '../btf/index.js';
import { NotSupportedError } from '../errors.js';
import { bpf, Errno, Fd, Struct, syscalls } from '../sys/index.js';
import { STRUCTS } from '../uapi/layouts.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';

/** The program kinds whose target is a BTF id. */
export type BtfAttachKind = 'tp_btf' | 'fentry' | 'fexit' | 'fmod_ret' | 'lsm' | 'lsm_cgroup' | 'iter';

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

const SYSFS_BTF = '/sys/kernel/btf';

const LOOKUP: Record<BtfAttachKind, { prefix: string; kind: number; what: string }> = {
  tp_btf: { prefix: 'btf_trace_', kind: BtfKind.TYPEDEF, what: 'typedef' },
  fentry: { prefix: '', kind: BtfKind.FUNC, what: 'function' },
  fexit: { prefix: '', kind: BtfKind.FUNC, what: 'function' },
  fmod_ret: { prefix: '', kind: BtfKind.FUNC, what: 'function' },
  lsm: { prefix: 'bpf_lsm_', kind: BtfKind.FUNC, what: 'function' },
  lsm_cgroup: { prefix: 'bpf_lsm_', kind: BtfKind.FUNC, what: 'function' },
  iter: { prefix: 'bpf_iter_', kind: BtfKind.FUNC, what: 'function' },
};

let vmlinux: Btf | undefined;

/** The running kernel's BTF (parsed once, lazily). */
export function kernelBtf(): Btf {
  if (vmlinux) return vmlinux;
  const path = join(SYSFS_BTF, 'vmlinux');
  if (!existsSync(path)) throw new NotSupportedError('kernel BTF', `${path} is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF, which BTF-typed programs (tp_btf, fentry, fexit, LSM, iterators) need`);
  vmlinux = parseBtf(readFileSync(path));
  return vmlinux;
}

function ownId(btf: Btf, name: string, kind: number): number | undefined {
  return btf.idsByName(name).find((id) => id >= btf.firstId && btf.kindOf(id) === kind);
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
  const spec = LOOKUP[kind];
  if (!spec) throw new InvalidAttachError(String(kind), `not a BTF-typed attach kind; expected one of ${Object.keys(LOOKUP).join(', ')}`);
  const colon = name.indexOf(':');
  const module = colon >= 0 ? name.slice(0, colon) : undefined;
  const bare = colon >= 0 ? name.slice(colon + 1) : name;
  if (!/^\w+$/.test(bare) || (module !== undefined && !/^\w+$/.test(module))) {
    throw new InvalidAttachError(kind, `invalid target '${name}': expected NAME or MODULE:NAME`);
  }
  const full = spec.prefix + bare;
  const base = kernelBtf();
  if (module === undefined) {
    const id = ownId(base, full, spec.kind);
    if (id !== undefined) return { btfId: id };
  }
  for (const mod of module === undefined ? moduleNames() : [module]) {
    const path = join(SYSFS_BTF, mod);
    if (!existsSync(path)) continue;
    const btf = parseBtf(readFileSync(path), { base });
    const id = ownId(btf, full, spec.kind);
    if (id !== undefined) return { btfId: id, module: mod, btfObjFd: moduleBtfFd(mod) };
  }
  throw new AttachTargetNotFoundError(
    kind,
    name,
    `no ${spec.what} '${full}' in ${module ? join(SYSFS_BTF, module) : `${SYSFS_BTF}/vmlinux or module BTF`}; list candidates with "bpftool btf dump file ${SYSFS_BTF}/vmlinux | grep ${full.slice(0, 24)}"`,
  );
}

function moduleNames(): string[] {
  try {
    return readdirSync(SYSFS_BTF).filter((f) => f !== 'vmlinux');
  } catch {
    return [];
  }
}

/** An fd of the loaded BTF object of kernel module `module` (by name, via BTF_GET_NEXT_ID). */
function moduleBtfFd(module: string): Fd {
  let id = 0;
  for (;;) {
    const next = bpf('BTF_GET_NEXT_ID', { start_id: id }, { allow: [Errno.ENOENT] });
    if (next.ret < 0) break;
    id = next.attr.num('next_id');
    const got = bpf('BTF_GET_FD_BY_ID', { btf_id: id }, { allow: [Errno.ENOENT] });
    if (got.ret < 0) continue;
    const fd = new Fd(got.ret);
    const nameBuf = new Uint8Array(64);
    const layout = STRUCTS.bpf_btf_info;
    const sys = syscalls();
    const info = new Struct<string>('bpf_btf_info', layout.fields, layout.size, (v) => sys.addressOf(v)).set('name', nameBuf).set('name_len', nameBuf.byteLength);
    const { ret } = bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: fd.value, info_len: info.bytes.byteLength, info: info.bytes }, { allow: 'all' });
    const end = nameBuf.indexOf(0);
    if (ret === 0 && new TextDecoder().decode(nameBuf.subarray(0, end < 0 ? nameBuf.byteLength : end)) === module) return fd;
    fd.close();
  }
  throw new AttachTargetNotFoundError('btf', module, `no loaded BTF object named '${module}' (is the module loaded? see ${SYSFS_BTF})`);
}
