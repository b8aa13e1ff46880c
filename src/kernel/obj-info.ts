/**
 * BPF_OBJ_GET_INFO_BY_FD and the id commands (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID) for any
 * kind of BPF object, and what kind of object an fd is. Map, program, link and BTF specifics
 * are built on these: map-info.ts, prog-info.ts, btf-info.ts and link/info.ts. Layouts are the
 * generated ones (src/uapi/layouts.ts).
 */
import { readlinkSync } from 'node:fs';
import { bpf, Errno, Fd, nativeSyscalls, Struct, syscallError, syscalls } from '../sys/index.js';
import { STRUCTS } from '../uapi/layouts.js';

/** The info structs the kernel fills (struct bpf_prog_info, bpf_map_info, bpf_btf_info, bpf_link_info). */
export type InfoLayout = 'bpf_prog_info' | 'bpf_map_info' | 'bpf_btf_info' | 'bpf_link_info';
/** Field names of one info struct. */
export type InfoField<L extends InfoLayout> = Extract<keyof (typeof STRUCTS)[L]['fields'], string>;

/** A fresh info struct whose pointer fields can be set before {@link objInfo}. */
export function newInfo<L extends InfoLayout>(layout: L): Struct<InfoField<L>> {
  const l = STRUCTS[layout];
  const sys = syscalls();
  return new Struct<InfoField<L>>(layout, l.fields, l.size, (v) => sys.addressOf(v));
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into `info` (kernel 4.13+). Pointer fields set in `info` beforehand
 * (map_ids, xlated_prog_insns, btf, ...) receive the arrays they ask for. `subject` names the
 * object in errors.
 */
export function objInfo<F extends string>(fd: number, info: Struct<F>, subject?: string): Struct<F> {
  bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: fd, info_len: info.bytes.byteLength, info: info.bytes }, { subject });
  return info;
}

/** Which id space: programs, maps, BTF objects or links. */
export type IdKind = 'PROG' | 'MAP' | 'BTF' | 'LINK';

/**
 * Every id of `kind` loaded in the kernel, in increasing order (BPF_*_GET_NEXT_ID, 4.13+).
 * Objects come and go while this runs: an id in the list may be gone by the time it is opened.
 */
export function objectIds(kind: IdKind): number[] {
  const ids: number[] = [];
  let id = 0;
  for (;;) {
    const { ret, attr } = bpf(`${kind}_GET_NEXT_ID`, { start_id: id }, { allow: [Errno.ENOENT], subject: `${kind.toLowerCase()} ids` });
    if (ret < 0) return ids;
    id = attr.num('next_id');
    ids.push(id);
  }
}

const ID_FIELD = { PROG: 'prog_id', MAP: 'map_id', BTF: 'btf_id', LINK: 'link_id' } as const;

/**
 * An fd for the object with `id` (BPF_*_GET_FD_BY_ID), or undefined when no object has that id
 * (any more). `flags` are the open flags (BPF_F_RDONLY, ...). The caller owns the fd.
 */
export function openById(kind: IdKind, id: number, flags = 0): Fd | undefined {
  const { ret } = bpf(`${kind}_GET_FD_BY_ID`, { [ID_FIELD[kind]]: id, open_flags: flags }, { allow: [Errno.ENOENT], subject: `${kind.toLowerCase()} id ${id}` });
  return ret < 0 ? undefined : new Fd(ret);
}

/** An fd for the object with `id` (BPF_*_GET_FD_BY_ID); throws a SyscallError (ENOENT) if it is gone. */
export function fdById(kind: IdKind, id: number): Fd {
  const fd = openById(kind, id);
  if (!fd) throw syscallError(`BPF_${kind}_GET_FD_BY_ID`, Errno.ENOENT, `${kind.toLowerCase()} id ${id}`);
  return fd;
}

/** Whether the real system calls are in use (a fake kernel's fds have no /proc entries). */
function usingNative(): boolean {
  try {
    return syscalls() === nativeSyscalls();
  } catch {
    return false;
  }
}

/**
 * What kind of BPF object an fd refers to, from its anon inode ("anon_inode:bpf-map"): pins
 * and ids do not say whether they hold a map or a program until the fd is open.
 */
export function bpfObjectKind(fd: number): 'map' | 'program' | 'link' | 'btf' | 'other' | 'unknown' {
  if (!usingNative()) return 'unknown';
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'other';
  }
  if (target === 'anon_inode:bpf-map') return 'map';
  if (target === 'anon_inode:bpf-prog') return 'program';
  if (target === 'anon_inode:bpf_link') return 'link';
  if (target === 'anon_inode:btf') return 'btf';
  return 'other';
}
