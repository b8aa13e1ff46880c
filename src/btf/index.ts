/**
 * BTF, the BPF Type Format: lazy decoder, .BTF.ext, builders and raw/C/TypeScript formatters.
 * The public entry point; tsbpf's own modules import from the defining files instead, so that
 * `tsbpf build` does not load the formatters and CO-RE (docs/architecture.md, Conventions).
 */
export * from './kinds.js';
export { parseBtf, Btf, type BtfHeader, type ParseBtfOptions } from './parser.js';
export { resolveType, skipModifiers, isCharType, sizeOf, alignOf, findMember, type MemberLocation, MAX_CHAIN, MAX_NESTING } from './layout.js';
export {
  parseBtfExt,
  parseAccessString,
  coreReloKindName,
  coreReloKindShortName,
  CoreReloKind,
  EXT_MIN_RECORD,
  BTF_EXT_HEADER_SIZE,
  type BtfExt,
  type BtfExtHeader,
  type FuncInfo,
  type LineInfo,
  type CoreRelo,
} from './ext.js';
export { BtfBuilder, BtfExtBuilder, type BtfBuilderOptions, type BuildOptions } from './builder.js';
export { writeRaw, formatRaw, type RawDumpOptions } from './format-raw.js';
export { writeC, formatC, cTypeName, type CDumpOptions } from './format-c.js';
export { formatTs, type TsDumpOptions } from './format-ts.js';
export { findTypes } from './query.js';
export type { ChunkSink } from './out.js';
export { applyCoreRelocations, CoreRelocationError, type CoreRelocationResult } from './core/index.js';
