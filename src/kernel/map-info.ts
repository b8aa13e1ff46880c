/**
 * What the kernel says about a map (BPF_OBJ_GET_INFO_BY_FD with struct bpf_map_info), and the
 * maps it holds: their ids (BPF_MAP_GET_NEXT_ID) and fds by id (BPF_MAP_GET_FD_BY_ID).
 */
import { TsbpfError } from '../errors.js';
import type { Fd } from '../sys/index.js';
import { MapType } from '../uapi/enums.js';
import { newInfo, objectIds, objInfo, openById } from './obj-info.js';

/** A map type name as in `enum bpf_map_type` without its prefix ('HASH', 'RINGBUF', ...). */
export type MapTypeName = keyof typeof MapType;

const TYPE_NAMES = new Map<number, MapTypeName>();
for (const [name, value] of Object.entries(MapType) as Array<[MapTypeName, number]>) {
  // CGROUP_STORAGE and CGROUP_STORAGE_DEPRECATED share a value: prefer the current name.
  if (!TYPE_NAMES.has(value) || TYPE_NAMES.get(value)!.endsWith('_DEPRECATED')) TYPE_NAMES.set(value, name);
}

/** The name of a map type number, or undefined for a type newer than tsbpf's tables. */
export function mapTypeName(type: number): MapTypeName | undefined {
  return TYPE_NAMES.get(type);
}

/** struct bpf_map_info, with names as in the rest of tsbpf. */
export interface MapInfo {
  /** The type's name; undefined when this kernel has a type tsbpf does not know (see typeId). */
  type: MapTypeName | undefined;
  /** The type number (enum bpf_map_type). */
  typeId: number;
  /** The map's id, unique while it exists (what bpftool shows). */
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* flags it was created with (see MapFlag). */
  flags: number;
  name: string;
  /** Network device of an offloaded map, 0 otherwise. */
  ifindex: number;
  /** Id of the BTF object describing key and value (0 without BTF). */
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** For struct_ops maps: the value's type in vmlinux BTF. */
  btfVmlinuxValueTypeId: number;
  /** Type-specific extra (bloom filter hash count, arena address). */
  mapExtra: bigint;
}

/** Reads a map's info (BPF_OBJ_GET_INFO_BY_FD); `subject` names the map in errors. */
export function readMapInfo(fd: number, subject?: string): MapInfo {
  const info = objInfo(fd, newInfo('bpf_map_info'), subject ?? `map fd ${fd}`);
  const typeId = info.num('type');
  return {
    type: mapTypeName(typeId),
    typeId,
    id: info.num('id'),
    keySize: info.num('key_size'),
    valueSize: info.num('value_size'),
    maxEntries: info.num('max_entries'),
    flags: info.num('map_flags'),
    name: info.str('name'),
    ifindex: info.num('ifindex'),
    btfId: info.num('btf_id'),
    btfKeyTypeId: info.num('btf_key_type_id'),
    btfValueTypeId: info.num('btf_value_type_id'),
    btfVmlinuxValueTypeId: info.num('btf_vmlinux_value_type_id'),
    mapExtra: info.get('map_extra') as bigint,
  };
}

/**
 * The ids of every map in the system, ascending (BPF_MAP_GET_NEXT_ID). Maps come and go while
 * this runs: an id in the list may be gone by the time it is opened.
 *
 * @example
 * for (const id of mapIds()) console.log(id);
 */
export function mapIds(): number[] {
  return objectIds('MAP');
}

/** An error for an id no map has (any more). */
export class MapNotFoundError extends TsbpfError {
  override name = 'MapNotFoundError';
  constructor(readonly id: number) {
    super(`no map has id ${id} (it may have been freed); list ids with "tsbpf map list"`);
  }
}

/** Opens a map by id (BPF_MAP_GET_FD_BY_ID); the caller owns the fd. */
export function mapFdById(id: number, flags = 0): Fd {
  if (!Number.isInteger(id) || id <= 0 || id > 0xffffffff) throw new TsbpfError(`not a map id: ${id}`);
  const fd = openById('MAP', id, flags);
  if (!fd) throw new MapNotFoundError(id);
  return fd;
}

/** The fields of bpf_map_info the loader compares when it reuses a pinned map (type as its number). */
export type MapInfoBasics = Pick<MapInfo, 'id' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags' | 'name' | 'btfId' | 'mapExtra'> & { type: number };

/** {@link readMapInfo} with the type as its number, which a pin compatibility check compares. */
export function mapInfoBasics(fd: number): MapInfoBasics {
  const { id, typeId, keySize, valueSize, maxEntries, flags, name, btfId, mapExtra } = readMapInfo(fd);
  return { id, type: typeId, keySize, valueSize, maxEntries, flags, name, btfId, mapExtra };
}
