/**
 * Creating the maps of an object the way libbpf's bpf_object__create_maps does: shape fixes the
 * kernel expects (ring buffer sizes, perf event arrays sized by CPU count), BTF key/value types
 * where the kernel accepts them (and a retry without when it does not), inner map templates for
 * maps of maps, initial contents of global data, freezing .rodata/.kconfig, and pinning by name
 * with reuse of a compatible existing pin.
 */
import { join } from 'node:path';
import { TsbpfError } from '../errors.js';
import type { MapSpec } from '../object/index.js';
import { bpf, Errno, Fd, SyscallError } from '../sys/index.js';
import { MapType } from '../uapi/enums.js';
import { BpfMap, type MapCreateOptions, type MapTypeName } from './map.js';
import { possibleCpus } from './map-cpus.js';
import { mapInfoBasics } from './map-info.js';
import { openPinnedFd, pinFd, PinNotFoundError, preparePinPath } from './pin.js';

/** A pinned map exists under the map's name but has a different shape than the object's. */
export class PinnedMapMismatchError extends TsbpfError {
  override name = 'PinnedMapMismatchError';
  constructor(
    readonly map: string,
    readonly path: string,
    /** The first field that differs: 'type', 'key_size', 'value_size', 'max_entries', 'map_flags', 'map_extra'. */
    readonly field: string,
    readonly pinned: number | bigint | string,
    readonly wanted: number | bigint | string,
  ) {
    super(`map '${map}': the map pinned at ${path} has ${field} ${pinned}, the object wants ${wanted}; remove the pin (rm ${path}) or use another pinPath`);
  }
}

/** Map types created without BTF key/value ids (libbpf clears them for these). */
const NO_BTF_TYPES = new Set<string>([
  'PERF_EVENT_ARRAY', 'CGROUP_ARRAY', 'STACK_TRACE', 'ARRAY_OF_MAPS', 'HASH_OF_MAPS', 'DEVMAP', 'DEVMAP_HASH',
  'CPUMAP', 'XSKMAP', 'SOCKMAP', 'SOCKHASH', 'QUEUE', 'STACK', 'RINGBUF', 'USER_RINGBUF', 'ARENA',
]);

const PAGE_SIZE = 4096;

/** Ring buffer sizes must be a power-of-two number of pages (libbpf's adjust_ringbuf_sz). */
function ringbufSize(size: number): number {
  let n = PAGE_SIZE;
  while (n < size) n *= 2;
  return n;
}

/** Characters the kernel accepts in object names. */
const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_.]/g, '_');

/**
 * The name the kernel sees: the map's own, or for global data `<object prefix><section>` as libbpf
 * builds it ('features.rodata', 'feature.kconfig'), cut to 15 characters.
 */
export function kernelMapName(spec: MapSpec, objectName: string | undefined): string {
  if (spec.data === undefined) return sanitize(spec.name).slice(0, 15);
  // Custom sections (.data.foo) keep their own name; the standard ones get a prefix.
  if (!objectName || spec.name.indexOf('.', 1) > 0) return sanitize(spec.name).slice(0, 15);
  const sfx = Math.max(7, spec.name.length);
  const pfx = Math.max(0, Math.min(15 - sfx, objectName.length));
  return sanitize(objectName.slice(0, pfx) + spec.name).slice(0, 15);
}

/** The BPF_MAP_CREATE options of a spec, with libbpf's shape fixes. */
export function createOptions(spec: MapSpec, objectName: string | undefined, mmapable: boolean): MapCreateOptions {
  if (!(spec.type in MapType)) throw new TsbpfError(`map '${spec.name}': unknown map type '${spec.type}'`);
  const type = spec.type as MapTypeName;
  let { keySize, valueSize, maxEntries } = spec;
  let flags = spec.flags;
  if (type === 'RINGBUF' || type === 'USER_RINGBUF') {
    keySize = 0;
    valueSize = 0;
    maxEntries = ringbufSize(maxEntries);
  } else if (type === 'PERF_EVENT_ARRAY') {
    keySize ||= 4;
    valueSize ||= 4;
    maxEntries ||= possibleCpus();
  }
  // Without BPF_F_MMAPABLE support (before 5.5), data maps are plain arrays.
  if (!mmapable) flags &= ~(1 << 10);
  return {
    type,
    keySize,
    valueSize,
    maxEntries,
    flags,
    name: kernelMapName(spec, objectName),
    numaNode: spec.numaNode || undefined,
    mapExtra: spec.mapExtra || undefined,
  };
}

/** What the loader needs to create one map. */
export interface MapCreateContext {
  btfFd: number | undefined;
  /** BTF id of the .kconfig/.data DATASEC etc. when the spec does not carry it. */
  valueTypeOf(spec: MapSpec): number | undefined;
  objectName: string | undefined;
  pinPath: string;
  mmapable: boolean;
}

/** A created (or reused) map. */
export interface CreatedMap {
  map: BpfMap;
  spec: MapSpec;
  /** Opened from an existing pin: not initialised, and not unpinned if the load fails. */
  reused: boolean;
  /** Where this load pinned it (new pins only). */
  pinnedAt: string | undefined;
}

/** Creates the inner map template of a map of maps; the caller closes it once the outer map exists. */
function createInner(spec: MapSpec, ctx: MapCreateContext): BpfMap {
  const inner = spec.innerMap!;
  return BpfMap.create(createOptions({ ...inner, name: `${spec.name}.inner` }, undefined, ctx.mmapable));
}

/** BPF_MAP_CREATE with BTF when there is some, retrying without it if the kernel refuses it. */
function createWithBtf(spec: MapSpec, options: MapCreateOptions, ctx: MapCreateContext): BpfMap {
  const valueTypeId = spec.valueType ?? ctx.valueTypeOf(spec) ?? 0;
  const keyTypeId = spec.data !== undefined ? 0 : (spec.keyType ?? 0);
  const useBtf = ctx.btfFd !== undefined && valueTypeId !== 0 && !NO_BTF_TYPES.has(spec.type);
  if (!useBtf) return BpfMap.create(options);
  try {
    return BpfMap.create({ ...options, btf: { fd: ctx.btfFd!, keyTypeId, valueTypeId } });
  } catch (err) {
    // Old kernels refuse BTF for some map types (EINVAL, ENOTSUPP); libbpf then creates the map
    // without it. Other errors (ENOMEM, EPERM, ...) would fail the same way again.
    if (!(err instanceof SyscallError) || ![Errno.EINVAL, Errno.ENOTSUPP, Errno.EOPNOTSUPP].includes(err.errno)) throw err;
    return BpfMap.create(options);
  }
}

/** Compares a pinned map with the spec's shape; throws PinnedMapMismatchError on a difference. */
function checkCompatible(fd: Fd, spec: MapSpec, options: MapCreateOptions, path: string): void {
  const info = mapInfoBasics(fd.value);
  const wanted: Array<[string, number | bigint, number | bigint]> = [
    ['type', info.type, MapType[options.type]],
    ['key_size', info.keySize, options.keySize],
    ['value_size', info.valueSize, options.valueSize],
    ['max_entries', info.maxEntries, options.maxEntries],
    ['map_flags', info.flags, options.flags ?? 0],
    ['map_extra', info.mapExtra, options.mapExtra ?? 0n],
  ];
  for (const [field, pinned, want] of wanted) {
    if (BigInt(pinned) !== BigInt(want)) {
      const show = (v: number | bigint): string | number | bigint => (field === 'type' ? (Object.entries(MapType).find(([, n]) => n === Number(v))?.[0] ?? v) : v);
      throw new PinnedMapMismatchError(spec.name, path, field, show(pinned), show(want));
    }
  }
}

/**
 * Creates one map (or opens its compatible pin). Initial contents are written separately, after
 * constants and kconfig values are known.
 */
export function createMap(spec: MapSpec, ctx: MapCreateContext): CreatedMap {
  if (spec.type === 'STRUCT_OPS') throw new TsbpfError(`map '${spec.name}': struct_ops maps are not supported by tsbpf's loader yet`);
  const options = createOptions(spec, ctx.objectName, ctx.mmapable);
  const path = spec.pinning === 'by_name' ? join(ctx.pinPath, spec.name) : undefined;
  if (path) {
    preparePinPath(path);
    let fd: Fd | undefined;
    try {
      fd = openPinnedFd(path);
    } catch (err) {
      if (!(err instanceof PinNotFoundError)) throw err;
    }
    if (fd) {
      try {
        checkCompatible(fd, spec, options, path);
      } catch (err) {
        fd.close();
        throw err;
      }
      return { map: BpfMap.fromFd(fd, options), spec, reused: true, pinnedAt: undefined };
    }
  }
  let map: BpfMap;
  if (spec.innerMap) {
    const inner = createInner(spec, ctx);
    try {
      map = createWithBtf(spec, { ...options, innerMapFd: inner.fd.value }, ctx);
    } finally {
      inner.close();
    }
  } else map = createWithBtf(spec, options, ctx);
  if (path) {
    try {
      pinFd(map.fd.value, path, `map '${spec.name}'`);
    } catch (err) {
      map.close();
      throw err;
    }
  }
  return { map, spec, reused: false, pinnedAt: path };
}

/** Writes a data map's initial value (key 0) and freezes it when read-only (BPF_MAP_FREEZE, 5.2+). */
export function initDataMap(created: CreatedMap, data: Uint8Array | undefined): void {
  if (created.reused || data === undefined) return;
  const key = new Uint8Array(4);
  if (data.some((b) => b !== 0) || created.spec.readOnly) created.map.updateBytes(key, data);
  if (created.spec.readOnly) bpf('MAP_FREEZE', { map_fd: created.map.fd.value }, { subject: `map '${created.spec.name}'` });
}
