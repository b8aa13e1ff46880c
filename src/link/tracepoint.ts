/**
 * Tracepoints: the kernel's static trace events (BPF_PROG_TYPE_TRACEPOINT), opened as perf
 * events of PERF_TYPE_TRACEPOINT with the event id tracefs publishes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Program } from '../kernel/program.js';
import { newPerfAttr, perfEventOpen } from '../sys/index.js';
import { ensureTracefs } from '../tracefs/mount.js';
import { PerfType } from '../uapi/enums.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import type { Link } from './link.js';
import { attachPerfEvent, type PerfAttachOptions } from './perf-attach.js';

/** Category and event names as tracefs spells them (no path separators, no leading dot). */
const EVENT_NAME = /^[\w-][\w.-]*$/;

/** Options of {@link tracepoint}. */
export type TracepointOptions = PerfAttachOptions;

/**
 * The id of tracepoint `category/name` (events/<category>/<name>/id in tracefs), mounting
 * tracefs when needed. Throws an AttachTargetNotFoundError naming the tracepoint when it does
 * not exist.
 */
export function tracepointId(category: string, name: string, kind = 'tracepoint'): number {
  for (const [what, v] of [['category', category], ['name', name]] as const) {
    if (!EVENT_NAME.test(v)) throw new InvalidAttachError(kind, `invalid tracepoint ${what} '${v}': expected letters, digits, '_', '-' or '.'`);
  }
  const root = ensureTracefs();
  const file = join(root, 'events', category, name, 'id');
  if (!existsSync(file)) {
    throw new AttachTargetNotFoundError(kind, `${category}/${name}`, `no ${join(root, 'events', category, name)}; valid names are the directories under ${join(root, 'events')} (category/name), also listed in ${join(root, 'available_events')} as category:name`);
  }
  return Number(readFileSync(file, 'utf8').trim());
}

/**
 * Attaches a tracepoint program (BPF_PROG_TYPE_TRACEPOINT) to the kernel tracepoint
 * `category/name`. Each time the kernel passes the tracepoint the program runs with the event's
 * record as its context (layout in events/<category>/<name>/format).
 *
 * Valid names are the directories under /sys/kernel/tracing/events (category/name), also listed
 * in /sys/kernel/tracing/available_events as `category:name`. tracefs is mounted first when it
 * is not and this process is root.
 *
 * Minimum kernel: 4.7 (tracepoint programs); the link is a bpf_link from 5.15
 * (BPF_LINK_CREATE with BPF_PERF_EVENT), before that the program is set on the perf event with
 * PERF_EVENT_IOC_SET_BPF and the link cannot be pinned.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = tracepoint(prog, 'syscalls', 'sys_enter_execve');
 */
export function tracepoint(program: Program, category: string, name: string, options: TracepointOptions = {}): Link {
  expectProgram('tracepoint', program, ['TRACEPOINT']);
  const id = tracepointId(category, name);
  const attr = newPerfAttr({ type: PerfType.TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1, disabled: 1 });
  const target = `${category}/${name}`;
  const perfFd = perfEventOpen(attr, -1, 0, { subject: `tracepoint ${target}` });
  return attachPerfEvent(program, perfFd, 'tracepoint', target, options);
}
