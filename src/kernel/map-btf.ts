/**
 * A map's types from the kernel: a map created with BTF keeps the BTF object's id and its key
 * and value type ids (bpf_map_info), so any process can decode its entries with the BTF read
 * back by id (btf-info.ts), as bpftool does for `map dump`.
 */
import type { Btf } from '../btf/index.js';
import { btfById } from './btf-info.js';
import { bytes, none, perCpu, u32, type Codec } from './codec.js';
import { btfCodec, type BtfValue } from './codec-btf.js';
import { PER_CPU_TYPES } from './map-cpus.js';
import type { MapInfo } from './map-info.js';

/** Codecs of a map's entries, from the kernel's BTF when the map has it. */
export interface MapCodecs {
  key: Codec<BtfValue | undefined>;
  value: Codec<BtfValue>;
  /** Whether the codecs came from BTF (false: raw bytes). */
  typed: boolean;
}

/** What {@link entryCodecs} needs to know of a map besides its BTF. */
export interface EntryShape {
  keySize: number;
  valueSize: number;
  /** Per-CPU values: an array with one element per possible CPU. */
  perCpu: boolean;
  /** Keys of 4 bytes without BTF are u32 indexes (else bytes). */
  indexKeys: boolean;
}

/**
 * Key and value codecs from BTF type ids (undefined or 0: none), falling back to raw bytes:
 * no key for keyless maps, a u32 for index keys, bytes otherwise.
 */
export function entryCodecs(btf: Btf | undefined, keyTypeId: number | undefined, valueTypeId: number | undefined, shape: EntryShape): { key: Codec<BtfValue | undefined>; value: Codec<BtfValue> } {
  const key = (btf && keyTypeId ? btfCodec(btf, keyTypeId) : shape.keySize === 0 ? none : shape.indexKeys && shape.keySize === 4 ? u32 : bytes(shape.keySize)) as Codec<BtfValue | undefined>;
  const one = (btf && valueTypeId ? btfCodec(btf, valueTypeId) : bytes(shape.valueSize)) as Codec<BtfValue>;
  return { key, value: shape.perCpu ? (perCpu(one) as Codec<BtfValue>) : one };
}

/**
 * The codecs for a map described by `info`: from its BTF (opened by id) when it has one,
 * otherwise raw bytes (keys of 4 bytes as u32 indexes for array types). Per-CPU values are
 * arrays with one element per possible CPU.
 */
export function mapCodecs(info: MapInfo): MapCodecs {
  let btf: Btf | undefined;
  if (info.btfId && (info.btfKeyTypeId || info.btfValueTypeId)) {
    try {
      btf = btfById(info.btfId);
    } catch {
      btf = undefined; // freed meanwhile, or unreadable: fall back to bytes like bpftool
    }
  }
  const isArray = info.type === 'ARRAY' || info.type === 'PERCPU_ARRAY' || info.type === 'PROG_ARRAY' || info.type === 'ARRAY_OF_MAPS';
  const perCpu = info.type !== undefined && PER_CPU_TYPES.has(info.type);
  const { key, value } = entryCodecs(btf, info.btfKeyTypeId, info.btfValueTypeId, { keySize: info.keySize, valueSize: info.valueSize, perCpu, indexKeys: isArray });
  return { key, value, typed: btf !== undefined };
}
