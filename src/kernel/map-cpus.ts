/**
 * Per-CPU value layout. User space reads and writes a per-CPU map's value for every *possible*
 * CPU at once (not just the online ones), each slot rounded up to 8 bytes: kernel/bpf/syscall.c
 * bpf_map_value_size() returns round_up(value_size, 8) * num_possible_cpus().
 */
import { TsbpfError } from '../errors.js';
import { possibleCpuList } from '../sys/system.js';

export { parseCpuList } from '../sys/system.js';

/** Map types whose values are per CPU from user space's view. */
export const PER_CPU_TYPES: ReadonlySet<string> = new Set(['PERCPU_HASH', 'PERCPU_ARRAY', 'LRU_PERCPU_HASH', 'PERCPU_CGROUP_STORAGE']);

let possible: number | undefined;

/**
 * The number of possible CPUs, as libbpf_num_possible_cpus(): the highest CPU in
 * /sys/devices/system/cpu/possible plus one (CPU ids index per-CPU slots, so gaps count).
 *
 * @example
 * const values = perCpuMap.get(key); // values.length === possibleCpus()
 */
export function possibleCpus(): number {
  if (possible === undefined) {
    const cpus = possibleCpuList();
    if (cpus.length === 0) throw new TsbpfError('/sys/devices/system/cpu/possible lists no CPUs');
    possible = Math.max(...cpus) + 1;
  }
  return possible;
}

/** Bytes of one CPU's slot in a per-CPU value: value_size rounded up to 8. */
export function perCpuStride(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}
