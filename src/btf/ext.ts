/**
 * The .BTF.ext section: per-ELF-section func_info (which BTF FUNC starts at an instruction),
 * line_info (source file, line text, line and column of an instruction) and CO-RE relocation
 * records. Layouts mirror struct btf_ext_header, bpf_func_info, bpf_line_info and bpf_core_relo
 * (include/uapi/linux/bpf.h and tools/lib/bpf/libbpf_internal.h); names live in the .BTF string
 * table, so parsing needs the Btf.
 */
import { FormatError } from '../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { BTF_MAGIC } from './kinds.js';
import type { Btf } from './parser.js';

/** enum bpf_core_relo_kind from include/uapi/linux/bpf.h. */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;
/** A bpf_core_relo_kind value. */
export type CoreReloKind = (typeof CoreReloKind)[keyof typeof CoreReloKind];

const KIND_NAMES = Object.keys(CoreReloKind);
/** libbpf's short names (core_relo_kind_str() in relo_core.c), indexed by kind. */
const KIND_SHORT = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id',
  'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

/** The UAPI name of a CO-RE relocation kind without the BPF_CORE_ prefix, e.g. 'FIELD_EXISTS'. */
export function coreReloKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `UNKNOWN(${kind})`;
}

/** libbpf's short name of a CO-RE relocation kind, e.g. 'byte_off', as in its log messages. */
export function coreReloKindShortName(kind: number): string {
  return KIND_SHORT[kind] ?? `unknown(${kind})`;
}

/** struct bpf_func_info: the FUNC type starting at an instruction. */
export interface FuncInfo {
  /** Byte offset of the instruction in its ELF section (as stored in object files). */
  insnOff: number;
  typeId: number;
}

/** struct bpf_line_info with its strings resolved. */
export interface LineInfo {
  /** Byte offset of the instruction in its ELF section. */
  insnOff: number;
  fileName: string;
  /** The text of the source line. */
  lineText: string;
  /** 1-based line number (line_col >> 10). */
  line: number;
  /** Column (line_col & 0x3ff). */
  column: number;
  /** String offsets of the file name and line text in .BTF, as stored (set when parsed). */
  fileNameOff?: number;
  lineOff?: number;
}

/** struct bpf_core_relo with its access string decoded. */
export interface CoreRelo {
  /** Byte offset of the instruction in its ELF section. */
  insnOff: number;
  /** The local BTF type the access starts from. */
  typeId: number;
  /** The access string, e.g. '0:1:2' (member indices; the first is an array index). */
  accessStr: string;
  kind: number;
}

/** Decoded struct btf_ext_header. */
export interface BtfExtHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  funcInfoOff: number;
  funcInfoLen: number;
  lineInfoOff: number;
  lineInfoLen: number;
  coreReloOff: number;
  coreReloLen: number;
}

/** A parsed .BTF.ext: records grouped by ELF section name, in file order. */
export interface BtfExt {
  header: BtfExtHeader;
  littleEndian: boolean;
  funcInfo: Map<string, FuncInfo[]>;
  lineInfo: Map<string, LineInfo[]>;
  coreRelos: Map<string, CoreRelo[]>;
  /** Record sizes found in the file (newer writers may use bigger records). */
  recordSizes: { funcInfo: number; lineInfo: number; coreRelo: number };
}

/** Minimum record sizes libbpf accepts. */
export const EXT_MIN_RECORD = { funcInfo: 8, lineInfo: 16, coreRelo: 16 } as const;
/** sizeof(struct btf_ext_header) with the CO-RE fields. */
export const BTF_EXT_HEADER_SIZE = 32;

/** Splits an access string such as '0:1:2' into numbers; throws FormatError if malformed. */
export function parseAccessString(s: string, where = 0): number[] {
  if (!/^\d+(:\d+)*$/.test(s)) throw new FormatError('BTF.ext', where, `CO-RE access string '${s}' is not colon-separated numbers`);
  return s.split(':').map(Number);
}

/** Parses .BTF.ext bytes; names are looked up in `btf`'s string table. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.byteLength < 8) throw new FormatError('BTF.ext', 0, `header: needs at least 8 bytes, got ${bytes.byteLength}`);
  const magicLe = bytes[0]! | (bytes[1]! << 8);
  let le: boolean;
  if (magicLe === BTF_MAGIC) le = true;
  else if (magicLe === 0x9feb) le = false;
  else throw new FormatError('BTF.ext', 0, `bad magic 0x${magicLe.toString(16)}, expected 0xeb9f`);
  const r = new ByteReader(bytes, 'BTF.ext', le);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < 24 || hdrLen > bytes.byteLength) throw new FormatError('BTF.ext', 4, `header length ${hdrLen} is outside 24..${bytes.byteLength}`);
  const header: BtfExtHeader = {
    magic: BTF_MAGIC,
    version: r.u8(2),
    flags: r.u8(3),
    hdrLen,
    funcInfoOff: r.u32(8),
    funcInfoLen: r.u32(12),
    lineInfoOff: r.u32(16),
    lineInfoLen: r.u32(20),
    coreReloOff: hdrLen >= 32 ? r.u32(24) : 0,
    coreReloLen: hdrLen >= 32 ? r.u32(28) : 0,
  };
  if (header.version !== 1) throw new FormatError('BTF.ext', 2, `unsupported version ${header.version}, expected 1`);
  const str = (off: number, at: number): string => {
    try {
      return btf.str(off);
    } catch {
      throw new FormatError('BTF.ext', at, `string offset ${off} is outside the .BTF string section`);
    }
  };
  const recordSizes = { funcInfo: 0, lineInfo: 0, coreRelo: 0 };

  const funcInfo = readInfo(r, hdrLen + header.funcInfoOff, header.funcInfoLen, 'func_info', EXT_MIN_RECORD.funcInfo, str, (p) => ({
    insnOff: r.u32(p),
    typeId: r.u32(p + 4),
  }), (s) => (recordSizes.funcInfo = s));
  const lineInfo = readInfo(r, hdrLen + header.lineInfoOff, header.lineInfoLen, 'line_info', EXT_MIN_RECORD.lineInfo, str, (p) => {
    const lineCol = r.u32(p + 12);
    const fileNameOff = r.u32(p + 4);
    const lineOff = r.u32(p + 8);
    return { insnOff: r.u32(p), fileName: str(fileNameOff, p + 4), lineText: str(lineOff, p + 8), line: lineCol >>> 10, column: lineCol & 0x3ff, fileNameOff, lineOff };
  }, (s) => (recordSizes.lineInfo = s));
  const coreRelos = readInfo(r, hdrLen + header.coreReloOff, header.coreReloLen, 'core_relo', EXT_MIN_RECORD.coreRelo, str, (p) => {
    const accessStr = str(r.u32(p + 8), p + 8);
    parseAccessString(accessStr, p + 8);
    return { insnOff: r.u32(p), typeId: r.u32(p + 4), accessStr, kind: r.u32(p + 12) };
  }, (s) => (recordSizes.coreRelo = s));
  return { header, littleEndian: le, funcInfo, lineInfo, coreRelos, recordSizes };
}

/** Reads one info category: u32 record size, then blocks of {sec_name_off, num_info, records}. */
function readInfo<T>(
  r: ByteReader,
  start: number,
  len: number,
  what: string,
  minRecord: number,
  str: (off: number, at: number) => string,
  record: (p: number) => T,
  setSize: (s: number) => void,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (len === 0) return out;
  r.need(start, len, `${what} section`);
  const end = start + len;
  const recSize = r.u32(start, `${what} record size`);
  if (recSize < minRecord || recSize % 4 !== 0) {
    throw new FormatError('BTF.ext', start, `${what} record size ${recSize} must be a multiple of 4 and at least ${minRecord}`);
  }
  setSize(recSize);
  let p = start + 4;
  while (p < end) {
    if (p + 8 > end) throw new FormatError('BTF.ext', p, `${what}: truncated section header, expected sec_name_off and num_info`);
    const name = str(r.u32(p), p);
    const num = r.u32(p + 4);
    if (num === 0) throw new FormatError('BTF.ext', p + 4, `${what} for section '${name}' has no records`);
    p += 8;
    if (num * recSize > end - p) throw new FormatError('BTF.ext', p, `${what} for section '${name}': ${num} records of ${recSize} bytes run past the section end`);
    let list = out.get(name);
    if (!list) out.set(name, (list = []));
    for (let i = 0; i < num; i++, p += recSize) list.push(record(p));
  }
  return out;
}
