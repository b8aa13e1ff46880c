/**
 * uprobe.multi: one bpf_link holding uprobes at many offsets of one binary
 * (BPF_LINK_CREATE with BPF_TRACE_UPROBE_MULTI), e.g. every function matching a pattern, or
 * every site of a USDT probe.
 */
import { NotSupportedError } from '../errors.js';
import { SHN, STT } from '../elf/index.js';
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, syscallError } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { kernelKnowsAttachType } from '../kernel/features.js';
import { expectInteger, expectProgram } from './check.js';
import { openElf, resolveBinary, resolveSymbol } from './elf-symbols.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { globToRegExp } from './kprobe-multi.js';
import { BpfLink } from './link.js';

/** BPF_F_UPROBE_MULTI_RETURN (include/uapi/linux/bpf.h). */
const UPROBE_MULTI_RETURN = 1;

/** Options of {@link uprobeMulti}: the probe sites by symbol, by file offset, or by glob. */
export interface UprobeMultiOptions {
  /** Symbols of the binary. */
  symbols?: readonly string[];
  /** File offsets. */
  offsets?: readonly bigint[];
  /** A glob over the binary's function symbols ('tsbpf_*'). */
  pattern?: string;
  /** One reference counter (USDT semaphore) file offset per site, 0 for none. */
  refCtrOffsets?: readonly bigint[];
  /** One cookie per site, for bpf_get_attach_cookie(). */
  cookies?: readonly bigint[];
  /** Only fire in this process. */
  pid?: number;
  /** Attach to the functions' returns (uretprobe.multi). */
  retprobe?: boolean;
}

/** The defined function symbols of a binary matching a glob, sorted. */
export function matchBinaryFunctions(path: string, pattern: string): string[] {
  const re = globToRegExp(pattern);
  const elf = openElf(path);
  const out = new Set<string>();
  for (const table of [elf.symbols(), elf.dynamicSymbols()]) {
    for (const s of table) if (s.type === STT.FUNC && s.shndx !== SHN.UNDEF && s.name && re.test(s.name)) out.add(s.name);
  }
  return [...out].sort();
}

/**
 * Attaches a kprobe-type program loaded with expected attach type BPF_TRACE_UPROBE_MULTI to many
 * places of one binary at once. Sites are given as symbols, file offsets or a glob over the
 * binary's function symbols.
 *
 * Minimum kernel: 6.6. Where the kernel lacks uprobe.multi links this throws a
 * NotSupportedError; attach one {@link uprobe} per site instead.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = uprobeMulti(prog, '/usr/lib/x86_64-linux-gnu/libc.so.6', { pattern: 'malloc*' });
 */
export function uprobeMulti(program: Program, binary: string, options: UprobeMultiOptions): BpfLink {
  const kind = 'uprobe.multi';
  expectProgram(kind, program, ['KPROBE'], ['TRACE_UPROBE_MULTI', 'TRACE_UPROBE_SESSION']);
  const given = [options.symbols, options.offsets, options.pattern].filter((x) => x !== undefined).length;
  if (given !== 1) throw new InvalidAttachError(kind, 'give exactly one of symbols, offsets or pattern');
  if (options.pid !== undefined) expectInteger(kind, 'pid', options.pid, 1);
  const path = resolveBinary(binary, kind);
  let symbols = options.symbols;
  if (options.pattern !== undefined) {
    symbols = matchBinaryFunctions(path, options.pattern);
    if (symbols.length === 0) throw new AttachTargetNotFoundError(kind, `${path}:${options.pattern}`, `no function symbol of ${path} matches`);
  }
  const elf = symbols ? openElf(path) : undefined;
  const offsets = symbols ? symbols.map((s) => BigInt(resolveSymbol(elf!, s, path, kind).offset)) : [...options.offsets!];
  const count = offsets.length;
  if (count === 0) throw new InvalidAttachError(kind, 'no sites given');
  for (const [what, list] of [['refCtrOffsets', options.refCtrOffsets], ['cookies', options.cookies]] as const) {
    if (list && list.length !== count) throw new InvalidAttachError(kind, `${list.length} ${what} for ${count} sites`);
  }
  const u64s = (list: readonly bigint[] | undefined) => (list ? new Uint8Array(BigUint64Array.from(list).buffer) : undefined);
  const target = `${path}:${options.pattern ?? (symbols ? symbols.join(',') : `${count} offsets`)}`;
  const { ret } = bpf(
    'LINK_CREATE',
    {
      prog_fd: program.fd.value,
      attach_type: AttachType[program.attachType as 'TRACE_UPROBE_MULTI'],
      'uprobe_multi.path': path,
      'uprobe_multi.offsets': u64s(offsets),
      'uprobe_multi.ref_ctr_offsets': u64s(options.refCtrOffsets),
      'uprobe_multi.cookies': u64s(options.cookies),
      'uprobe_multi.cnt': count,
      'uprobe_multi.flags': options.retprobe ? UPROBE_MULTI_RETURN : 0,
      'uprobe_multi.pid': options.pid,
    },
    { allow: [Errno.EOPNOTSUPP, Errno.ENOTSUPP, Errno.EINVAL], subject: `${kind} ${target.slice(0, 120)}` },
  );
  // Kernels before 6.6 answer EINVAL for the attach type they do not know.
  if (ret === -Errno.EINVAL && kernelKnowsAttachType('TRACE_UPROBE_MULTI') !== false) throw syscallError('BPF_LINK_CREATE', Errno.EINVAL, `${kind} ${target.slice(0, 120)}`);
  if (ret < 0) throw new NotSupportedError(kind, 'this kernel has no uprobe.multi links (6.6+ with CONFIG_UPROBES); attach one uprobe per site');
  return new BpfLink(kind, target, new Fd(ret));
}
