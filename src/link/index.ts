/**
 * Links: programs attached to the kernel's events and hooks, one module per attach kind. Every
 * attach function validates its inputs before any system call, closes what it opened when it
 * fails, and returns a {@link Link}: disposable, closed at process exit (unless pinned).
 */
export { Link, BpfLink, PerfEventIoctlLink, ProgAttachLink, MultiLink, type LinkKind, type UpdateOptions } from './link.js';
export { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
export { closeAllLinks, trackedLinks } from './registry.js';
export { linkInfoOfFd, listLinks, linkIds, linkFdById, describeLinkInfo, type LinkInfo, type LinkTypeName, type PerfEventKind } from './info.js';
export { isBpffs, openPinnedFd as openPinned } from '../kernel/pin.js';
export { attachPerfEventFd, type PerfAttachOptions } from './perf-attach.js';
export { tracepoint, tracepointId, type TracepointOptions } from './tracepoint.js';
export { rawTracepoint, type RawTracepointOptions } from './raw-tracepoint.js';
export { attachBtfId, type AttachBtfTarget, type BtfAttachKind } from './btf-id.js';
export { kernelBtf } from '../kernel/vmlinux.js';
export { tracing, type TracingOptions } from './tracing.js';
export { lsm, type LsmOptions } from './lsm.js';
export { kprobe, kretprobe, ksyscall, kprobeMechanism, syscallPrefix, type KprobeOptions } from './kprobe.js';
export { kprobeMulti, matchKernelFunctions, type KprobeMultiOptions } from './kprobe-multi.js';
export { uprobe, uretprobe, uprobeSite, type UprobeOptions, type UprobeSite } from './uprobe.js';
export { uprobeMulti, matchBinaryFunctions, type UprobeMultiOptions } from './uprobe-multi.js';
export { resolveBinary, resolveSymbol, type ResolvedSymbol } from './elf-symbols.js';
export { usdt, usdtProbes, type UsdtOptions } from './usdt.js';
export { readUsdtProbes, type UsdtProbe } from './usdt-notes.js';
export {
  parseUsdtArgs,
  encodeUsdtSpec,
  usdtSpecLayoutFromBtf,
  CLASSIC_USDT_SPEC_LAYOUT,
  LIBBPF_1_7_USDT_SPEC_LAYOUT,
  usdtSpecLayoutBySize,
  UsdtArgType,
  type UsdtArg,
  type UsdtSpecLayout,
} from './usdt-args.js';
export { cgroup, openCgroup, CgroupAttachFlag, type CgroupOptions } from './cgroup.js';
export { xdp, XdpMode, type XdpOptions } from './xdp.js';
export { tcx, type TcxOptions } from './tc.js';
export { perfEvent, type PerfEventOptions } from './perf-event.js';
export { onlineCpus } from '../sys/index.js';
export { iter, IterLink, CgroupIterOrder, type IterOptions } from './iter.js';
export { attach, type AutoAttachOptions } from './attach.js';
