/**
 * perf_event programs (BPF_PROG_TYPE_PERF_EVENT): run on every sample of a sampling perf event,
 * e.g. a software clock at 99 Hz on each CPU for a profiler, or a hardware counter overflow.
 * The context is struct bpf_perf_event_data (the registers and the sample period).
 */
import { NotSupportedError } from '../errors.js';
import type { Program } from '../kernel/program.js';
import { Errno, newPerfAttr, onlineCpus, perfEventOpen, SyscallError } from '../sys/index.js';
import { PerfHwId, PerfSwId, PerfType } from '../uapi/enums.js';
import { expectInteger, expectProgram } from './check.js';
import { InvalidAttachError } from './errors.js';
import { MultiLink, releaseAll, type Link } from './link.js';
import { attachPerfEvent } from './perf-attach.js';

/** Named events: software clocks and the common hardware counters. */
const EVENTS = {
  'cpu-clock': [PerfType.SOFTWARE, PerfSwId.CPU_CLOCK],
  'task-clock': [PerfType.SOFTWARE, PerfSwId.TASK_CLOCK],
  'page-faults': [PerfType.SOFTWARE, PerfSwId.PAGE_FAULTS],
  'context-switches': [PerfType.SOFTWARE, PerfSwId.CONTEXT_SWITCHES],
  'cpu-cycles': [PerfType.HARDWARE, PerfHwId.CPU_CYCLES],
  instructions: [PerfType.HARDWARE, PerfHwId.INSTRUCTIONS],
  'cache-misses': [PerfType.HARDWARE, PerfHwId.CACHE_MISSES],
  'branch-misses': [PerfType.HARDWARE, PerfHwId.BRANCH_MISSES],
} as const;

/** Options of {@link perfEvent}. */
export interface PerfEventOptions {
  /** What to sample: a named event (default 'cpu-clock'), or a perf_event_attr type and config. */
  event?: keyof typeof EVENTS | { type: number; config: number | bigint };
  /** Samples per second (perf's -F); the default is 49 when no period is given. */
  frequency?: number;
  /** A sample every `period` events (nanoseconds for the clocks). */
  period?: number | bigint;
  /** The CPUs to sample on (default: every online CPU, one perf event each). */
  cpus?: readonly number[];
  /** Only this process (default: every process). With a pid, one event follows it on any CPU. */
  pid?: number;
  /** A value the program reads with bpf_get_attach_cookie() (5.15+). */
  cookie?: bigint;
}

/**
 * Attaches a perf_event program to a sampling perf event on each CPU (or following one
 * process): the program runs at every sample. Frequency or period as in `perf record -F / -c`.
 *
 * Valid events: the names above, or any (type, config) pair `perf list` knows. Hardware events
 * need a PMU, which virtual machines often lack: that is a NotSupportedError.
 *
 * Minimum kernel: 4.9; bpf_link (pinnable, per CPU) from 5.15.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = perfEvent(prog, { event: 'cpu-clock', frequency: 99 });
 */
export function perfEvent(program: Program, options: PerfEventOptions = {}): Link {
  expectProgram('perf_event', program, ['PERF_EVENT']);
  const ev = options.event ?? 'cpu-clock';
  const [type, config] = typeof ev === 'string' ? (EVENTS[ev] ?? []) : [ev.type, ev.config];
  if (type === undefined) throw new InvalidAttachError('perf_event', `unknown event '${String(ev)}'; expected one of ${Object.keys(EVENTS).join(', ')} or { type, config }`);
  if (options.frequency !== undefined && options.period !== undefined) throw new InvalidAttachError('perf_event', 'give a frequency or a period, not both');
  if (options.frequency !== undefined) expectInteger('perf_event', 'frequency', options.frequency, 1);
  if (options.period !== undefined) expectInteger('perf_event', 'period', options.period, 1);
  if (options.pid !== undefined) expectInteger('perf_event', 'pid', options.pid, 1);
  const freq = options.period === undefined;
  const attr = () =>
    newPerfAttr({ type, config: BigInt(config), sample_freq: freq ? (options.frequency ?? 49) : undefined, sample_period: freq ? undefined : BigInt(options.period!), freq: freq ? 1 : 0, disabled: 1 });
  const cpus = options.pid !== undefined ? [-1] : (options.cpus ?? onlineCpus());
  const name = typeof ev === 'string' ? ev : `type ${ev.type} config ${ev.config}`;
  const links: Link[] = [];
  try {
    for (const cpu of cpus) {
      const where = options.pid !== undefined ? `pid ${options.pid}` : `cpu ${cpu}`;
      let fd;
      try {
        fd = perfEventOpen(attr(), options.pid ?? -1, cpu, { subject: `perf event ${name} on ${where}` });
      } catch (err) {
        if (err instanceof SyscallError && (err.errno === Errno.ENOENT || err.errno === Errno.EOPNOTSUPP || err.errno === Errno.ENODEV)) {
          throw new NotSupportedError(`perf event '${name}'`, `the kernel has no PMU for it here (${err.code}); virtual machines usually lack hardware counters, use 'cpu-clock'`);
        }
        throw err;
      }
      links.push(attachPerfEvent(program, fd, 'perf_event', `${name} ${where}`, { cookie: options.cookie }));
    }
  } catch (err) {
    releaseAll(links);
    throw err;
  }
  return new MultiLink('perf_event', `${name}${options.frequency ? ` @${options.frequency}Hz` : options.period ? ` every ${options.period}` : ''}`, links);
}
