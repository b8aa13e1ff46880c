/**
 * tsbpf: what most programs need in one import — load an object, use its maps and programs,
 * attach them, read what they report. Every layer has its own entry point with the rest:
 * tsbpf/kernel (maps, programs, collections, features, pinning), tsbpf/link (every attach
 * kind), tsbpf/events (readers), tsbpf/sys (system calls, explain mode, fake kernel),
 * tsbpf/load, tsbpf/object, tsbpf/btf, tsbpf/asm, tsbpf/elf, tsbpf/vm, tsbpf/objdump.
 *
 * Importing this module also registers the link layer's attach dispatcher, so
 * `collection.attachAll()` works without importing tsbpf/link.
 *
 * @example
 * import { load, RingBufReader } from 'tsbpf';
 * await using obj = await load('exec.bpf.o', { constants: { target_pid: 1234 } });
 * using events = RingBufReader.open(obj.maps.events);
 * obj.attachAll();
 */
export * from './errors.js';
export * as asm from './asm/index.js';

// Loading objects
export { load, weakExternsOf, objectNameOf, type LoadOptions } from './load.js';
export type { Plain, ShapeOf, MapHandle, MapNames, ProgramNames, EventNames } from './load-types.js';
export { readObject, type ObjectSpec, type ProgramSpec, type MapSpec, type VariableSpec } from './object/index.js';
export { Collection, CollectionMapError, type CollectionOptions, type CollectionShape, type EventsOptions } from './kernel/collection.js';
export { ObjectMap } from './kernel/map-object.js';
export { Variable, VariableError } from './kernel/globals.js';

// Maps and their codecs
export { BpfMap, MapFlag, UpdateFlag, type MapCreateOptions, type MapTypeName } from './kernel/map.js';
export { MapFullError, MapIndexError, MapKeyExistsError, MapKeyNotFoundError, MapReadOnlyError, MapClosedError, MapSizeError } from './kernel/map-errors.js';
export { TypedMap, CodecSizeError } from './kernel/map-typed.js';
export { MapView, MapTypeError } from './kernel/map-view.js';
export { HashMap, PerCpuHashMap, ArrayMap, PerCpuArrayMap, LpmTrie } from './kernel/map-kinds.js';
export { QueueMap, StackMap, BloomFilter } from './kernel/map-queue.js';
export { ProgArray, ArrayOfMaps, HashOfMaps, PerfEventArray } from './kernel/map-fd.js';
export { StackTraceMap } from './kernel/map-stacktrace.js';
export { RingBufMap } from './kernel/map-ringbuf.js';
export { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool, bytes, cstring, array, struct, perCpu, lpmKey, none, CodecError, type Codec, type LpmKey } from './kernel/codec.js';
export { btfCodec, BtfCodecError, type BtfValue, type BtfObject } from './kernel/codec-btf.js';
export { possibleCpus } from './kernel/map-cpus.js';

// Programs
export { Program, VerifierError, type ProgramLoadOptions, type ProgTypeName, type AttachTypeName } from './kernel/program.js';

// Attaching
export { attach, type AutoAttachOptions } from './link/attach.js';
export { Link, type LinkKind } from './link/link.js';
export { closeAllLinks } from './link/registry.js';
export { AttachTargetNotFoundError, InvalidAttachError } from './link/errors.js';
export { tracepoint } from './link/tracepoint.js';
export { rawTracepoint } from './link/raw-tracepoint.js';
export { tracing } from './link/tracing.js';
export { lsm } from './link/lsm.js';
export { kprobe, kretprobe, ksyscall } from './link/kprobe.js';
export { uprobe, uretprobe } from './link/uprobe.js';
export { usdt } from './link/usdt.js';
export { cgroup } from './link/cgroup.js';
export { xdp } from './link/xdp.js';
export { tcx } from './link/tc.js';
export { perfEvent } from './link/perf-event.js';
export { iter } from './link/iter.js';

// Reading events
export { RingBufReader, type RingBufRecord } from './events/ringbuf.js';
export { decodedRecords, RecordSizeError } from './events/records.js';
export { PerfBufReader, type PerfEvent } from './events/perfbuf.js';
export { TracePipeReader, type TraceLine } from './events/trace-pipe.js';

// Compiling kernel programs written in TypeScript (tsbpf/lang)
export { compile, compileFile, CompileError, formatDiagnostic, type CompileOptions, type CompileResult, type Diagnostic } from './compiler/index.js';

// Seeing the system calls
export { setExplain } from './sys/explain.js';
