/**
 * kprobe.multi: one bpf_link that attaches a kprobe program to many kernel functions at once
 * (BPF_LINK_CREATE with BPF_TRACE_KPROBE_MULTI), built on fprobe rather than one kprobe each.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotSupportedError } from '../errors.js';
import type { Program } from '../kernel/program.js';
import { bpf, Errno, Fd, syscalls } from '../sys/index.js';
import { tracefsRoot } from '../tracefs/mount.js';
import { AttachType } from '../uapi/enums.js';
import { expectProgram } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink } from './link.js';

/** BPF_F_KPROBE_MULTI_RETURN (include/uapi/linux/bpf.h). */
const KPROBE_MULTI_RETURN = 1;

/** Options of {@link kprobeMulti}: the functions by name, by address, or by a glob pattern. */
export interface KprobeMultiOptions {
  /** Kernel function names. */
  symbols?: readonly string[];
  /** Kernel addresses (from /proc/kallsyms). */
  addresses?: readonly bigint[];
  /** A glob ('tcp_*', 'vfs_?ead'), matched against the traceable functions. */
  pattern?: string;
  /** One cookie per function, for bpf_get_attach_cookie(). */
  cookies?: readonly bigint[];
  /** Attach to the functions' returns (kretprobe.multi). */
  retprobe?: boolean;
}

/** A glob (only * and ?) as a regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The traceable kernel functions matching a glob: from tracefs's available_filter_functions,
 * or, where that cannot be read, the text symbols of /proc/kallsyms.
 */
export function matchKernelFunctions(pattern: string): string[] {
  const re = globToRegExp(pattern);
  const root = tracefsRoot();
  const out = new Set<string>();
  let names: string[] | undefined;
  const filterFile = root ? join(root, 'available_filter_functions') : undefined;
  if (filterFile && existsSync(filterFile)) {
    try {
      names = readFileSync(filterFile, 'utf8').split('\n').map((l) => l.split(/\s/)[0]!);
    } catch {
      names = undefined; // refused by a security policy on some machines
    }
  }
  if (!names) {
    names = [];
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [, type, name] = line.split(/\s+/);
      if ((type === 't' || type === 'T') && name) names.push(name);
    }
  }
  for (const n of names) if (n && re.test(n)) out.add(n);
  return [...out].sort();
}

/**
 * Attaches a kprobe program loaded with expected attach type BPF_TRACE_KPROBE_MULTI to many
 * kernel functions at once, given by name, address or glob pattern.
 *
 * Valid names are in /sys/kernel/tracing/available_filter_functions. The kernel needs
 * CONFIG_FPROBE; where it lacks it (or kprobes altogether), this throws a NotSupportedError.
 *
 * Minimum kernel: 5.18 (cookies too; kretprobe.multi as well).
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = kprobeMulti(prog, { pattern: 'vfs_*' });
 */
export function kprobeMulti(program: Program, options: KprobeMultiOptions): BpfLink {
  const kind = 'kprobe.multi';
  expectProgram(kind, program, ['KPROBE'], ['TRACE_KPROBE_MULTI']);
  const given = [options.symbols, options.addresses, options.pattern].filter((x) => x !== undefined).length;
  if (given !== 1) throw new InvalidAttachError(kind, 'give exactly one of symbols, addresses or pattern');
  const symbols = options.pattern !== undefined ? matchKernelFunctions(options.pattern) : options.symbols;
  if (options.pattern !== undefined && symbols!.length === 0) throw new AttachTargetNotFoundError(kind, options.pattern, 'no kernel function matches; see /sys/kernel/tracing/available_filter_functions');
  const count = symbols?.length ?? options.addresses!.length;
  if (count === 0) throw new InvalidAttachError(kind, 'no functions given');
  if (options.cookies && options.cookies.length !== count) throw new InvalidAttachError(kind, `${options.cookies.length} cookies for ${count} functions`);
  for (const s of symbols ?? []) if (!/^[\w.$]+$/.test(s)) throw new InvalidAttachError(kind, `invalid kernel symbol '${s}'`);

  const sys = syscalls();
  // syms is an array of pointers to NUL-terminated names; `strings` keeps them alive.
  const strings = (symbols ?? []).map((s) => new TextEncoder().encode(s + '\0'));
  const syms = symbols ? new BigUint64Array(strings.map((b) => sys.addressOf(b))) : undefined;
  const addrs = options.addresses ? BigUint64Array.from(options.addresses) : undefined;
  const cookies = options.cookies ? BigUint64Array.from(options.cookies) : undefined;
  const bytes = (a: BigUint64Array | undefined) => (a ? new Uint8Array(a.buffer) : undefined);
  const target = options.pattern ?? (symbols ? symbols.join(',') : `${count} addresses`);
  const { ret } = bpf(
    'LINK_CREATE',
    {
      prog_fd: program.fd.value,
      attach_type: AttachType.TRACE_KPROBE_MULTI,
      'kprobe_multi.flags': options.retprobe ? KPROBE_MULTI_RETURN : 0,
      'kprobe_multi.cnt': count,
      'kprobe_multi.syms': bytes(syms),
      'kprobe_multi.addrs': bytes(addrs),
      'kprobe_multi.cookies': bytes(cookies),
    },
    { allow: [Errno.EOPNOTSUPP, Errno.ENOTSUPP, Errno.ESRCH, Errno.ENOENT], subject: `${kind} ${target.slice(0, 80)}` },
  );
  void strings;
  if (ret === -Errno.EOPNOTSUPP || ret === -Errno.ENOTSUPP) {
    throw new NotSupportedError(kind, 'this kernel has no kprobe.multi links: they need CONFIG_FPROBE (and kernel 5.18+); attach one kprobe per function, or use tracepoints');
  }
  if (ret < 0) throw new AttachTargetNotFoundError(kind, target.slice(0, 200), 'some function is not traceable; see /sys/kernel/tracing/available_filter_functions');
  return new BpfLink(kind, target, new Fd(ret));
}
