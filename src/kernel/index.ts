/** Live kernel objects: maps, programs (and, as they land, collections, features, pinning). */
export { BpfMap, UpdateFlag, type MapCreateOptions, type MapTypeName } from './map.js';
export { Program, VerifierError, parseVerifierLog, type ProgramLoadOptions, type ProgramBtf, type ProgTypeName, type AttachTypeName, type SourceLine } from './program.js';
export { MapFlag, BatchCursor } from './map.js';
export { MapFullError, MapIndexError, MapKeyExistsError, MapKeyNotFoundError, MapReadOnlyError, MapClosedError, MapSizeError, MapIterationAbortedError } from './map-errors.js';
export { MapBatchTooSmallError, type BatchError } from './map-batch.js';
export { readMapInfo, mapIds, mapFdById, mapTypeName, MapNotFoundError, type MapInfo } from './map-info.js';
export { possibleCpus, perCpuStride, parseCpuList } from './map-cpus.js';
export { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool, bytes, cstring, array, struct, perCpu, lpmKey, none, intCodec, floatCodec, CodecError, type Codec, type LpmKey, type StructFields } from './codec.js';
export { btfCodec, variablesCodec, patchBtfValue, BtfCodecError, type BtfValue, type BtfObject, type VariablePlace } from './codec-btf.js';
export { mapCodecs, type MapCodecs } from './map-btf.js';
export { btfById } from './btf-info.js';
export { MapView, MapTypeError } from './map-view.js';
export { TypedMap, CodecSizeError } from './map-typed.js';
export { HashMap, PerCpuHashMap, ArrayMap, PerCpuArrayMap, LpmTrie, type CommonMapOptions, type HashMapOptions, type ArrayMapOptions, type LpmTrieOptions } from './map-kinds.js';
export { QueueMap, StackMap, BloomFilter, type ValueMapOptions } from './map-queue.js';
export { ProgArray, ArrayOfMaps, HashOfMaps, PerfEventArray, FdValueMap, fdOf, type FdSource, type InnerMap, type MapOfMapsOptions } from './map-fd.js';
export { StackTraceMap, MAX_STACK_DEPTH, type BuildIdFrame } from './map-stacktrace.js';
export { RingBufMap, checkRingBufSize } from './map-ringbuf.js';
export { ensureBpffs, isBpffs, pinFd, openPinnedFd, unpinPath, BpffsError, PinExistsError, PinNotFoundError, BPF_FS_MAGIC, BPFFS_ROOT, type OpenPinOptions } from './pin.js';
export {
  Collection,
  CollectionMapError,
  registerAutoAttacher,
  registerRecordReader,
  type CollectionOptions,
  type CollectionShape,
  type UntypedShape,
  type EventsOptions,
  type AutoAttacher,
  type RecordReader,
} from './collection.js';
export { ObjectMap } from './map-object.js';
export { PinnedMapMismatchError } from './collection-maps.js';
export { Variable, VariableError } from './globals.js';
export { KconfigError, kernelVersionCode, readKernelConfig } from './kconfig.js';
export { KsymError } from './ksym.js';
export { AttachTargetError, type AttachTarget, type BtfAttachKind } from './attach-target.js';
export { BtfLoadError, loadBtf } from './btf-load.js';
export { UnresolvedReferenceError } from './relocate.js';
export { probeProgramType, probeMapType, probeHelper, probeAttach, probeBtfKind, probeMisc, probeAll, btfFeatures, requireFeature, type FeatureResult, type AttachProbe, type BtfProbeKind, type MiscProbe } from './features.js';
export { programInfo, programIds, enableStats, statsEnabled, type ProgramInfo, type XlatedDebugInfo } from './prog-info.js';
export type { TestRunOptions, TestRunResult } from './test-run.js';
export { kernelBtf } from './vmlinux.js';
