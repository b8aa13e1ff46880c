/**
 * Values of `extern ... __kconfig` variables, as libbpf fills them: CONFIG_* from the running
 * kernel's build configuration (/proc/config.gz, or /boot/config-$(uname -r)), and the virtual
 * LINUX_* externs libbpf defines (LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE,
 * LINUX_HAS_SYSCALL_WRAPPER). Each value is encoded by the extern's BTF type: bool, char,
 * `enum libbpf_tristate`, integers of 1-8 bytes, or char arrays for strings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { BtfIntEncoding, BtfKind, kindName, resolveType, type Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import type { MapSpec } from '../object/index.js';

/** A __kconfig extern that cannot be satisfied: unknown, missing (and not __weak), or of the wrong type. */
export class KconfigError extends TsbpfError {
  override name = 'KconfigError';
  constructor(
    /** The extern's name, e.g. 'CONFIG_HZ'. */
    readonly variable: string,
    readonly detail: string,
  ) {
    super(`extern (kconfig) '${variable}': ${detail}`);
  }
}

/**
 * KERNEL_VERSION(a, b, c) of a release string such as '6.18.44-fc-v595': (a << 16) + (b << 8)
 * + min(c, 255), as the kernel's own macro clamps the sublevel.
 *
 * @example
 * kernelVersionCode('6.1.0-18-amd64'); // 0x060100
 */
export function kernelVersionCode(rel: string = release()): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

let configCache: { map: Map<string, string>; source: string } | null | undefined;

/**
 * The running kernel's build configuration as CONFIG_NAME -> raw value ('y', 'm', '250',
 * '"string"'), read from /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-$(uname -r);
 * undefined when neither exists. Lines "# CONFIG_X is not set" are not values, as for libbpf.
 */
export function readKernelConfig(): { map: Map<string, string>; source: string } | undefined {
  if (configCache !== undefined) return configCache ?? undefined;
  const candidates: Array<[string, (b: Buffer) => Buffer]> = [
    ['/proc/config.gz', (b) => gunzipSync(b)],
    [`/boot/config-${release()}`, (b) => b],
  ];
  for (const [path, decode] of candidates) {
    if (!existsSync(path)) continue;
    try {
      configCache = { map: parseKernelConfig(decode(readFileSync(path)).toString('utf8')), source: path };
      return configCache;
    } catch {
      // unreadable or corrupt: try the next source
    }
  }
  configCache = null;
  return undefined;
}

/** Parses Kconfig output: `CONFIG_NAME=value` lines. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('CONFIG_')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return out;
}

/** How libbpf classifies a kconfig extern's type (find_kcfg_type). */
type KcfgType = { kind: 'bool' } | { kind: 'char' } | { kind: 'tristate' } | { kind: 'int'; size: number; signed: boolean } | { kind: 'chars'; size: number };

function kcfgType(btf: Btf, typeId: number | undefined, name: string): KcfgType {
  const id = typeId === undefined ? 0 : resolveType(btf, typeId);
  if (id === 0) throw new KconfigError(name, 'has no BTF type');
  const t = btf.type(id);
  if (t.kind === BtfKind.INT) {
    if (t.size === 1 && t.encoding & BtfIntEncoding.BOOL) return { kind: 'bool' };
    if (t.size === 1 && t.encoding & BtfIntEncoding.CHAR) return { kind: 'char' };
    if ([1, 2, 4, 8].includes(t.size) && t.bits === t.size * 8) return { kind: 'int', size: t.size, signed: (t.encoding & BtfIntEncoding.SIGNED) !== 0 };
  }
  if (t.kind === BtfKind.ENUM && t.name === 'libbpf_tristate' && t.size === 4) return { kind: 'tristate' };
  if (t.kind === BtfKind.ARRAY) {
    const e = btf.type(resolveType(btf, t.type));
    if (e.kind === BtfKind.INT && e.size === 1 && (e.encoding & BtfIntEncoding.CHAR || e.name === 'char')) return { kind: 'chars', size: t.nelems };
  }
  throw new KconfigError(name, `its type (${t.name || kindName(t.kind)}) is none of bool, char, enum libbpf_tristate, an integer or a char array`);
}

/** Tristate values of `enum libbpf_tristate` (bpf_helpers.h). */
const TRISTATE = { n: 0, y: 1, m: 2 } as const;

function setNumber(out: DataView, offset: number, t: KcfgType, value: bigint, name: string): void {
  if (t.kind === 'bool') {
    if (value > 1n || value < 0n) throw new KconfigError(name, `value ${value} is not a boolean`);
    out.setUint8(offset, Number(value));
    return;
  }
  if (t.kind === 'char') {
    out.setUint8(offset, Number(value & 0xffn));
    return;
  }
  if (t.kind !== 'int') throw new KconfigError(name, `value ${value} implies an integer, char or bool type`);
  const bits = BigInt(t.size * 8);
  const fits = t.signed ? value >= -(1n << (bits - 1n)) && value < 1n << (bits - 1n) : value >= 0n ? value < 1n << bits : value >= -(1n << (bits - 1n));
  if (!fits) throw new KconfigError(name, `value ${value} does not fit in ${t.size} bytes`);
  const u = BigInt.asUintN(Number(bits), value);
  if (t.size === 8) out.setBigUint64(offset, u, true);
  else if (t.size === 4) out.setUint32(offset, Number(u), true);
  else if (t.size === 2) out.setUint16(offset, Number(u), true);
  else out.setUint8(offset, Number(u));
}

/** Encodes one raw Kconfig value ('y', '250', '0x10', '"str"') into the extern's slot. */
function setRaw(out: DataView, offset: number, t: KcfgType, raw: string, name: string): void {
  if (raw === 'y' || raw === 'n' || raw === 'm') {
    if (t.kind === 'tristate') out.setUint32(offset, TRISTATE[raw], true);
    else if (t.kind === 'char') out.setUint8(offset, raw.charCodeAt(0));
    else if (t.kind === 'bool' && raw !== 'm') out.setUint8(offset, raw === 'y' ? 1 : 0);
    else throw new KconfigError(name, `value '${raw}' implies a tristate, bool or char type${t.kind === 'bool' ? ' (a bool cannot hold m: use enum libbpf_tristate)' : ''}`);
    return;
  }
  if (raw.startsWith('"')) {
    if (t.kind !== 'chars') throw new KconfigError(name, `value ${raw} implies a char array type`);
    if (raw.length < 2 || !raw.endsWith('"')) throw new KconfigError(name, `value ${raw} is an unterminated string`);
    const bytes = new TextEncoder().encode(raw.slice(1, -1).replace(/\\(.)/g, '$1'));
    // Like libbpf: too long a string is cut to fit with its NUL.
    const n = Math.min(bytes.byteLength, t.size - 1);
    for (let i = 0; i < n; i++) out.setUint8(offset + i, bytes[i]!);
    out.setUint8(offset + n, 0);
    return;
  }
  let value: bigint;
  try {
    // strtoull(.., 0): decimal, 0x hex or leading-0 octal; negative numbers for signed ints.
    const neg = raw.startsWith('-');
    const body = neg ? raw.slice(1) : raw;
    const v = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    value = neg ? -v : v;
  } catch {
    throw new KconfigError(name, `value '${raw}' is neither y/n/m, a number nor a quoted string`);
  }
  setNumber(out, offset, t, value, name);
}

/** What the virtual LINUX_* externs need from the kernel. */
export interface KconfigEnvironment {
  /** Kernel release, default os.release(). */
  release?: string;
  /** CONFIG_* values; default: the running kernel's (see {@link readKernelConfig}). */
  config?: ReadonlyMap<string, string>;
  /** LINUX_HAS_BPF_COOKIE: bpf_get_attach_cookie() is available (5.15). */
  hasBpfCookie?: () => boolean;
  /** LINUX_HAS_SYSCALL_WRAPPER: syscalls go through pt_regs wrappers (__x64_sys_*). */
  hasSyscallWrapper?: () => boolean;
}

/**
 * The initial value of the .kconfig map: every extern of `map` resolved. `weak(name)` says
 * whether an extern was declared __weak: those default to zero when the kernel has no value,
 * others are a KconfigError.
 *
 * @example
 * const data = kconfigData(kconfigMap, spec.btf!, (n) => false);
 */
export function kconfigData(map: MapSpec, btf: Btf, weak: (name: string) => boolean, env: KconfigEnvironment = {}): Uint8Array {
  const data = new Uint8Array(map.valueSize);
  const out = new DataView(data.buffer);
  let config = env.config;
  const configSource = (): ReadonlyMap<string, string> => {
    if (config) return config;
    const read = readKernelConfig();
    config = read?.map ?? new Map();
    return config;
  };
  for (const v of map.variables) {
    const t = kcfgType(btf, v.typeId, v.name);
    if (v.name.startsWith('LINUX_')) {
      let value: bigint | undefined;
      if (v.name === 'LINUX_KERNEL_VERSION') {
        if (t.kind !== 'int' || t.size !== 4) throw new KconfigError(v.name, 'must be declared as a 32-bit unsigned integer (unsigned int)');
        value = BigInt(kernelVersionCode(env.release));
      } else if (v.name === 'LINUX_HAS_BPF_COOKIE') value = env.hasBpfCookie?.() ? 1n : 0n;
      else if (v.name === 'LINUX_HAS_SYSCALL_WRAPPER') value = env.hasSyscallWrapper?.() ? 1n : 0n;
      else if (!weak(v.name)) throw new KconfigError(v.name, 'unrecognized virtual extern (libbpf defines LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE and LINUX_HAS_SYSCALL_WRAPPER)');
      if (value !== undefined) setNumber(out, v.offset, t, value, v.name);
      continue;
    }
    if (!v.name.startsWith('CONFIG_')) throw new KconfigError(v.name, 'unrecognized extern: __kconfig names start with CONFIG_ or LINUX_');
    const raw = configSource().get(v.name);
    if (raw === undefined) {
      if (weak(v.name)) continue;
      const where = readKernelConfig()?.source;
      throw new KconfigError(
        v.name,
        where || env.config
          ? `not set in the kernel configuration${where ? ` (${where})` : ''}; declare it __weak to default to 0`
          : 'the kernel configuration is unavailable (no /proc/config.gz or /boot/config-$(uname -r)); declare it __weak to default to 0',
      );
    }
    setRaw(out, v.offset, t, raw, v.name);
  }
  return data;
}
