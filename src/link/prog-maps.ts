/**
 * The maps a loaded program uses, found through the kernel (bpf_prog_info.map_ids, then
 * BPF_MAP_GET_FD_BY_ID and bpf_map_info): how a USDT attachment finds the usdt.bpf.h maps of a
 * program without being handed them.
 */
import { BpfMap, type MapTypeName } from '../kernel/map.js';
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, Struct, syscalls } from '../sys/index.js';
import { MapType } from '../uapi/enums.js';
import { STRUCTS } from '../uapi/layouts.js';

function struct<K extends 'bpf_prog_info' | 'bpf_map_info'>(name: K): Struct<string> {
  const layout = STRUCTS[name];
  const sys = syscalls();
  return new Struct<string>(name, layout.fields, layout.size, (v) => sys.addressOf(v));
}

function infoOf(fd: number, info: Struct<string>, subject: string): void {
  bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: fd, info_len: info.bytes.byteLength, info: info.bytes }, { subject });
}

/**
 * Opens the program's maps whose (kernel, 15-character) names `pick` accepts. The caller owns
 * the returned maps.
 */
export function programMaps(program: Program, pick: (name: string) => boolean): BpfMap[] {
  const subject = `program '${program.name}'`;
  const first = struct('bpf_prog_info');
  infoOf(program.fd.value, first, subject);
  const count = first.num('nr_map_ids');
  if (count === 0) return [];
  const ids = new Uint32Array(count);
  const second = struct('bpf_prog_info').set('nr_map_ids', count).set('map_ids', new Uint8Array(ids.buffer));
  infoOf(program.fd.value, second, subject);
  const out: BpfMap[] = [];
  for (const id of ids) {
    const { ret } = bpf('MAP_GET_FD_BY_ID', { map_id: id }, { allow: [Errno.ENOENT], subject: `map ${id}` });
    if (ret < 0) continue;
    const fd = new Fd(ret);
    const info = struct('bpf_map_info');
    try {
      infoOf(fd.value, info, `map ${id}`);
    } catch (err) {
      fd.close();
      throw err;
    }
    const name = info.str('name');
    const type = Object.entries(MapType).find(([, v]) => v === info.num('type'))?.[0] as MapTypeName | undefined;
    if (!pick(name) || !type) {
      fd.close();
      continue;
    }
    out.push(BpfMap.fromFd(fd, { type, keySize: info.num('key_size'), valueSize: info.num('value_size'), maxEntries: info.num('max_entries'), flags: info.num('map_flags'), name }));
  }
  return out;
}

/** The kernel's id of a map (bpf_map_info.id): the same map opened twice has one id. */
export function mapIdOf(map: BpfMap): number {
  const info = struct('bpf_map_info');
  infoOf(map.fd.value, info, `map '${map.name}'`);
  return info.num('id');
}
