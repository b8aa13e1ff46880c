/**
 * BTF objects in the kernel: the BTF a program or map was loaded with, and each module's BTF,
 * read back by fd or id (BPF_OBJ_GET_INFO_BY_FD with struct bpf_btf_info: once for the size
 * and name, once for the bytes), as bpftool does for `map dump` and `prog dump`.
 */
import { parseBtf, type Btf } from '../btf/index.js';
import { cString } from '../bytes/reader.js';
import type { Fd } from '../sys/index.js';
import { fdById, newInfo, objectIds, objInfo, openById } from './obj-info.js';
import { kernelBtf } from './vmlinux.js';

/** A BTF object in the kernel: its id, name (module name, '' for programs' BTF) and raw bytes. */
export interface KernelBtfObject {
  id: number;
  name: string;
  /** Whether it is the kernel's own BTF (vmlinux or a module's), not one a process loaded. */
  kernel: boolean;
  bytes: Uint8Array;
}

/** Reads a BTF object back from the kernel (two passes: size and name, then data). */
export function btfObjectInfo(fd: number, withBytes = true): KernelBtfObject {
  const subject = `BTF fd ${fd}`;
  const first = objInfo(fd, newInfo('bpf_btf_info').assign({ name: new Uint8Array(64), name_len: 64 }), subject);
  const name = first.pointers.get('name')!;
  const size = first.num('btf_size');
  let bytes = new Uint8Array(0);
  if (withBytes && size > 0) {
    bytes = new Uint8Array(size);
    objInfo(fd, newInfo('bpf_btf_info').assign({ btf: bytes, btf_size: size }), subject);
  }
  return {
    id: first.num('id'),
    name: cString(name),
    kernel: first.num('kernel_btf') !== 0,
    bytes,
  };
}

/**
 * The BTF object with id `id`, parsed (BPF_BTF_GET_FD_BY_ID). Kernel module BTF is split BTF
 * on top of vmlinux's, which is then the kernel's BTF from /sys/kernel/btf/vmlinux.
 *
 * @example
 * const btf = btfById(map.info().btfId);
 */
export function btfById(id: number): Btf {
  using fd = fdById('BTF', id);
  const info = btfObjectInfo(fd.value);
  const isModule = info.kernel && info.name !== 'vmlinux';
  return parseBtf(info.bytes, isModule ? { base: kernelBtf() } : {});
}

/**
 * The fd of the kernel module's BTF object named `name` (for kfuncs, ksyms and attach targets
 * in modules: BPF_PROG_LOAD's fd_array and attach_btf_obj_fd), or undefined. The caller owns
 * the fd.
 */
export function moduleBtfFd(name: string): Fd | undefined {
  for (const id of objectIds('BTF')) {
    let fd: Fd | undefined;
    try {
      fd = openById('BTF', id);
    } catch {
      fd = undefined;
    }
    if (!fd) continue; // freed between listing and opening, or not ours to open
    const info = btfObjectInfo(fd.value, false);
    if (info.kernel && info.name === name) return fd;
    fd.close();
  }
  return undefined;
}
