/**
 * BPF_OBJ_GET_INFO_BY_FD and the id commands (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID) for any
 * kind of BPF object: the plumbing under program info, map compatibility checks on pins and
 * reading a loaded program's BTF back. Layouts are the generated ones (src/uapi/layouts.ts).
 */
import { bpf, Errno, Fd, Struct, syscalls } from '../sys/index.js';
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
 * (map_ids, xlated_prog_insns, btf, ...) receive the arrays they ask for.
 */
export function objInfo<F extends string>(fd: number, info: Struct<F>, subject?: string): Struct<F> {
  bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: fd, info_len: info.bytes.byteLength, info: info.bytes }, { subject });
  return info;
}

/** Which id space: programs, maps, BTF objects or links. */
export type IdKind = 'PROG' | 'MAP' | 'BTF' | 'LINK';

/** Every id of `kind` loaded in the kernel, in increasing order (BPF_*_GET_NEXT_ID, 4.13+). */
export function objectIds(kind: IdKind): number[] {
  const ids: number[] = [];
  let id = 0;
  for (;;) {
    const { ret, attr } = bpf(`${kind}_GET_NEXT_ID`, { start_id: id }, { allow: [Errno.ENOENT] });
    if (ret < 0) return ids;
    id = attr.num('next_id');
    ids.push(id);
  }
}

/** An fd for the object with `id` (BPF_*_GET_FD_BY_ID); throws a SyscallError (ENOENT) if it is gone. */
export function fdById(kind: IdKind, id: number): Fd {
  const field = kind === 'PROG' ? 'prog_id' : kind === 'MAP' ? 'map_id' : kind === 'BTF' ? 'btf_id' : 'link_id';
  const { ret } = bpf(`${kind}_GET_FD_BY_ID`, { [field]: id }, { subject: `${kind.toLowerCase()} id ${id}` });
  return new Fd(ret);
}

/** What the kernel says about a map (struct bpf_map_info). */
export interface MapInfoBasics {
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  mapExtra: bigint;
}

/** The fields of bpf_map_info the loader compares (pinned map reuse) and tests check. */
export function mapInfoBasics(fd: number): MapInfoBasics {
  const i = objInfo(fd, newInfo('bpf_map_info'));
  return {
    id: i.num('id'),
    type: i.num('type'),
    keySize: i.num('key_size'),
    valueSize: i.num('value_size'),
    maxEntries: i.num('max_entries'),
    flags: i.num('map_flags'),
    name: i.str('name'),
    btfId: i.num('btf_id'),
    mapExtra: BigInt(i.get('map_extra')),
  };
}

/** A BTF object in the kernel: its id, name (module name, '' for programs' BTF) and raw bytes. */
export interface KernelBtfObject {
  id: number;
  name: string;
  kernel: boolean;
  bytes: Uint8Array;
}

/** Reads a BTF object back from the kernel (two passes: size, then data). */
export function btfObjectInfo(fd: number, withBytes = true): KernelBtfObject {
  const first = objInfo(fd, newInfo('bpf_btf_info').assign({ name: new Uint8Array(64), name_len: 64 }));
  const name = first.pointers.get('name')!;
  const size = first.num('btf_size');
  let bytes = new Uint8Array(0);
  if (withBytes && size > 0) {
    bytes = new Uint8Array(size);
    objInfo(fd, newInfo('bpf_btf_info').assign({ btf: bytes, btf_size: size }));
  }
  const end = name.indexOf(0);
  return {
    id: first.num('id'),
    name: new TextDecoder().decode(name.subarray(0, end < 0 ? name.length : end)),
    kernel: first.num('kernel_btf') !== 0,
    bytes,
  };
}

/**
 * The fd of the kernel module's BTF object named `name` (for kfuncs and ksyms in modules), or
 * undefined. The caller owns the fd.
 */
export function moduleBtfFd(name: string): Fd | undefined {
  for (const id of objectIds('BTF')) {
    let fd: Fd;
    try {
      fd = fdById('BTF', id);
    } catch {
      continue; // freed between listing and opening
    }
    const info = btfObjectInfo(fd.value, false);
    if (info.kernel && info.name === name) return fd;
    fd.close();
  }
  return undefined;
}
