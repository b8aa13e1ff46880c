/**
 * The maps a loaded program uses, found through the kernel (bpf_prog_info.map_ids, then
 * BPF_MAP_GET_FD_BY_ID and bpf_map_info): how a USDT attachment finds the usdt.bpf.h maps of a
 * program without being handed them.
 */
import { readMapInfo } from '../kernel/map-info.js';
import { BpfMap } from '../kernel/map.js';
import { openById } from '../kernel/obj-info.js';
import { programInfo } from '../kernel/prog-info.js';
import type { Program } from '../kernel/program.js';

/**
 * Opens the program's maps whose (kernel, 15-character) names `pick` accepts. The caller owns
 * the returned maps.
 */
export function programMaps(program: Program, pick: (name: string) => boolean): BpfMap[] {
  const out: BpfMap[] = [];
  for (const id of programInfo(program.fd.value, `program '${program.name}'`).mapIds) {
    const fd = openById('MAP', id);
    if (!fd) continue;
    let info;
    try {
      info = readMapInfo(fd.value, `map ${id}`);
    } catch (err) {
      fd.close();
      throw err;
    }
    const { name, type } = info;
    if (!pick(name) || !type) {
      fd.close();
      continue;
    }
    out.push(BpfMap.fromFd(fd, { type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags, name }));
  }
  return out;
}

/** The kernel's id of a map (bpf_map_info.id): the same map opened twice has one id. */
export function mapIdOf(map: BpfMap): number {
  return map.info().id;
}
