/**
 * Dynamic probes as perf events, the part kprobes and uprobes share. Two ways exist:
 *
 * - the PMU way (4.17+): perf_event_open with the dynamic PMU's type from
 *   /sys/bus/event_source/devices/{kprobe,uprobe}/type; the symbol or path goes in config1, the
 *   offset in config2, the retprobe bit and the uprobe ref_ctr_offset in config at the
 *   positions the PMU's format/ directory gives;
 * - the legacy way: a line written to tracefs's kprobe_events or uprobe_events makes a trace
 *   event, which is then opened as a tracepoint; closing removes the line again.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotSupportedError } from '../errors.js';
import { Errno, Fd, newPerfAttr, perfEventOpen, SyscallError } from '../sys/index.js';
import { tracefsRoot } from '../tracefs/mount.js';
import { PerfType } from '../uapi/enums.js';
import { AttachTargetNotFoundError } from './errors.js';

/** The two dynamic probe PMUs. */
export type ProbeKind = 'kprobe' | 'uprobe';

const PMU_DIR = '/sys/bus/event_source/devices';

/** The perf type number of a dynamic PMU, or undefined when the kernel has none. */
export function pmuType(kind: ProbeKind): number | undefined {
  const file = join(PMU_DIR, kind, 'type');
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Where a PMU format field lives in `config` (format/<field> holds e.g. "config:0" or
 * "config:32-63"): its first bit, or undefined when the PMU has no such field.
 */
export function pmuConfigShift(kind: ProbeKind, field: 'retprobe' | 'ref_ctr_offset'): number | undefined {
  const file = join(PMU_DIR, kind, 'format', field);
  if (!existsSync(file)) return undefined;
  const m = /^config:(\d+)/.exec(readFileSync(file, 'utf8').trim());
  return m ? Number(m[1]) : undefined;
}

/** What to probe. */
export interface ProbeSpec {
  kind: ProbeKind;
  retprobe: boolean;
  /** kprobe: the kernel symbol; uprobe: the binary's path. */
  name: string;
  /** kprobe: offset into the function; uprobe: file offset of the instruction. */
  offset: bigint;
  /** uprobe: file offset of the USDT semaphore (reference counter), 0 for none. */
  refCtrOffset?: bigint;
  /** uprobe: only this process (-1 = every process). */
  pid?: number;
  /** legacy kretprobe: how many instances can be pending at once (kprobe_events' r<N>:). */
  maxActive?: number;
  /** For error messages and toString(): 'do_unlinkat+0', '/bin/bash:readline'. */
  label: string;
}

/** Whether the errno from opening a probe means "no such function/file". */
function notFound(errno: number): boolean {
  return errno === Errno.ENOENT || errno === Errno.EADDRNOTAVAIL || errno === Errno.ENXIO;
}

/** Opens a probe through the PMU. `type` is from {@link pmuType}. */
export function openPmuProbe(type: number, spec: ProbeSpec, where: string): Fd {
  let config = 0n;
  if (spec.retprobe) {
    const bit = pmuConfigShift(spec.kind, 'retprobe');
    if (bit === undefined) throw new AttachTargetNotFoundError(spec.kind, spec.label, `the ${spec.kind} PMU has no format/retprobe: this kernel cannot make return probes through it`);
    config |= 1n << BigInt(bit);
  }
  if (spec.refCtrOffset) {
    const shift = pmuConfigShift('uprobe', 'ref_ctr_offset');
    if (shift === undefined) throw new NotSupportedError('uprobe reference counters (USDT semaphores)', 'the uprobe PMU has no format/ref_ctr_offset: it needs kernel 4.20');
    config |= spec.refCtrOffset << BigInt(shift);
  }
  const attr = newPerfAttr({ type, config, sample_period: 1, wakeup_events: 1, disabled: 1, config1: spec.name, config2: spec.offset });
  const pid = spec.pid ?? -1;
  try {
    return perfEventOpen(attr, pid, pid === -1 ? 0 : -1, { subject: `${spec.kind} ${spec.label}`, hints: { config1: JSON.stringify(spec.name) } });
  } catch (err) {
    if (err instanceof SyscallError && notFound(err.errno)) throw new AttachTargetNotFoundError(spec.kind, spec.label, where);
    throw err;
  }
}

let counter = 0;

/** A trace event name unique in this process: the sanitized label, the pid and a counter. */
function legacyEventName(label: string): string {
  const base = label.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 32);
  return `${base}_${process.pid}_${counter++}`;
}

/** A probe made through tracefs: its perf event and the line to remove again. */
export interface LegacyProbe {
  perfFd: Fd;
  /** Removes the trace event from {kprobe,uprobe}_events. */
  remove: { close(): void };
}

/**
 * Makes a probe through tracefs's kprobe_events / uprobe_events (group "tsbpf"), and opens it
 * as a tracepoint. `root` is the mounted tracefs.
 */
export function openLegacyProbe(root: string, spec: ProbeSpec, where: string, event = legacyEventName(spec.label)): LegacyProbe {
  const eventsFile = join(root, `${spec.kind}_events`);
  const group = 'tsbpf';
  const type = spec.retprobe ? (spec.maxActive ? `r${spec.maxActive}` : 'r') : 'p';
  const location =
    spec.kind === 'kprobe'
      ? `${spec.name}+${spec.offset}`
      : `${spec.name}:0x${spec.offset.toString(16)}${spec.refCtrOffset ? `(0x${spec.refCtrOffset.toString(16)})` : ''}`;
  try {
    appendFileSync(eventsFile, `${type}:${group}/${event} ${location}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'EADDRNOTAVAIL') throw new AttachTargetNotFoundError(spec.kind, spec.label, where);
    throw err;
  }
  const remove = {
    close(): void {
      try {
        appendFileSync(eventsFile, `-:${group}/${event}\n`);
      } catch {
        // already gone (removed by hand, or tracefs unmounted)
      }
    },
  };
  try {
    const id = Number(readFileSync(join(root, 'events', group, event, 'id'), 'utf8').trim());
    const attr = newPerfAttr({ type: PerfType.TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1, disabled: 1 });
    const pid = spec.pid ?? -1;
    const perfFd = perfEventOpen(attr, pid, pid === -1 ? 0 : -1, { subject: `${spec.kind} ${spec.label} (tracefs event ${group}/${event})` });
    return { perfFd, remove };
  } catch (err) {
    remove.close();
    throw err;
  }
}

/** The mounted tracefs and whether it has `<kind>_events`, for the legacy way. */
export function legacyEventsFile(kind: ProbeKind): { root: string | undefined; present: boolean } {
  const root = tracefsRoot();
  return { root, present: root !== undefined && existsSync(join(root, `${kind}_events`)) };
}
