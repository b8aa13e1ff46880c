/**
 * The map model interface and the kernel constants behind it. Map type numbers follow
 * `enum bpf_map_type`, update flags `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` and the ring buffer
 * layout come from include/uapi/linux/bpf.h; errno values from
 * include/uapi/asm-generic/errno-base.h. Map operations return 0 or a negative errno, as the
 * kernel's map helpers do.
 */
import { TsbpfError } from '../../errors.js';

/** Map types, `enum bpf_map_type`, as the running kernel's BTF names them. */
export { MapType } from '../../uapi/enums.js';

/** Flags of map_update_elem and map_push_elem (include/uapi/linux/bpf.h, `BPF_ANY` ...). */
export const UpdateFlags = {
  /** Create a new element or update an existing one. */
  ANY: 0,
  /** Create a new element only; -EEXIST if it exists. */
  NOEXIST: 1,
  /** Update an existing element only; -ENOENT if it does not exist. */
  EXIST: 2,
  /**
   * Spin-locked update: for maps whose value holds a struct bpf_spin_lock (MapSpec.spinLock),
   * accepted and otherwise ignored (the VM is single-threaded); -EINVAL for other maps.
   */
  F_LOCK: 4,
} as const;
export type UpdateFlags = (typeof UpdateFlags)[keyof typeof UpdateFlags];

/** errno values (include/uapi/asm-generic/errno-base.h); helpers return their negation. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  ENOMEM: 12,
  EAGAIN: 11,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  /** include/linux/errno.h: operation not supported by this map type. */
  ENOTSUPP: 524,
} as const;
export type Errno = (typeof Errno)[keyof typeof Errno];

/** Shape of a map, as in `struct bpf_map_def` / BTF map definitions. */
export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name?: string;
  /**
   * The value holds a struct bpf_spin_lock, so updates may pass BPF_F_LOCK; the kernel refuses
   * BPF_F_LOCK with -EINVAL for maps without one (kernel/bpf/hashtab.c, arraymap.c).
   */
  spinLock?: boolean;
}

/**
 * A model of one kernel map. Keys and values are byte arrays of exactly keySize/valueSize
 * bytes. `lookup` returns the live storage of the value (what a program's pointer points at),
 * so writes through it change the map, as in the kernel.
 */
export interface MapModel {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The value stored under `key` (for per-CPU maps, the slot of `cpu`), or undefined. */
  lookup(key: Uint8Array, cpu?: number): Uint8Array | undefined;
  /** Stores `value` under `key` with BPF_ANY/NOEXIST/EXIST semantics; 0 or -errno. */
  update(key: Uint8Array, value: Uint8Array, flags?: number, cpu?: number): number;
  /** Removes `key`; 0 or -errno (-ENOENT when absent, -EINVAL where deleting is impossible). */
  delete(key: Uint8Array): number;
  /** The key after `key` in iteration order (the first key when `key` is undefined). */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined;
  /** Number of elements present. */
  readonly size: number;
  /** Queue/stack: adds a value; 0 or -errno. */
  push?(value: Uint8Array, flags?: number): number;
  /** Queue/stack: removes and returns the next value. */
  pop?(): Uint8Array | undefined;
  /** Queue/stack: returns the next value without removing it. */
  peek?(): Uint8Array | undefined;
}

/** Throws a MapSpecError when a map spec does not fit the rules of its type. */
export function checkSpec(spec: MapSpec, rules: { key?: 'any' | 'zero' | number; value?: 'any' | 'zero' }): void {
  const bad = (what: string): never => {
    throw new MapSpecError(spec, what);
  };
  if (!Number.isInteger(spec.maxEntries) || spec.maxEntries <= 0) bad('max_entries must be a positive integer');
  if (rules.key === 'zero' && spec.keySize !== 0) bad('key size must be 0');
  if (typeof rules.key === 'number' && spec.keySize !== rules.key) bad(`key size must be ${rules.key}`);
  if ((rules.key ?? 'any') === 'any' && !(Number.isInteger(spec.keySize) && spec.keySize > 0)) bad('key size must be positive');
  if (rules.value === 'zero' && spec.valueSize !== 0) bad('value size must be 0');
  if ((rules.value ?? 'any') === 'any' && !(Number.isInteger(spec.valueSize) && spec.valueSize > 0)) {
    bad('value size must be positive');
  }
}


/** A map definition the model cannot represent (sizes, max_entries...). */
export class MapSpecError extends TsbpfError {
  override name = 'MapSpecError';
  constructor(
    readonly spec: MapSpec,
    readonly detail: string,
  ) {
    super(`map ${spec.name ?? '(unnamed)'} of type ${spec.type}: ${detail}`);
  }
}

/** A string key for a byte array, for JavaScript Maps. */
export function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
  return s;
}

/** The bytes of a {@link keyString}. */
export function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Throws a MapSpecError unless `bytes` is exactly `size` bytes long (user-side API misuse). */
export function needSize(map: MapModel, bytes: Uint8Array, size: number, what: 'key' | 'value'): void {
  if (bytes.byteLength !== size) {
    throw new MapSpecError(map, `${what} must be ${size} bytes, got ${bytes.byteLength}`);
  }
}

/**
 * Rejects update flags other than BPF_ANY/NOEXIST/EXIST, plus BPF_F_LOCK where the map has a
 * spin lock: -EINVAL.
 */
export function badUpdateFlags(flags: number, spinLock = false): boolean {
  if ((flags & UpdateFlags.F_LOCK) !== 0 && !spinLock) return true;
  const f = flags & ~UpdateFlags.F_LOCK;
  return f !== UpdateFlags.ANY && f !== UpdateFlags.NOEXIST && f !== UpdateFlags.EXIST;
}
