/**
 * perf_event_open and the perf ioctls, with perf_event_attr built by field name (layout from
 * the kernel's BTF). Tracepoints, kprobes, uprobes and sampling all start here.
 */
import { STRUCTS } from '../uapi/layouts.js';
import { syscallError } from './errors.js';
import { describeResult, describeStruct, explaining, explainLine } from './explain.js';
import { Fd } from './fd.js';
import { syscalls } from './native.js';
import { Struct, type FieldValue } from './struct.js';

/** perf_event_open flags (include/uapi/linux/perf_event.h). */
export const PerfFlag = { FD_NO_GROUP: 1, FD_OUTPUT: 2, PID_CGROUP: 4, FD_CLOEXEC: 8 } as const;

/** Perf ioctl requests: _IO/_IOW/_IOR('$', n, ...) from include/uapi/linux/perf_event.h. */
export const PerfIoctl = {
  ENABLE: 0x2400,
  DISABLE: 0x2401,
  REFRESH: 0x2402,
  RESET: 0x2403,
  PERIOD: 0x40082404,
  SET_OUTPUT: 0x2405,
  SET_FILTER: 0x40082406,
  ID: 0x80082407,
  SET_BPF: 0x40042408,
  PAUSE_OUTPUT: 0x40042409,
  QUERY_BPF: 0xc008240a,
  MODIFY_ATTRIBUTES: 0x4008240b,
} as const;

/** Field names of perf_event_attr. */
export type PerfAttrField = Extract<keyof (typeof STRUCTS)['perf_event_attr']['fields'], string>;

/** A perf_event_attr, its size field already set. */
export function newPerfAttr(values: Partial<Record<PerfAttrField, FieldValue | undefined>> = {}): Struct<PerfAttrField> {
  const layout = STRUCTS.perf_event_attr;
  const sys = syscalls();
  return new Struct<PerfAttrField>('perf_event_attr', layout.fields, layout.size, (v) => sys.addressOf(v))
    .set('size', layout.size)
    .assign(values);
}

/**
 * perf_event_open(attr, pid, cpu, group_fd, flags), close-on-exec. Throws a SyscallError with a
 * remedy on failure.
 */
export function perfEventOpen(attr: Struct<PerfAttrField>, pid: number, cpu: number, options: { groupFd?: number; flags?: number; subject?: string; hints?: Record<string, string> } = {}): Fd {
  const flags = options.flags ?? PerfFlag.FD_CLOEXEC;
  const groupFd = options.groupFd ?? -1;
  const ret = syscalls().perfEventOpen(attr.bytes, pid, cpu, groupFd, flags);
  if (explaining()) explainLine(`perf_event_open(${describeStruct(attr, options.hints)}, ${pid}, ${cpu}, ${groupFd}, ${flags === PerfFlag.FD_CLOEXEC ? 'PERF_FLAG_FD_CLOEXEC' : flags})${describeResult(ret)}`);
  if (ret < 0) throw syscallError('perf_event_open', -ret, options.subject);
  return new Fd(ret);
}

/** ioctl(fd, request, arg) on a perf event; throws a SyscallError naming the request. */
export function perfIoctl(fd: number, request: keyof typeof PerfIoctl, arg: number | bigint | Uint8Array = 0, subject?: string): number {
  const ret = syscalls().ioctl(fd, PerfIoctl[request], arg);
  if (explaining()) explainLine(`ioctl(${fd}, PERF_EVENT_IOC_${request}, ${arg instanceof Uint8Array ? '[buffer]' : arg})${describeResult(ret)}`);
  if (ret < 0) throw syscallError(`PERF_EVENT_IOC_${request}`, -ret, subject);
  return ret;
}
