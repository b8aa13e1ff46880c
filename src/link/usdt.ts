/**
 * USDT: user statically-defined tracing probes (DTRACE_PROBE / STAP_PROBE from sys/sdt.h),
 * attached as uprobes at each site the binary's .note.stapsdt records, with the probe's
 * semaphore counted by the kernel (ref_ctr_offset) while attached, and the argument specs
 * written where libbpf's usdt.bpf.h looks for them, so programs can call bpf_usdt_arg(),
 * bpf_usdt_arg_cnt() and bpf_usdt_cookie().
 *
 * How arguments reach the program (as in libbpf): every distinct argument spec gets an id, a
 * slot in the `__bpf_usdt_specs` array map holding the encoded spec; each uprobe carries that
 * id as its BPF cookie (5.15+), which usdt.bpf.h reads with bpf_get_attach_cookie() when the
 * .kconfig value LINUX_HAS_BPF_COOKIE is true. For kernels without cookies, the
 * `__bpf_usdt_ip_to_spec_id` hash maps the probe's address in the process to the id; tsbpf
 * fills it for executables (fixed addresses) and, given a pid, for shared libraries.
 *
 * What is supported, precisely:
 * - notes: every .note.stapsdt entry (owner "stapsdt", type 3, ELF64 either byte order), with
 *   the prelink adjustment against .stapsdt.base applied to the pc and the semaphore;
 * - semaphores: passed as ref_ctr_offset (file offset of the semaphore), so guarded probes
 *   (`if (PROVIDER_NAME_ENABLED())`) fire only while attached;
 * - argument operands (see usdt-args.ts): $const, %reg (all widths), off(%reg), and on objects
 *   built with libbpf 1.7's usdt.bpf.h off(%base,%index,scale); x86_64 and aarch64 registers;
 *   not sym(%rip);
 * - the spec map layout of the program's usdt.bpf.h: libbpf 1.0–1.6 by default, or read from
 *   the object's BTF with usdtSpecLayoutFromBtf(); at most BPF_USDT_MAX_ARG_CNT (12) arguments;
 * - spec ids: one per distinct argument string per attach call, allocated per specs map and
 *   freed on close; usdt_cookie is the same for every site of one attach call;
 * - usdt.bpf.h declares bpf_usdt_arg() and friends as global functions, which the kernel only
 *   verifies with the object's BTF func_info: a loader must pass it (a Collection does). The
 *   version in libbpf 1.1 writes `*res = 0` before checking anything, which kernels treating
 *   global functions' pointer arguments as nullable (6.18 does) reject at load time; with the
 *   helpers made static (as testdata/link/*.bpf.c do) the programs load.
 */
import { readFileSync } from 'node:fs';
import { ET } from '../elf/index.js';
import type { BpfMap } from '../kernel/map.js';
import type { Program } from '../kernel/program.js';
import { expectInteger, expectProgram } from './check.js';
import { openElf, resolveBinary } from './elf-symbols.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';
import { BpfLink, MultiLink, releaseAll, type Link, type Resource } from './link.js';
import { attachUprobeSite } from './uprobe.js';
import { uprobeMulti } from './uprobe-multi.js';
import { CLASSIC_USDT_SPEC_LAYOUT, encodeUsdtSpec, parseUsdtArgs, usdtSpecLayoutBySize, type UsdtSpecLayout } from './usdt-args.js';
import { mapIdOf, programMaps } from './prog-maps.js';
import { readUsdtProbes, type UsdtProbe } from './usdt-notes.js';

/** Options of {@link usdt}. */
export interface UsdtOptions {
  /** Only fire in this process (default: every process running the binary). */
  pid?: number;
  /** What bpf_usdt_cookie() returns in the program. */
  cookie?: bigint;
  /**
   * The program's `__bpf_usdt_specs` map (ARRAY of struct __bpf_usdt_spec). Default: the map of
   * that name the program uses, found through the kernel; a program without one gets no
   * argument specs (bpf_usdt_arg() is then not available to it).
   */
  specs?: BpfMap;
  /** The program's `__bpf_usdt_ip_to_spec_id` map (HASH long -> u32), for kernels without BPF cookies; found like `specs`. */
  ipToSpecId?: BpfMap;
  /** The layout of `specs` values: from the object's BTF (usdtSpecLayoutFromBtf); default: known by the map's value size. */
  specLayout?: UsdtSpecLayout;
}

/** The usdt.bpf.h maps `program` uses (kernel map names are cut to 15 characters). */
function usdtMapsOf(program: Program): { specs?: BpfMap; ipToSpecId?: BpfMap; opened: BpfMap[] } {
  const names = ['__bpf_usdt_specs'.slice(0, 15), '__bpf_usdt_ip_to_spec_id'.slice(0, 15)];
  const opened = programMaps(program, (n) => names.includes(n));
  return { specs: opened.find((m) => m.name === names[0]), ipToSpecId: opened.find((m) => m.name === names[1]), opened };
}

/** Every USDT probe of a binary (path or name looked up like uprobe binaries). */
export function usdtProbes(binary: string): UsdtProbe[] {
  return readUsdtProbes(openElf(resolveBinary(binary, 'usdt')));
}

/**
 * Spec ids in use in this process, per specs map (by kernel map id: the same map may be open
 * through several fds). Processes sharing one specs map (a pinned one) would have to coordinate;
 * libbpf has the same limit.
 */
const usedIds = new Map<number, Set<number>>();

function allocateIds(map: BpfMap, mapId: number, count: number): number[] {
  let used = usedIds.get(mapId);
  if (!used) usedIds.set(mapId, (used = new Set()));
  const ids: number[] = [];
  for (let id = 0; id < map.maxEntries && ids.length < count; id++) if (!used.has(id)) ids.push(id);
  if (ids.length < count) throw new InvalidAttachError('usdt', `the USDT specs map '${map.name}' has ${map.maxEntries} slots and ${used.size} are in use: raise BPF_USDT_MAX_SPEC_CNT`);
  for (const id of ids) used.add(id);
  return ids;
}

/** The address of file offset `offset` of `path` in process `pid`, from /proc/<pid>/maps. */
function runtimeAddress(pid: number, path: string, offset: number): bigint | undefined {
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(line);
    if (!m || m[4] !== path) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    const fileOff = BigInt(`0x${m[3]}`);
    const o = BigInt(offset);
    if (o >= fileOff && o < fileOff + (end - start)) return start + (o - fileOff);
  }
  return undefined;
}

/**
 * Attaches a kprobe-type program (SEC("usdt")) to USDT probe `provider:name` of `binary`: a uprobe
 * at every site of the probe, each passing the id of its argument spec as BPF cookie. A program
 * loaded with expected attach type BPF_TRACE_UPROBE_MULTI gets one uprobe.multi link for all
 * sites instead.
 *
 * Valid probes are listed by {@link usdtProbes} (or `readelf -n binary`, section
 * .note.stapsdt). Probes guarded by a semaphore (`if (PROVIDER_NAME_ENABLED())`) only fire
 * while attached: the kernel increments the semaphore (4.20+).
 *
 * Minimum kernel: 4.20 (semaphores); 5.15 for spec ids through BPF cookies.
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 * Closing frees the spec slots.
 *
 * @example
 * using link = usdt(prog, '/usr/bin/python3', 'python', 'function__entry', { specs: maps.__bpf_usdt_specs });
 */
export function usdt(program: Program, binary: string, provider: string, name: string, options: UsdtOptions = {}): Link {
  expectProgram('usdt', program, ['KPROBE']);
  if (options.pid !== undefined) expectInteger('usdt', 'pid', options.pid, 1);
  const found = options.specs ? undefined : usdtMapsOf(program);
  try {
    return attachUsdt(program, binary, provider, name, found ? { ...options, specs: found.specs, ipToSpecId: options.ipToSpecId ?? found.ipToSpecId } : options, found?.opened ?? []);
  } catch (err) {
    releaseAll(found?.opened ?? []);
    throw err;
  }
}

function attachUsdt(program: Program, binary: string, provider: string, name: string, options: UsdtOptions, owned: readonly BpfMap[]): Link {
  const layout = options.specLayout ?? (options.specs ? usdtSpecLayoutBySize(options.specs.valueSize) : CLASSIC_USDT_SPEC_LAYOUT);
  if (!layout || (options.specs && options.specs.valueSize !== layout.size)) {
    throw new InvalidAttachError('usdt', `the specs map '${options.specs!.name}' has ${options.specs!.valueSize}-byte values, a layout tsbpf does not know: pass specLayout from the object's BTF (usdtSpecLayoutFromBtf)`);
  }
  const path = resolveBinary(binary, 'usdt');
  const elf = openElf(path);
  const all = readUsdtProbes(elf);
  const sites = all.filter((p) => p.provider === provider && p.name === name);
  const label = `${path}:${provider}:${name}`;
  if (sites.length === 0) {
    const known = [...new Set(all.map((p) => `${p.provider}:${p.name}`))];
    throw new AttachTargetNotFoundError('usdt', label, known.length ? `${path} has the USDT probes ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}` : `${path} has no USDT probes (no .note.stapsdt section)`);
  }

  // One spec id per distinct argument string (sites of one probe often share it).
  const holds: Resource[] = [...owned];
  const specIdOf = new Map<string, number>();
  let links: Link[] = [];
  try {
    if (options.specs) {
      const specsMap = options.specs;
      const distinct = [...new Set(sites.map((s) => s.args))];
      const encoded = distinct.map((a) => encodeUsdtSpec(parseUsdtArgs(a), options.cookie ?? 0n, layout));
      const mapId = mapIdOf(specsMap);
      const ids = allocateIds(specsMap, mapId, distinct.length);
      holds.push({
        close: () => {
          const used = usedIds.get(mapId);
          ids.forEach((id) => used?.delete(id));
          if (used?.size === 0) usedIds.delete(mapId);
        },
      });
      distinct.forEach((a, i) => {
        specIdOf.set(a, ids[i]!);
        specsMap.updateBytes(new Uint8Array(Int32Array.of(ids[i]!).buffer), encoded[i]!);
      });
    }
    if (options.ipToSpecId && options.specs) {
      const ipMap = options.ipToSpecId;
      const keys: Uint8Array[] = [];
      for (const s of sites) {
        const ip = elf.type === ET.EXEC ? s.address : options.pid !== undefined ? runtimeAddress(options.pid, path, s.fileOffset) : undefined;
        if (ip === undefined) continue; // shared library without a pid: only cookies can name the spec
        const key = new Uint8Array(BigInt64Array.of(BigInt.asIntN(64, ip)).buffer);
        ipMap.updateBytes(key, new Uint8Array(Uint32Array.of(specIdOf.get(s.args)!).buffer));
        keys.push(key);
      }
      holds.push({ close: () => keys.forEach((k) => ipMap.deleteBytes(k)) });
    }
    const cookieOf = (s: UsdtProbe) => (options.specs ? BigInt(specIdOf.get(s.args)!) : undefined);

    if (program.attachType === 'TRACE_UPROBE_MULTI') {
      const multi = uprobeMulti(program, path, {
        offsets: sites.map((s) => BigInt(s.fileOffset)),
        refCtrOffsets: sites.some((s) => s.semaphoreOffset !== undefined) ? sites.map((s) => BigInt(s.semaphoreOffset ?? 0)) : undefined,
        cookies: options.specs ? sites.map((s) => cookieOf(s)!) : undefined,
        pid: options.pid,
      });
      links = [multi];
      return new UsdtMultiLink(label, multi, holds);
    }
    for (const s of sites) {
      links.push(
        attachUprobeSite(program, { path, offset: BigInt(s.fileOffset), label: `${provider}:${name}@0x${s.address.toString(16)}` }, false, { pid: options.pid, refCtrOffset: s.semaphoreOffset, cookie: cookieOf(s) }, 'usdt'),
      );
    }
    return new MultiLink('usdt', label, links, holds);
  } catch (err) {
    releaseAll(links);
    releaseAll(holds);
    throw err;
  }
}

/** A USDT attachment through one uprobe.multi link: pinnable, with info, like the link itself. */
class UsdtMultiLink extends MultiLink {
  constructor(
    target: string,
    private readonly link: BpfLink,
    holds: readonly Resource[],
  ) {
    super('usdt', target, [link], holds);
  }

  protected override pinnableFd() {
    return this.link.fd;
  }
}
