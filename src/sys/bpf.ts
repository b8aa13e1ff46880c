/**
 * The bpf() system call with typed arguments: each command's attr is built by field name from
 * the layouts generated from the kernel's BTF, results come back as numbers or typed errors,
 * and the explain mode shows every call.
 */
import { BPF_ATTR, BPF_ATTR_SIZE } from '../uapi/layouts.js';
import { BpfCmd } from '../uapi/enums.js';
import { Errno } from './errno.js';
import { syscallError } from './errors.js';
import { describeResult, describeStruct, explaining, explainLine } from './explain.js';
import { syscalls } from './native.js';
import { Struct, type FieldValue } from './struct.js';

/** A bpf() command name as in `enum bpf_cmd` without BPF_ ('MAP_CREATE', 'PROG_LOAD', ...). */
export type BpfCommand = keyof typeof BpfCmd;
type Layouts = typeof BPF_ATTR;

/** Which part of union bpf_attr each command uses. */
const LAYOUT_OF = {
  MAP_CREATE: 'map_create',
  MAP_LOOKUP_ELEM: 'map_elem',
  MAP_UPDATE_ELEM: 'map_elem',
  MAP_DELETE_ELEM: 'map_elem',
  MAP_GET_NEXT_KEY: 'map_elem',
  MAP_LOOKUP_AND_DELETE_ELEM: 'map_elem',
  MAP_FREEZE: 'map_elem',
  PROG_LOAD: 'prog_load',
  OBJ_PIN: 'obj',
  OBJ_GET: 'obj',
  PROG_ATTACH: 'prog_attach',
  PROG_DETACH: 'prog_attach',
  PROG_TEST_RUN: 'test',
  PROG_GET_NEXT_ID: 'get_id',
  MAP_GET_NEXT_ID: 'get_id',
  BTF_GET_NEXT_ID: 'get_id',
  LINK_GET_NEXT_ID: 'get_id',
  PROG_GET_FD_BY_ID: 'get_id',
  MAP_GET_FD_BY_ID: 'get_id',
  BTF_GET_FD_BY_ID: 'get_id',
  LINK_GET_FD_BY_ID: 'get_id',
  OBJ_GET_INFO_BY_FD: 'info',
  PROG_QUERY: 'query',
  RAW_TRACEPOINT_OPEN: 'raw_tracepoint',
  BTF_LOAD: 'btf_load',
  TASK_FD_QUERY: 'task_fd_query',
  MAP_LOOKUP_BATCH: 'batch',
  MAP_LOOKUP_AND_DELETE_BATCH: 'batch',
  MAP_UPDATE_BATCH: 'batch',
  MAP_DELETE_BATCH: 'batch',
  LINK_CREATE: 'link_create',
  LINK_UPDATE: 'link_update',
  LINK_DETACH: 'link_detach',
  ENABLE_STATS: 'enable_stats',
  ITER_CREATE: 'iter_create',
  PROG_BIND_MAP: 'prog_bind_map',
  TOKEN_CREATE: 'token_create',
} as const satisfies Partial<Record<BpfCommand, keyof Layouts>>;

/** Commands tsbpf knows the attr layout of. */
export type KnownCommand = keyof typeof LAYOUT_OF;
/** The field names of a command's attr. */
export type AttrFields<C extends KnownCommand> = Extract<keyof Layouts[(typeof LAYOUT_OF)[C]], string>;

/** What a successful (or allowed-to-fail) call returns. */
export interface BpfResult<C extends KnownCommand> {
  /** The result (an fd, 0, ...) or -errno for an errno listed in `allow`. */
  ret: number;
  /** The attr after the call: the kernel writes results into it (retval, info_len, count). */
  attr: Struct<AttrFields<C>>;
}

/** Options of {@link bpf}. */
export interface BpfOptions {
  /** errnos returned as a negative `ret` instead of thrown (ENOENT for lookups, ...), or 'all'. */
  allow?: readonly number[] | 'all';
  /** What is being worked on, for error messages ("map 'counts'"). */
  subject?: string;
  /** Replacements for the explain mode's rendering of fields ("insns=[12 instructions]"). */
  hints?: Readonly<Record<string, string>>;
}

/** A fresh attr for `cmd`, to fill before calling {@link bpfAttr}. */
export function newAttr<C extends KnownCommand>(cmd: C): Struct<AttrFields<C>> {
  const layout = LAYOUT_OF[cmd];
  const sys = syscalls();
  return new Struct<AttrFields<C>>(`bpf_attr.${layout}`, BPF_ATTR[layout], BPF_ATTR_SIZE, (v) => sys.addressOf(v));
}

// The kernel can return EAGAIN from PROG_LOAD under memory pressure; libbpf retries too.
const RETRIES_ON_EAGAIN = 5;

/**
 * Calls bpf(cmd, attr). Throws a SyscallError (PermissionError for EPERM/EACCES) naming the
 * command, the errno and a remedy, unless the errno is in `options.allow`.
 *
 * @example
 * const { ret: fd } = bpf('MAP_CREATE', { map_type: MapType.HASH, key_size: 4, value_size: 8, max_entries: 64, map_name: 'counts' });
 */
export function bpf<C extends KnownCommand>(cmd: C, values: Partial<Record<AttrFields<C>, FieldValue | undefined>>, options: BpfOptions = {}): BpfResult<C> {
  return bpfAttr(cmd, newAttr(cmd).assign(values), options);
}

/** Calls bpf(cmd, attr) with an attr built by the caller (see {@link bpf}). */
export function bpfAttr<C extends KnownCommand>(cmd: C, attr: Struct<AttrFields<C>>, options: BpfOptions = {}): BpfResult<C> {
  const sys = syscalls();
  const code = BpfCmd[cmd];
  let ret = sys.bpf(code, attr.bytes);
  for (let i = 0; ret === -Errno.EAGAIN && cmd === 'PROG_LOAD' && i < RETRIES_ON_EAGAIN; i++) ret = sys.bpf(code, attr.bytes);
  if (explaining()) explainLine(`bpf(BPF_${cmd}, ${describeStruct(attr, options.hints)}, ${attr.bytes.byteLength})${describeResult(ret)}`);
  if (ret < 0 && options.allow !== 'all' && !options.allow?.includes(-ret)) throw syscallError(`BPF_${cmd}`, -ret, options.subject);
  return { ret, attr };
}
