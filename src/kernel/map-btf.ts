/**
 * A map's types from the kernel: a map created with BTF keeps the BTF object's id and its key
 * and value type ids (bpf_map_info), so any process can decode its entries. The BTF is opened
 * by id (BPF_BTF_GET_FD_BY_ID) and read back (BPF_OBJ_GET_INFO_BY_FD with struct bpf_btf_info:
 * once for the size, once for the bytes), as bpftool does for `map dump`.
 */
import { readFileSync } from 'node:fs';
import { parseBtf, type Btf } from '../btf/index.js';
import { bpf, Fd, Struct, syscalls } from '../sys/index.js';
import { STRUCTS } from '../uapi/layouts.js';
import { bytes, none, perCpu, u32, type Codec } from './codec.js';
import { btfCodec, type BtfValue } from './codec-btf.js';
import { PER_CPU_TYPES } from './map-cpus.js';
import type { MapInfo } from './map-info.js';

type BtfInfoField = keyof typeof STRUCTS.bpf_btf_info.fields & string;

function btfInfo(fd: number, values: Partial<Record<BtfInfoField, Uint8Array | number>>): Struct<BtfInfoField> {
  const layout = STRUCTS.bpf_btf_info;
  const sys = syscalls();
  const info = new Struct<BtfInfoField>('bpf_btf_info', layout.fields, layout.size, (v) => sys.addressOf(v)).assign(values);
  bpf('OBJ_GET_INFO_BY_FD', { bpf_fd: fd, info_len: layout.size, info: info.bytes }, { subject: `BTF fd ${fd}` });
  return info;
}

let vmlinux: Btf | undefined;

/**
 * The BTF object with id `id`, parsed. Kernel module BTF is split BTF on top of vmlinux's,
 * which is then read from /sys/kernel/btf/vmlinux as its base.
 */
export function btfById(id: number): Btf {
  const fd = new Fd(bpf('BTF_GET_FD_BY_ID', { btf_id: id }, { subject: `BTF id ${id}` }).ret);
  try {
    const name = new Uint8Array(64);
    const first = btfInfo(fd.value, { name, name_len: name.byteLength });
    const size = first.num('btf_size');
    const data = new Uint8Array(size);
    btfInfo(fd.value, { btf: data, btf_size: size });
    const end = name.indexOf(0);
    const objName = new TextDecoder().decode(name.subarray(0, end < 0 ? name.length : end));
    const isModule = first.num('kernel_btf') !== 0 && objName !== 'vmlinux';
    return parseBtf(data, isModule ? { base: (vmlinux ??= parseBtf(readFileSync('/sys/kernel/btf/vmlinux'))) } : {});
  } finally {
    fd.close();
  }
}

/** Codecs of a map's entries, from the kernel's BTF when the map has it. */
export interface MapCodecs {
  key: Codec<BtfValue | undefined>;
  value: Codec<BtfValue>;
  /** Whether the codecs came from BTF (false: raw bytes). */
  typed: boolean;
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
  const key = (btf && info.btfKeyTypeId ? btfCodec(btf, info.btfKeyTypeId) : info.keySize === 0 ? none : isArray && info.keySize === 4 ? u32 : bytes(info.keySize)) as Codec<BtfValue | undefined>;
  const one = (btf && info.btfValueTypeId ? btfCodec(btf, info.btfValueTypeId) : bytes(info.valueSize)) as Codec<BtfValue>;
  const value = info.type && PER_CPU_TYPES.has(info.type) ? (perCpu(one) as Codec<BtfValue>) : one;
  return { key, value, typed: btf !== undefined };
}
