/**
 * Typed errors of map operations. Each names the map, so a message read in a log says which of
 * a program's maps misbehaved, and carries fields a caller can branch on instead of parsing text.
 */
import { TsbpfError } from '../errors.js';
import { ENOTSUPP, Errno, PermissionError, SyscallError, syscallError } from '../sys/index.js';

/**
 * BPF_MAP_UPDATE_ELEM failed with E2BIG: the map holds `maxEntries` entries and the key is new.
 * Delete entries, or create the map with a larger max_entries (or an LRU hash, which evicts).
 */
export class MapFullError extends SyscallError {
  override name = 'MapFullError';
  constructor(
    /** The map's name. */
    readonly mapName: string,
    readonly maxEntries: number,
    op = 'BPF_MAP_UPDATE_ELEM',
  ) {
    super(op, Errno.E2BIG, `map '${mapName}' is full: it holds its max_entries (${maxEntries}) entries; delete some, or create it larger or as an LRU hash`, `map '${mapName}'`);
  }
}

/** An update with {@link UpdateFlag.NOEXIST} found the key already there (EEXIST). */
export class MapKeyExistsError extends SyscallError {
  override name = 'MapKeyExistsError';
  constructor(readonly mapName: string, op = 'BPF_MAP_UPDATE_ELEM') {
    super(op, Errno.EEXIST, `the key is already in map '${mapName}' and the update asked for NOEXIST`, `map '${mapName}'`);
  }
}

/** An update with {@link UpdateFlag.EXIST} did not find the key (ENOENT). */
export class MapKeyNotFoundError extends SyscallError {
  override name = 'MapKeyNotFoundError';
  constructor(readonly mapName: string, op = 'BPF_MAP_UPDATE_ELEM') {
    super(op, Errno.ENOENT, `the key is not in map '${mapName}' and the update asked for EXIST`, `map '${mapName}'`);
  }
}

/**
 * A write the kernel refused with EPERM as root: the map was frozen (BPF_MAP_FREEZE) or created
 * read-only for user space (BPF_F_RDONLY), as libbpf does for .rodata.
 */
export class MapReadOnlyError extends PermissionError {
  override name = 'MapReadOnlyError';
  constructor(readonly mapName: string, op: string, errno: number) {
    super(op, errno, `map '${mapName}' is read-only for user space: it was frozen (BPF_MAP_FREEZE) or created with BPF_F_RDONLY`, `map '${mapName}'`);
  }
}

/** An operation on a map whose fd was already closed. */
export class MapClosedError extends TsbpfError {
  override name = 'MapClosedError';
  constructor(readonly mapName: string, readonly op: string) {
    super(`map '${mapName}' is closed: ${op} after close()`);
  }
}

/** A key or value whose byte length is not the map's (checked before any system call). */
export class MapSizeError extends TsbpfError {
  override name = 'MapSizeError';
  constructor(
    readonly mapName: string,
    /** Which argument: 'key' or 'value'. */
    readonly what: 'key' | 'value',
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`map '${mapName}': the ${what} is ${actual} bytes, but the map's ${what}s are ${expected} bytes`);
  }
}

/**
 * Iteration gave up: keys kept disappearing under it (each deleted cursor restarts a hash map's
 * walk), so it visited more keys than the map can hold several times over.
 */
export class MapIterationAbortedError extends TsbpfError {
  override name = 'MapIterationAbortedError';
  constructor(readonly mapName: string, readonly steps: number) {
    super(`map '${mapName}': iteration aborted after ${steps} steps; entries are being deleted faster than they can be walked`);
  }
}

/** An index at or beyond an array's max_entries (the kernel says E2BIG). */
export class MapIndexError extends SyscallError {
  override name = 'MapIndexError';
  constructor(readonly mapName: string, readonly maxEntries: number, op: string) {
    super(op, Errno.E2BIG, `map '${mapName}' is an array of ${maxEntries} slots: the index must be below ${maxEntries}`, `map '${mapName}'`);
  }
}

/** What {@link mapError} needs to know about the map. */
export interface MapIdentity {
  readonly name: string;
  readonly type: string;
  readonly maxEntries: number;
}

const ARRAYS = new Set(['ARRAY', 'PERCPU_ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'CGROUP_ARRAY', 'ARRAY_OF_MAPS', 'DEVMAP', 'CPUMAP', 'XSKMAP', 'REUSEPORT_SOCKARRAY', 'SOCKMAP']);

/**
 * The typed error for a map operation's errno: full, out of range, exists, not found and
 * read-only get their own classes; anything else the generic SyscallError naming the map.
 * `flags` are the update's flags (EXIST turns ENOENT into "not found").
 */
export function mapError(op: string, errno: number, map: MapIdentity, flags = 0): SyscallError {
  const updating = op === 'BPF_MAP_UPDATE_ELEM' || op === 'BPF_MAP_UPDATE_BATCH';
  if (errno === Errno.E2BIG && updating) return ARRAYS.has(map.type) ? new MapIndexError(map.name, map.maxEntries, op) : new MapFullError(map.name, map.maxEntries, op);
  if (errno === Errno.EEXIST && updating) return new MapKeyExistsError(map.name, op);
  if (errno === Errno.ENOENT && updating && (flags & 3) === 2) return new MapKeyNotFoundError(map.name, op);
  const deleting = op === 'BPF_MAP_DELETE_ELEM' || op === 'BPF_MAP_LOOKUP_AND_DELETE_ELEM' || op === 'BPF_MAP_DELETE_BATCH' || op === 'BPF_MAP_LOOKUP_AND_DELETE_BATCH';
  if (deleting && (map.type === 'ARRAY' || map.type === 'PERCPU_ARRAY') && (errno === Errno.EINVAL || errno === ENOTSUPP || errno === Errno.EOPNOTSUPP)) {
    return syscallError(op, errno, `map '${map.name}'`, `a ${map.type} map's entries always exist and cannot be deleted; store a zero value instead`);
  }
  if (errno === Errno.EPERM && process.geteuid?.() === 0 && (updating || op === 'BPF_MAP_DELETE_ELEM' || op === 'BPF_MAP_DELETE_BATCH')) {
    return new MapReadOnlyError(map.name, op, errno);
  }
  return syscallError(op, errno, `map '${map.name}'`);
}
