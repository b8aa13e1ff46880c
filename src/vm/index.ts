/**
 * The userspace BPF VM: a reference interpreter and a BPF-to-JavaScript compiler over one
 * bounds-checked address space, with models of kernel maps and helpers, so kernel programs
 * can be unit-tested in Node.
 */
export { Vm, Engine, DEFAULT_BUDGET, type VmOptions, type RunOptions, type VmHelper } from './vm.js';
export { VmError, VmErrorKind, type VmErrorDetails } from './errors.js';
export { Program } from './program.js';
export { AddressSpace, Region, RegionKind, type MapOptions } from './memory.js';
export { Machine, MAX_FRAMES, STACK_SIZE, MAX_LOOPS, ProgramExit } from './machine.js';
export { type Helper } from './runtime.js';
export {
  standardHelpers,
  conformanceHelpers,
  type HelperEnvironment,
  type HelperHost,
  type ProbeRegion,
} from './helpers.js';
export { formatPrintk } from './printk.js';
export * from './maps/index.js';
export { generate as generateJs } from './jit.js';
export {
  runConformanceTest,
  runPluginProtocol,
  parseHexBytes,
  formatHexBytes,
  type ConformanceOutcome,
  type ConformanceOptions,
} from './conformance.js';
export { vmForObject, type ObjectVm, type ObjectVmOptions } from './object.js';
