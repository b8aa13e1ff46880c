/**
 * Facts about the machine: the page size (mmap offsets and lengths are in pages) and which
 * CPUs exist (perf events and perf buffers take one per online CPU; per-CPU map values have a
 * slot per possible CPU). Shared by the maps, the links and the event readers.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { TsbpfError } from '../errors.js';

let cachedPageSize: number | undefined;

/**
 * The kernel's page size. Node has no sysconf(_SC_PAGESIZE), so this reads the first
 * `KernelPageSize:` line of /proc/self/smaps; 4096 when that cannot be read.
 */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  let size = 4096;
  try {
    const fd = openSync('/proc/self/smaps', 'r');
    try {
      const buf = Buffer.alloc(8192);
      const n = readSync(fd, buf, 0, buf.length, null);
      const m = /KernelPageSize:\s+(\d+) kB/.exec(buf.toString('latin1', 0, n));
      if (m) size = Number(m[1]) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // keep the default
  }
  return (cachedPageSize = size);
}

/**
 * Parses a kernel CPU list such as `0-3,8,10-11` (the format of /sys/devices/system/cpu/online
 * and possible, see Documentation/admin-guide/cputopology.rst).
 */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part.trim() === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new TsbpfError(`not a CPU list: '${text.trim()}'`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let cpu = from; cpu <= to; cpu++) out.push(cpu);
  }
  return out;
}

/** The online CPUs (/sys/devices/system/cpu/online), read at each call (CPUs can come and go). */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'latin1'));
}

/** The possible CPUs (/sys/devices/system/cpu/possible): what per-CPU maps are sized by. */
export function possibleCpuList(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'latin1'));
}
