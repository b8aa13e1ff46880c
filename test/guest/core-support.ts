/**
 * The CO-RE fixtures both kernels load — testdata/guest/core.bpf.o (clang) and its twin
 * core_ts.bpf.o (tsbpf's compiler), with the same map and record layout — and how to read and
 * check them: what their program recorded for a process, and that against /proc/PID/stat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyCoreRelocations, type CoreRelocationResult } from '../../src/btf/core/index.js';
import type { Btf } from '../../src/btf/index.js';
import type { BpfMap } from '../../src/kernel/index.js';
import { readObject, type ObjectSpec } from '../../src/object/index.js';
import { FIXTURES } from './support.js';

/** The fixtures by compiler; `fieldSize`: whether the program records bpf_core_field_size(comm). */
export const CORE_OBJECTS = [
  { compiler: 'clang', path: join(FIXTURES, 'core.bpf.o'), fieldSize: true },
  { compiler: 'tsbpf', path: join(FIXTURES, 'core_ts.bpf.o'), fieldSize: false },
] as const;

/** struct snapshot of core.bpf.c. */
export interface Snapshot {
  calls: bigint;
  pid: number;
  tgid: number;
  ppid: number;
  commSize: number;
  mm: Record<(typeof MM_FIELDS)[number], bigint>;
  comm: string;
}

/** The mm_struct fields core.bpf.c reads, in the order of struct snapshot. */
export const MM_FIELDS = ['start_code', 'end_code', 'start_data', 'end_data', 'start_brk', 'start_stack', 'arg_start', 'arg_end', 'env_start', 'env_end'] as const;

/** The same fields' positions in /proc/PID/stat (proc(5), 1-based). */
const STAT_FIELD: Record<(typeof MM_FIELDS)[number], number> = {
  start_code: 26,
  end_code: 27,
  start_stack: 28,
  start_data: 45,
  end_data: 46,
  start_brk: 47,
  arg_start: 48,
  arg_end: 49,
  env_start: 50,
  env_end: 51,
};

/** The snapshot of process `tgid`, or undefined. */
export function snapshotOf(map: BpfMap, tgid: number): Snapshot | undefined {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, tgid, true);
  const v = map.lookupBytes(key);
  if (!v) return undefined;
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const mm = Object.fromEntries(MM_FIELDS.map((f, i) => [f, d.getBigUint64(24 + 8 * i, true)])) as Snapshot['mm'];
  const comm = Buffer.from(v.subarray(104, 120)).toString('latin1');
  return { calls: d.getBigUint64(0, true), pid: d.getUint32(8, true), tgid: d.getUint32(12, true), ppid: d.getUint32(16, true), commSize: d.getUint32(20, true), mm, comm: comm.slice(0, comm.indexOf('\0') < 0 ? undefined : comm.indexOf('\0')) };
}

/** What /proc/PID/stat says about the same fields. */
export function procStat(pid: number | 'self'): { ppid: number; comm: string; mm: Snapshot['mm'] } {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // "PID (COMM) STATE PPID ...": the comm may hold spaces and parentheses; it ends at the last ')'
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const rest = text.slice(close + 2).trim().split(' '); // rest[0] is field 3
  const field = (n: number) => rest[n - 3]!;
  const mm = Object.fromEntries(MM_FIELDS.map((f) => [f, BigInt(field(STAT_FIELD[f]))])) as Snapshot['mm'];
  return { ppid: Number(field(4)), comm, mm };
}

/** The CO-RE relocations of a fixture's program resolved against `target` (a kernel's BTF). */
export function coreResults(target: Btf, path: string): CoreRelocationResult[] {
  const spec: ObjectSpec = readObject(new Uint8Array(readFileSync(path)));
  const prog = spec.programs.find((p) => p.name === 'snapshot_task')!;
  return applyCoreRelocations(prog.instructions, prog.coreRelos, spec.btf!, target).results;
}

/**
 * What a relocation is about, the same on every kernel: "struct task_struct::tgid: byte offset"
 * from "struct task_struct::tgid (0:93): byte offset 32 -> 1268".
 */
export function reloKey(r: CoreRelocationResult): string {
  return r.description.replace(/ \([\d:]+\)/, '').replace(/ \S+ -> \S+$/, '');
}
