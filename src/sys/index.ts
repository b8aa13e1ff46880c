/** Typed system calls over the native addon, errno mapping, explain mode, and a fake kernel. */
export { bpf, bpfAttr, newAttr, type BpfCommand, type KnownCommand, type AttrFields, type BpfResult, type BpfOptions } from './bpf.js';
export { perfEventOpen, perfIoctl, newPerfAttr, PerfFlag, PerfIoctl, type PerfAttrField } from './perf.js';
export { Fd, openFds } from './fd.js';
export { Struct, HOST_LE, type FieldValue } from './struct.js';
export { SyscallError, PermissionError, syscallError, remedyFor } from './errors.js';
export { Errno, ENOTSUPP, errnoName, errnoMessage } from './errno.js';
export { setExplain, explaining, explainLine } from './explain.js';
export { pageSize, parseCpuList, onlineCpus, possibleCpuList } from './system.js';
export { syscalls, useSyscalls, nativeSyscalls, PollEvents, type Syscalls, type PollHandle } from './native.js';
export { FakeKernel, type FakeCall } from './fake.js';
