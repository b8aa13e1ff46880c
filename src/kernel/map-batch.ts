/**
 * Batch operations: BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_UPDATE_BATCH
 * and BPF_MAP_DELETE_BATCH move many entries per system call (Linux 5.6+ for hash maps, 5.7+
 * for arrays). Where the kernel or the map type lacks them (ENOTSUPP, EOPNOTSUPP, or EINVAL
 * from kernels that do not know the command) each falls back to one element at a time, with
 * the same results. Keys and values travel packed: entry i's key is keys[i*keySize, ...).
 */
import { TsbpfError } from '../errors.js';
import { bpfAttr, ENOTSUPP, Errno, newAttr, type SyscallError } from '../sys/index.js';
import type { BpfMap } from './map.js';
import { mapError } from './map-errors.js';

/** errnos that mean "no batch operation here" when nothing was processed yet. */
const NO_BATCH = new Set([ENOTSUPP, Errno.EOPNOTSUPP, Errno.EINVAL]);
// EINVAL is also the answer to a bad flag; falling back then is harmless, as the per-element
// operation refuses the same flag with a precise error.
/** `type/command` pairs this kernel answered ENOTSUPP/EOPNOTSUPP for: not asked again. */
const unsupported = new Set<string>();
const ALL = { allow: 'all' } as const;

/**
 * Where a batched walk stands. The kernel keeps its position in an opaque token (a u32 bucket
 * for hash maps, the last key for arrays, so max(keySize, 4) bytes); the per-element fallback
 * keeps the last key instead.
 */
export class BatchCursor {
  /** The kernel's position token (in_batch/out_batch). */
  readonly token: Uint8Array;
  /** Whether the token holds a position (the first call passes no in_batch). */
  started = false;
  /** Whether the walk has reached the end. */
  done = false;
  /** Set once the kernel refused the batch command and the walk went per element. */
  perElement = false;
  /** The per-element walk's last key. */
  lastKey: Uint8Array | undefined;

  constructor(map: Pick<BpfMap, 'keySize'>) {
    this.token = new Uint8Array(Math.max(map.keySize, 4));
  }
}

/** A hash bucket holds more entries than the batch has room for (ENOSPC); retry with more room. */
export class MapBatchTooSmallError extends TsbpfError {
  override name = 'MapBatchTooSmallError';
  constructor(
    readonly mapName: string,
    readonly room: number,
  ) {
    super(`map '${mapName}': a hash bucket holds more than ${room} entries; use a larger batch`);
  }
}

/** A map error from a batch, with how many elements the kernel had applied before failing. */
export type BatchError = SyscallError & { processed?: number };

function fail(map: BpfMap, op: string, errno: number, flags: number, processed: number): BatchError {
  return Object.assign(mapError(op, errno, map, flags), { processed });
}

function room(map: BpfMap, keys: Uint8Array, values: Uint8Array): number {
  const byKeys = map.keySize > 0 ? Math.floor(keys.byteLength / map.keySize) : Infinity;
  const byValues = map.userValueSize > 0 ? Math.floor(values.byteLength / map.userValueSize) : Infinity;
  const n = Math.min(byKeys, byValues);
  if (!Number.isFinite(n) || n < 1) throw new TsbpfError(`map '${map.name}': batch buffers have no room for an entry (${keys.byteLength} key bytes, ${values.byteLength} value bytes)`);
  return n;
}

/**
 * Reads up to as many entries as `keysOut`/`valuesOut` hold, continuing from `cursor`, and
 * returns how many it read; `cursor.done` turns true at the end. With `del` the entries are
 * also deleted (hash maps only). Per-CPU values take `map.userValueSize` bytes each.
 */
export function lookupBatch(map: BpfMap, cursor: BatchCursor, keysOut: Uint8Array, valuesOut: Uint8Array, del = false, elemFlags = 0): number {
  const cmd = del ? 'MAP_LOOKUP_AND_DELETE_BATCH' : 'MAP_LOOKUP_BATCH';
  const op = `BPF_${cmd}`;
  const max = room(map, keysOut, valuesOut);
  if (cursor.done) return 0;
  const cacheKey = `${map.type}/${cmd}`;
  if (!cursor.perElement && !unsupported.has(cacheKey)) {
    const fd = map.checkOpen(op);
    const attr = newAttr(cmd).assign({ in_batch: cursor.started ? cursor.token : 0n, out_batch: cursor.token, keys: keysOut, values: valuesOut, count: max, map_fd: fd, elem_flags: elemFlags });
    const ret = bpfAttr(cmd, attr, ALL).ret;
    const count = attr.num('count');
    if (ret === 0 || ret === -Errno.ENOENT) {
      cursor.started = true;
      if (ret === -Errno.ENOENT) cursor.done = true;
      return count;
    }
    const errno = -ret;
    if (errno === Errno.ENOSPC) throw new MapBatchTooSmallError(map.name, max);
    if (!NO_BATCH.has(errno) || cursor.started) throw fail(map, op, errno, elemFlags, count);
    if (errno !== Errno.EINVAL) unsupported.add(cacheKey);
  }
  cursor.perElement = true;
  const ks = map.keySize;
  const vs = map.userValueSize;
  let n = 0;
  while (n < max) {
    // Deleting as we go makes the first key the next one; a plain walk continues from the last.
    const key = map.nextKeyBytes(del ? undefined : cursor.lastKey);
    if (key === undefined) {
      cursor.done = true;
      break;
    }
    cursor.lastKey = key;
    const value = del ? map.lookupAndDeleteBytes(key, elemFlags) : map.lookupBytes(key, undefined, elemFlags);
    if (value === undefined) continue; // deleted meanwhile, or an empty slot
    keysOut.set(key, n * ks);
    valuesOut.set(value, n * vs);
    n++;
  }
  return n;
}

/**
 * Stores `count` packed entries (BPF_MAP_UPDATE_BATCH) with update flags `flags` (ANY,
 * NOEXIST, EXIST, LOCK) and returns how many were stored. A failure part way is the typed map
 * error (MapFullError, ...) with `processed` set to the number already stored.
 */
export function updateBatch(map: BpfMap, keys: Uint8Array, values: Uint8Array, flags = 0): number {
  const op = 'BPF_MAP_UPDATE_BATCH';
  const count = packedCount(map, keys, values);
  if (count === 0) return 0;
  const cacheKey = `${map.type}/MAP_UPDATE_BATCH`;
  if (!unsupported.has(cacheKey)) {
    const attr = newAttr('MAP_UPDATE_BATCH').assign({ keys, values, count, map_fd: map.checkOpen(op), elem_flags: flags });
    const ret = bpfAttr('MAP_UPDATE_BATCH', attr, ALL).ret;
    if (ret === 0) return count;
    // count is an input too: after ENOTSUPP/EINVAL the kernel never ran the batch, and
    // count still holds what was asked, not what was done.
    if (!NO_BATCH.has(-ret)) throw fail(map, op, -ret, flags, attr.num('count'));
    if (-ret !== Errno.EINVAL) unsupported.add(cacheKey);
  }
  const ks = map.keySize;
  const vs = map.userValueSize;
  for (let i = 0; i < count; i++) {
    try {
      map.updateBytes(keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs), flags);
    } catch (e) {
      throw Object.assign(e as Error, { processed: i });
    }
  }
  return count;
}

function packedCount(map: BpfMap, keys: Uint8Array, values: Uint8Array | undefined): number {
  if (map.keySize === 0) throw new TsbpfError(`map '${map.name}' (${map.type}) has no keys: batch operations need keys`);
  if (keys.byteLength % map.keySize !== 0) throw new TsbpfError(`map '${map.name}': ${keys.byteLength} key bytes are not a whole number of ${map.keySize}-byte keys`);
  const count = keys.byteLength / map.keySize;
  if (values && values.byteLength !== count * map.userValueSize) {
    throw new TsbpfError(`map '${map.name}': ${count} keys need ${count * map.userValueSize} value bytes (${map.userValueSize} each), got ${values.byteLength}`);
  }
  return count;
}

/**
 * Deletes the packed `keys` (BPF_MAP_DELETE_BATCH) and returns how many were there: a key not
 * in the map is skipped (the kernel stops at it; the batch resumes after it).
 */
export function deleteBatch(map: BpfMap, keys: Uint8Array): number {
  const op = 'BPF_MAP_DELETE_BATCH';
  const count = packedCount(map, keys, undefined);
  const ks = map.keySize;
  const cacheKey = `${map.type}/MAP_DELETE_BATCH`;
  let deleted = 0;
  let at = 0;
  while (at < count && !unsupported.has(cacheKey)) {
    const attr = newAttr('MAP_DELETE_BATCH').assign({ keys: keys.subarray(at * ks), count: count - at, map_fd: map.checkOpen(op) });
    const ret = bpfAttr('MAP_DELETE_BATCH', attr, ALL).ret;
    const done = attr.num('count');
    if (ret === 0) return deleted + count - at;
    if (ret === -Errno.ENOENT) {
      deleted += done;
      at += done + 1;
      continue;
    }
    if (!NO_BATCH.has(-ret) || at > 0) throw fail(map, op, -ret, 0, deleted + done);
    if (-ret !== Errno.EINVAL) unsupported.add(cacheKey);
    break;
  }
  for (; at < count; at++) if (map.deleteBytes(keys.subarray(at * ks, (at + 1) * ks))) deleted++;
  return deleted;
}

/**
 * Every entry, read `chunk` at a time with BPF_MAP_LOOKUP_BATCH (or per element), and with
 * `andDelete` deleted as it is read. Each chunk has its own buffers, so yielded keys and values
 * stay valid; a chunk too small for a hash bucket is doubled.
 */
function* chunks(map: BpfMap, chunk: number, andDelete: boolean): Generator<[Uint8Array, Uint8Array], void, undefined> {
  const cursor = new BatchCursor(map);
  let size = Math.max(1, Math.min(chunk, map.maxEntries));
  const ks = map.keySize;
  const vs = map.userValueSize;
  while (!cursor.done) {
    const keys = new Uint8Array(size * ks);
    const values = new Uint8Array(size * vs);
    let n: number;
    try {
      n = lookupBatch(map, cursor, keys, values, andDelete);
    } catch (e) {
      if (!(e instanceof MapBatchTooSmallError)) throw e;
      size *= 2;
      continue;
    }
    for (let i = 0; i < n; i++) yield [keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs)];
  }
}

/**
 * Every entry, read `chunk` at a time with BPF_MAP_LOOKUP_BATCH (or per element). Each chunk
 * has its own buffers, so yielded keys and values stay valid.
 */
export function batchEntries(map: BpfMap, chunk = 4096): Generator<[Uint8Array, Uint8Array], void, undefined> {
  return chunks(map, chunk, false);
}

/** Reads and deletes every entry (BPF_MAP_LOOKUP_AND_DELETE_BATCH, or per element). */
export function drainBatch(map: BpfMap, chunk = 4096): Array<[Uint8Array, Uint8Array]> {
  return [...chunks(map, chunk, true)];
}
