/**
 * uprobes and uretprobes: dynamic probes on instructions of user-space binaries (executables
 * and shared libraries), for BPF_PROG_TYPE_KPROBE programs, which get the user registers
 * (struct pt_regs) as context. The probe is set on the file (inode + offset), so it fires in
 * every process that maps the file, unless a pid is given.
 */
import { NotSupportedError } from '../errors.js';
import type { Program } from '../kernel/program.js';
import { ensureTracefs } from '../tracefs/mount.js';
import { expectInteger, expectProgram } from './check.js';
import { addressToFileOffset, openElf, resolveBinary, resolveSymbol } from './elf-symbols.js';
import { InvalidAttachError } from './errors.js';
import type { Link, Resource } from './link.js';
import { attachPerfEvent } from './perf-attach.js';
import { legacyEventsFile, openLegacyProbe, openPmuProbe, pmuType, type ProbeSpec } from './probe-events.js';

/** Options of {@link uprobe} and {@link uretprobe}. */
export interface UprobeOptions {
  /** Without a symbol: the file offset to probe. With one: bytes added to the symbol's offset. */
  offset?: number | bigint;
  /** Without a symbol: the virtual address to probe (converted through the PT_LOAD segments). */
  address?: bigint;
  /** Only fire in this process (default: every process that runs the binary). */
  pid?: number;
  /**
   * File offset of a reference counter (a USDT semaphore) the kernel increments while the
   * probe is attached (4.20+).
   */
  refCtrOffset?: number | bigint;
  /** A value the program reads with bpf_get_attach_cookie() (5.15+). */
  cookie?: bigint;
}

/** Where a uprobe goes: the binary's path and the file offset. */
export interface UprobeSite {
  path: string;
  offset: bigint;
  /** 'symbol+0x10' or '0x1234', for messages. */
  label: string;
}

/** Resolves binary + symbol (+ offset) or binary + offset/address to a file offset. */
export function uprobeSite(binary: string, symbol: string | undefined, options: Pick<UprobeOptions, 'offset' | 'address'> = {}, kind = 'uprobe'): UprobeSite {
  const path = resolveBinary(binary, kind);
  const extra = BigInt(options.offset ?? 0);
  if (extra < 0n) throw new InvalidAttachError(kind, `offset must be >= 0, not ${extra}`);
  if (symbol) {
    if (options.address !== undefined) throw new InvalidAttachError(kind, 'give a symbol or an address, not both');
    const sym = resolveSymbol(openElf(path), symbol, path, kind);
    return { path, offset: BigInt(sym.offset) + extra, label: extra ? `${symbol}+0x${extra.toString(16)}` : symbol };
  }
  if (options.address !== undefined) {
    if (options.offset !== undefined) throw new InvalidAttachError(kind, 'give an address or an offset, not both');
    const offset = addressToFileOffset(openElf(path), options.address, path, `${path}:0x${options.address.toString(16)}`, kind);
    return { path, offset: BigInt(offset), label: `0x${options.address.toString(16)}` };
  }
  if (options.offset === undefined) throw new InvalidAttachError(kind, 'give a symbol, an address or an offset');
  return { path, offset: extra, label: `0x${extra.toString(16)}` };
}

/**
 * How this kernel makes uprobes: the uprobe PMU (4.17+), tracefs's uprobe_events, or not at all
 * (CONFIG_UPROBE_EVENTS off).
 */
export function uprobeMechanism(): { pmu: number } | { tracefs: string } {
  const pmu = pmuType('uprobe');
  if (pmu !== undefined) return { pmu };
  let legacy = legacyEventsFile('uprobe');
  if (legacy.root === undefined) {
    ensureTracefs();
    legacy = legacyEventsFile('uprobe');
  }
  if (legacy.present) return { tracefs: legacy.root! };
  throw new NotSupportedError('uprobe', `uprobes are not available: CONFIG_UPROBE_EVENTS is off in this kernel (no /sys/bus/event_source/devices/uprobe, no ${legacy.root}/uprobe_events)`);
}

/** Opens and attaches one uprobe at a resolved site. */
export function attachUprobeSite(program: Program, site: UprobeSite, retprobe: boolean, options: Omit<UprobeOptions, 'offset' | 'address'>, kind: 'uprobe' | 'usdt' = 'uprobe', holds: readonly Resource[] = []): Link {
  const where = `the offset must be an instruction in a loadable segment of ${site.path}`;
  const spec: ProbeSpec = {
    kind: 'uprobe',
    retprobe,
    name: site.path,
    offset: site.offset,
    refCtrOffset: options.refCtrOffset === undefined ? undefined : BigInt(options.refCtrOffset),
    pid: options.pid,
    label: `${site.path}:${site.label}`,
  };
  const target = `${retprobe ? 'ret:' : ''}${site.path}:${site.label}${options.pid !== undefined ? ` pid ${options.pid}` : ''}`;
  const how = uprobeMechanism();
  if ('pmu' in how) return attachPerfEvent(program, openPmuProbe(how.pmu, spec, where), kind, target, { cookie: options.cookie }, holds);
  const legacy = openLegacyProbe(how.tracefs, spec, where);
  return attachPerfEvent(program, legacy.perfFd, kind, target, { cookie: options.cookie }, [...holds, legacy.remove]);
}

function attachUprobe(program: Program, binary: string, symbol: string | undefined, retprobe: boolean, options: UprobeOptions): Link {
  const kind = retprobe ? 'uretprobe' : 'uprobe';
  expectProgram(kind, program, ['KPROBE']);
  if (options.pid !== undefined) expectInteger(kind, 'pid', options.pid, 1);
  if (options.refCtrOffset !== undefined) expectInteger(kind, 'refCtrOffset', options.refCtrOffset);
  const site = uprobeSite(binary, symbol, options, kind);
  return attachUprobeSite(program, site, retprobe, options);
}

/**
 * Attaches a kprobe-type program (BPF_PROG_TYPE_KPROBE) as a uprobe: it runs whenever a process
 * executes the instruction at `symbol` (+ `offset`) of `binary`, with the user registers as
 * context. Without a symbol, `offset` (a file offset) or `address` (a virtual address) says
 * where.
 *
 * `binary` is a path, or a bare name looked up in PATH and the library directories. Valid
 * symbols are those `nm` / `readelf -Ws` show (.symtab, or .dynsym of stripped binaries).
 *
 * Minimum kernel: 4.3; ref_ctr_offset 4.20; bpf_link (pinnable) from 5.15.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = uprobe(prog, '/bin/bash', 'readline');
 */
export function uprobe(program: Program, binary: string, symbol?: string, options: UprobeOptions = {}): Link {
  return attachUprobe(program, binary, symbol, false, options);
}

/**
 * Attaches a kprobe-type program as a uretprobe: it runs as the function at `symbol` returns,
 * with the return value in PT_REGS_RC. Otherwise as {@link uprobe}.
 *
 * @example
 * using link = uretprobe(prog, '/bin/bash', 'readline');
 */
export function uretprobe(program: Program, binary: string, symbol?: string, options: UprobeOptions = {}): Link {
  return attachUprobe(program, binary, symbol, true, options);
}
