/**
 * What the kernel knows about a loaded program (struct bpf_prog_info via
 * BPF_OBJ_GET_INFO_BY_FD): identity, sizes, maps, statistics, and the translated instructions
 * with their func_info/line_info, read back the way bpftool reads them. Arrays come in two
 * passes: the first call returns their lengths, the second fills buffers of that size.
 */
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import type { Btf } from '../btf/index.js';
import { bpf, Fd } from '../sys/index.js';
import { ProgType, StatsType } from '../uapi/enums.js';
import { STRUCTS } from '../uapi/layouts.js';
import { btfById } from './btf-info.js';
import { fdById, newInfo, objInfo, objectIds } from './obj-info.js';

/** A program as the kernel describes it (what `bpftool prog show` prints). */
export interface ProgramInfo {
  id: number;
  /** Program type name ('XDP'), or 'unknown(<n>)' for a type newer than tsbpf's tables. */
  type: string;
  typeId: number;
  name: string;
  /** The program's tag: a hash of its instructions, 16 hex digits. */
  tag: string;
  /** When it was loaded (wall clock, from the kernel's boot-time stamp). */
  loadedAt: Date;
  createdByUid: number;
  /** Bytes of translated (xlated) instructions; 0 when this process may not see them. */
  xlatedSize: number;
  /** Bytes of JIT-compiled code; 0 when not JITed or hidden. */
  jitedSize: number;
  mapIds: number[];
  /** Id of the BTF object the program was loaded with, 0 for none. */
  btfId: number;
  gplCompatible: boolean;
  /** Total run time in ns and number of runs: counted only while stats are enabled (5.1+). */
  runTimeNs: bigint;
  runCount: bigint;
  recursionMisses: bigint;
  verifiedInstructions: number;
  attachBtfId: number;
  attachBtfObjId: number;
  funcInfoCount: number;
  lineInfoCount: number;
}

const typeNames = new Map<number, string>(Object.entries(ProgType).map(([k, v]) => [v as number, k]));

/** The name of a program type number ('XDP' for 6). */
export function progTypeName(n: number): string {
  return typeNames.get(n) ?? `unknown(${n})`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads bpf_prog_info for a program fd.
 *
 * @example
 * programInfo(prog.fd.value).mapIds; // [12, 13]
 */
export function programInfo(fd: number, subject?: string): ProgramInfo {
  const first = objInfo(fd, newInfo('bpf_prog_info'), subject);
  const nrMaps = first.num('nr_map_ids');
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = new Uint32Array(nrMaps);
    const second = objInfo(fd, newInfo('bpf_prog_info').assign({ nr_map_ids: nrMaps, map_ids: new Uint8Array(ids.buffer) }), subject);
    mapIds = Array.from(ids.subarray(0, Math.min(nrMaps, second.num('nr_map_ids'))));
  }
  const tag = first.bytes.subarray(8, 16);
  const typeId = first.num('type');
  // load_time counts ns since boot (CLOCK_BOOTTIME), which os.uptime() also measures.
  const bootMs = Date.now() - uptime() * 1000;
  return {
    id: first.num('id'),
    type: progTypeName(typeId),
    typeId,
    name: first.str('name'),
    tag: hex(tag),
    loadedAt: new Date(bootMs + Number(BigInt(first.get('load_time')) / 1_000_000n)),
    createdByUid: first.num('created_by_uid'),
    xlatedSize: first.num('xlated_prog_len'),
    jitedSize: first.num('jited_prog_len'),
    mapIds,
    btfId: first.num('btf_id'),
    gplCompatible: first.num('gpl_compatible') !== 0,
    runTimeNs: BigInt(first.get('run_time_ns')),
    runCount: BigInt(first.get('run_cnt')),
    recursionMisses: BigInt(first.get('recursion_misses')),
    verifiedInstructions: first.num('verified_insns'),
    attachBtfId: first.num('attach_btf_id'),
    attachBtfObjId: first.num('attach_btf_obj_id'),
    funcInfoCount: first.num('nr_func_info'),
    lineInfoCount: first.num('nr_line_info'),
  };
}

/** The translated instructions as the kernel dumps them (map fds replaced by map ids). */
export function programXlatedBytes(fd: number, subject?: string): Uint8Array {
  const len = objInfo(fd, newInfo('bpf_prog_info'), subject).num('xlated_prog_len');
  if (len === 0) return new Uint8Array(0);
  const buf = new Uint8Array(len);
  objInfo(fd, newInfo('bpf_prog_info').assign({ xlated_prog_len: len, xlated_prog_insns: buf }), subject);
  return buf;
}

/** One line_info record of a loaded program, against its xlated instructions. */
export interface XlatedLine {
  /** Slot in the xlated instructions. */
  slot: number;
  fileName: string;
  lineText: string;
  line: number;
  column: number;
}

/** One func_info record of a loaded program: where a function starts and its name. */
export interface XlatedFunc {
  slot: number;
  name: string;
  /** The function's C prototype when the BTF allows one, e.g. 'int handle(void * ctx)'. */
  typeId: number;
}

/** What it takes to annotate an xlated dump: the program's BTF and its func/line info. */
export interface XlatedDebugInfo {
  btf: Btf;
  funcs: XlatedFunc[];
  lines: XlatedLine[];
}

/**
 * The program's BTF (read back with BPF_BTF_GET_FD_BY_ID) and its func_info/line_info against
 * the xlated instructions, or undefined when it was loaded without BTF.
 */
export function programDebugInfo(fd: number, subject?: string): XlatedDebugInfo | undefined {
  const first = objInfo(fd, newInfo('bpf_prog_info'), subject);
  const btfId = first.num('btf_id');
  if (btfId === 0) return undefined;
  const nFuncs = first.num('nr_func_info');
  const nLines = first.num('nr_line_info');
  const funcSize = first.num('func_info_rec_size') || STRUCTS.bpf_func_info.size;
  const lineSize = first.num('line_info_rec_size') || STRUCTS.bpf_line_info.size;
  const funcBuf = new Uint8Array(nFuncs * funcSize);
  const lineBuf = new Uint8Array(nLines * lineSize);
  objInfo(
    fd,
    newInfo('bpf_prog_info').assign({
      nr_func_info: nFuncs,
      func_info_rec_size: funcSize,
      func_info: funcBuf,
      nr_line_info: nLines,
      line_info_rec_size: lineSize,
      line_info: lineBuf,
    }),
    subject,
  );
  const btf = btfById(btfId);
  const fv = new DataView(funcBuf.buffer);
  const lv = new DataView(lineBuf.buffer);
  const funcs: XlatedFunc[] = [];
  for (let i = 0; i < nFuncs; i++) {
    const typeId = fv.getUint32(i * funcSize + 4, true);
    funcs.push({ slot: fv.getUint32(i * funcSize, true), typeId, name: typeId < btf.typeCount ? btf.nameOf(typeId) : '' });
  }
  const lines: XlatedLine[] = [];
  for (let i = 0; i < nLines; i++) {
    const at = i * lineSize;
    const lineCol = lv.getUint32(at + 12, true);
    const str = (off: number): string => {
      try {
        return btf.str(off);
      } catch {
        return '';
      }
    };
    lines.push({ slot: lv.getUint32(at, true), fileName: str(lv.getUint32(at + 4, true)), lineText: str(lv.getUint32(at + 8, true)), line: lineCol >>> 10, column: lineCol & 0x3ff });
  }
  return { btf, funcs, lines };
}

/** Ids of every loaded program (BPF_PROG_GET_NEXT_ID, 4.13+). */
export function programIds(): number[] {
  return objectIds('PROG');
}

/** An fd for program `id` (BPF_PROG_GET_FD_BY_ID); the caller owns it. */
export function programFdById(id: number): Fd {
  return fdById('PROG', id);
}

/** Whether run-time statistics are being collected (sysctl kernel.bpf_stats_enabled, 5.1+). */
export function statsEnabled(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'latin1').trim() !== '0';
  } catch {
    return false;
  }
}

/**
 * Turns on run-time statistics (run_time_ns, run_cnt) until the returned fd is closed
 * (BPF_ENABLE_STATS, 5.8+).
 *
 * @example
 * using stats = enableStats();
 */
export function enableStats(): Fd {
  const { ret } = bpf('ENABLE_STATS', { type: StatsType.RUN_TIME }, { subject: 'BPF_STATS_RUN_TIME' });
  return new Fd(ret);
}
