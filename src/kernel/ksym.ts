/**
 * `extern ... __ksym` symbols: kernel variables and kernel functions (kfuncs) a program uses,
 * resolved as libbpf resolves them. A typed variable becomes the BTF id of its VAR in the
 * kernel's BTF (ld_imm64 src=BPF_PSEUDO_BTF_ID); a typeless one (`extern const void x __ksym`)
 * its address from /proc/kallsyms; a kfunc the BTF id of its FUNC, in vmlinux or in a module's
 * BTF (then the call names the module's BTF fd through fd_array). A __weak symbol the kernel
 * lacks resolves to 0 (and calls to it are poisoned so that only dead code may contain them);
 * a strong one is a KsymError.
 */
import { readFileSync } from 'node:fs';
import { BtfKind, resolveType, type Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import type { Fd } from '../sys/index.js';
import { moduleBtfFd } from './btf-info.js';
import { findKernelType } from './vmlinux.js';

/** A kernel symbol the object needs that this kernel does not provide (or not usably). */
export class KsymError extends TsbpfError {
  override name = 'KsymError';
  constructor(
    /** The symbol, e.g. 'bpf_task_acquire'. */
    readonly symbol: string,
    readonly detail: string,
  ) {
    super(`extern (ksym) '${symbol}': ${detail}`);
  }
}

/** How one __ksym extern was resolved. */
export type KsymResolution =
  /** A kernel variable or function by BTF id; `btfFd` is the module's BTF fd, 0 for vmlinux. */
  | { kind: 'btf'; name: string; btfKind: 'var' | 'func'; btfId: number; btfFd: number; module: string | undefined }
  /** A typeless variable by address (/proc/kallsyms). */
  | { kind: 'address'; name: string; address: bigint }
  /** A __weak symbol this kernel lacks. */
  | { kind: 'missing'; name: string };

/** What the object says about an extern: a VAR (typed or not) or a FUNC of its .ksyms DATASEC. */
function localKind(btf: Btf | undefined, name: string): 'func' | 'var' | 'typeless' | undefined {
  const sec = btf?.typeByName('.ksyms', BtfKind.DATASEC);
  if (!btf || !sec || sec.type.kind !== BtfKind.DATASEC) return undefined;
  for (const v of sec.type.vars) {
    if (btf.nameOf(v.type) !== name) continue;
    const t = btf.type(v.type);
    if (t.kind === BtfKind.FUNC) return 'func';
    if (t.kind === BtfKind.VAR) return resolveType(btf, t.type) === 0 ? 'typeless' : 'var';
  }
  return undefined;
}

let kallsyms: Map<string, bigint> | undefined;

/** Address of `name` in /proc/kallsyms (first match), or undefined. */
export function kallsymsAddress(name: string): bigint | undefined {
  if (!kallsyms) {
    kallsyms = new Map();
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'latin1');
    } catch {
      // unreadable: nothing resolves
    }
    for (const line of text.split('\n')) {
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      if (first < 0 || second < 0) continue;
      const tab = line.indexOf('\t', second + 1);
      const sym = line.slice(second + 1, tab < 0 ? undefined : tab);
      if (!kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${line.slice(0, first)}`));
    }
  }
  return kallsyms.get(name);
}

/**
 * Resolves the __ksym externs of one load. Holds the BTF fds of modules whose symbols were
 * used until {@link KsymResolver.close}; `fdArray` lists them for BPF_PROG_LOAD (index 0 is
 * reserved: a kfunc call with off=0 means vmlinux).
 */
export class KsymResolver {
  private readonly cache = new Map<string, KsymResolution>();
  private readonly moduleFds = new Map<string, Fd>();
  /** fd_array for BPF_PROG_LOAD: [0, module BTF fds...]. */
  readonly fdArray: number[] = [0];

  constructor(
    private readonly objectBtf: Btf | undefined,
    private readonly kernel: () => Btf,
    private readonly weak: (name: string) => boolean,
  ) {}

  /** Resolves `name`, used by a call (kfunc) or by an ld_imm64 (variable or function address). */
  resolve(name: string, use: 'call' | 'load'): KsymResolution {
    const key = `${use}:${name}`;
    let r = this.cache.get(key);
    if (!r) {
      r = this.lookup(name, use);
      this.cache.set(key, r);
    }
    return r;
  }

  /** Index of a module's BTF fd in fd_array (the `off` of a kfunc call). */
  fdIndex(r: KsymResolution): number {
    if (r.kind !== 'btf' || r.btfFd === 0) return 0;
    return this.fdArray.indexOf(r.btfFd);
  }

  private lookup(name: string, use: 'call' | 'load'): KsymResolution {
    const local = localKind(this.objectBtf, name) ?? (use === 'call' ? 'func' : undefined);
    if (use === 'call' && local !== 'func') throw new KsymError(name, 'is called but not declared as a function');
    if (local === 'typeless') {
      const address = kallsymsAddress(name);
      if (address !== undefined && address !== 0n) return { kind: 'address', name, address };
      if (this.weak(name)) return { kind: 'missing', name };
      throw new KsymError(name, address === 0n ? '/proc/kallsyms hides addresses (kernel.kptr_restrict): cannot resolve a typeless ksym' : 'not in /proc/kallsyms');
    }
    const kinds: Array<'var' | 'func'> = local === 'func' ? ['func'] : local === 'var' ? ['var'] : ['var', 'func'];
    for (const k of kinds) {
      const found = this.findInKernel(name, k);
      if (found) return found;
    }
    if (this.weak(name)) return { kind: 'missing', name };
    const what = local === 'func' ? 'kernel function (kfunc)' : 'kernel variable';
    throw new KsymError(name, `no ${what} of that name in the kernel's BTF (/sys/kernel/btf/vmlinux or a module's); declare it __weak to load without it`);
  }

  private findInKernel(name: string, kind: 'var' | 'func'): KsymResolution | undefined {
    const found = findKernelType(name, kind === 'var' ? BtfKind.VAR : BtfKind.FUNC, this.kernel());
    if (!found) return undefined;
    const { id, module } = found;
    if (module === undefined) return { kind: 'btf', name, btfKind: kind, btfId: id, btfFd: 0, module };
    let fd = this.moduleFds.get(module);
    if (!fd) {
      fd = moduleBtfFd(module);
      if (!fd) return undefined; // BTF in sysfs but no BTF object: the module is going away
      this.moduleFds.set(module, fd);
      this.fdArray.push(fd.value);
    }
    return { kind: 'btf', name, btfKind: kind, btfId: id, btfFd: fd.value, module };
  }

  /** Closes the module BTF fds (after the programs that needed them are loaded). */
  close(): void {
    for (const fd of this.moduleFds.values()) fd.close();
    this.moduleFds.clear();
  }
}
