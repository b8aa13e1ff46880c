/**
 * Walking a map with BPF_MAP_GET_NEXT_KEY while programs (or other processes) change it.
 *
 * The kernel offers no snapshot, so the walk follows these rules (as cilium/ebpf's MapIterator
 * does, plus de-duplication):
 * - skip: a key whose lookup finds nothing was deleted between GET_NEXT_KEY and the lookup (or,
 *   in a prog array or map of maps, is an empty slot); it is left out, not an error;
 * - restart: when the cursor key itself is deleted, a hash map's GET_NEXT_KEY starts again from
 *   its first key (kernel/bpf/hashtab.c htab_map_get_next_key); keys already yielded are
 *   remembered and not yielded twice;
 * - bound: a walk that takes more steps than 4 × max_entries (+16) is being outrun by
 *   deletions and stops with MapIterationAbortedError instead of looping forever.
 * Keys added during the walk may or may not be seen.
 */
import type { BpfMap } from './map.js';
import { MapIterationAbortedError } from './map-errors.js';

/** Types whose GET_NEXT_KEY restarts when the cursor key is gone (the hash-based ones). */
const RESTARTING = new Set(['HASH', 'PERCPU_HASH', 'LRU_HASH', 'LRU_PERCPU_HASH', 'HASH_OF_MAPS', 'LPM_TRIE', 'DEVMAP_HASH', 'SOCKHASH', 'STACK_TRACE']);
/** Types whose GET_NEXT_KEY lists empty slots too: a key counts only if its lookup succeeds. */
const SLOTTED = new Set(['PROG_ARRAY', 'ARRAY_OF_MAPS']);

/** One step of a walk: the key, and the value when values were asked for. */
export type WalkEntry = readonly [key: Uint8Array, value: Uint8Array | undefined];

/**
 * Every key (and value, with `values`) of `map`, following the rules above. Keys and values are
 * fresh copies the caller may keep.
 */
export function* walk(map: BpfMap, values: boolean): Generator<WalkEntry, void, undefined> {
  const seen = RESTARTING.has(map.type) ? new Set<string>() : undefined;
  const needLookup = values || SLOTTED.has(map.type);
  const limit = 4 * map.maxEntries + 16;
  let cursor: Uint8Array | undefined;
  for (let steps = 0; ; steps++) {
    if (steps > limit) throw new MapIterationAbortedError(map.name, steps);
    const key = map.nextKeyBytes(cursor);
    if (key === undefined) return;
    cursor = key;
    if (seen) {
      // latin1 maps each byte to one char: a cheap exact identity for a byte string.
      const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
      if (seen.has(id)) continue;
      seen.add(id);
    }
    if (!needLookup) {
      yield [key, undefined];
      continue;
    }
    const value = map.lookupBytes(key);
    if (value === undefined) continue;
    yield [key, values ? value : undefined];
  }
}
