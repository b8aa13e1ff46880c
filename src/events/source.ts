/**
 * What a reader reads from: a map object (BpfMap, RingBufMap, PerfEventArray, ...), or a bare
 * fd whose type and size are asked of the kernel. Internal to src/events.
 */
import { readMapInfo } from '../kernel/map-info.js';
import { Fd } from '../sys/index.js';
import { TsbpfError } from '../errors.js';

/**
 * A map to read: anything with the map's fd and max_entries (BpfMap and the typed map classes
 * fit), or just the fd (its type and size are then read with BPF_OBJ_GET_INFO_BY_FD). The
 * reader never closes the map's fd: close the reader first, then the map.
 */
export type MapSource =
  | number
  | Fd
  | {
      readonly fd: Fd | number;
      readonly maxEntries: number;
      /** The map type ('RINGBUF', 'PERF_EVENT_ARRAY'); read from the kernel when missing. */
      readonly type?: string;
      readonly name?: string;
    };

/** The fd, size, type and name of a map source, checked against the expected type. */
export function resolveMap(source: MapSource, expected: string, what: string): { fd: number; maxEntries: number; name: string; subject: string } {
  let fd: number;
  let maxEntries: number;
  let type: string | undefined;
  let name = '';
  if (typeof source === 'number' || source instanceof Fd) {
    fd = typeof source === 'number' ? source : source.value;
    const info = readMapInfo(fd, `${what} fd ${fd}`);
    maxEntries = info.maxEntries;
    type = info.type ?? `type ${info.typeId}`;
    name = info.name;
  } else {
    fd = typeof source.fd === 'number' ? source.fd : source.fd.value;
    maxEntries = source.maxEntries;
    name = source.name ?? '';
    if (source.type === undefined) {
      const info = readMapInfo(fd, `${what} fd ${fd}`);
      type = info.type ?? `type ${info.typeId}`;
      maxEntries = info.maxEntries;
    } else type = source.type;
  }
  const subject = `${what}${name ? ` '${name}'` : ''}`;
  if (type !== expected) throw new TsbpfError(`${subject}: the map is ${type}, a ${what} reader needs ${expected}`);
  return { fd, maxEntries, name, subject };
}
