/**
 * The running kernel's BTF: /sys/kernel/btf/vmlinux, and the split BTF of loaded modules under
 * /sys/kernel/btf/<module>. Parsed once per process (the parser is lazy, so opening vmlinux
 * costs one pass over type headers) and shared by CO-RE, ksym resolution, attach targets and links.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf, type Btf } from '../btf/index.js';
import { NotSupportedError } from '../errors.js';

/** Where the kernel publishes its BTF (CONFIG_DEBUG_INFO_BTF, kernel 5.4+). */
export const KERNEL_BTF_DIR = '/sys/kernel/btf';

let vmlinux: Btf | undefined;
const modules = new Map<string, Btf | null>();

/**
 * The kernel's own BTF, parsed once. Throws NotSupportedError when the kernel was built without
 * CONFIG_DEBUG_INFO_BTF (kernel 5.4+).
 *
 * @example
 * kernelBtf().typeByName('task_struct');
 */
export function kernelBtf(): Btf {
  if (vmlinux) return vmlinux;
  const path = join(KERNEL_BTF_DIR, 'vmlinux');
  if (!existsSync(path)) {
    throw new NotSupportedError(
      'kernel BTF',
      `${path} does not exist: the kernel was built without CONFIG_DEBUG_INFO_BTF (needs 5.4+), which BTF-typed programs (tp_btf, fentry, fexit, LSM, iterators) need; the loader can take a BTF file as options.kernelBtf`,
    );
  }
  vmlinux = parseBtf(readFileSync(path));
  return vmlinux;
}

/** Names of the kernel modules that publish BTF (/sys/kernel/btf/<name>), without vmlinux. */
export function moduleBtfNames(): string[] {
  try {
    return readdirSync(KERNEL_BTF_DIR).filter((n) => n !== 'vmlinux').sort();
  } catch {
    return [];
  }
}

/** A module's split BTF on top of `base` (default: the kernel's), or undefined if unreadable. */
export function moduleBtf(name: string, base: Btf = kernelBtf()): Btf | undefined {
  const key = name;
  if (modules.has(key) && base === vmlinux) return modules.get(key) ?? undefined;
  let btf: Btf | undefined;
  try {
    btf = parseBtf(readFileSync(join(KERNEL_BTF_DIR, name)), { base });
  } catch {
    btf = undefined;
  }
  if (base === vmlinux) modules.set(key, btf ?? null);
  return btf;
}

/** Where a named type is in the kernel's BTF: its id, and the module whose BTF has it. */
export interface KernelType {
  id: number;
  /** The kernel module whose split BTF defines it; undefined for vmlinux. */
  module: string | undefined;
}

/**
 * Finds the type `name` of BTF kind `kind` in the kernel's BTF: vmlinux first, then the types
 * each module's split BTF defines itself (/sys/kernel/btf/<module>). `module` limits the search
 * to that module ('vmlinux' to vmlinux). Attach targets and ksyms are looked up this way, as
 * libbpf does.
 *
 * @example
 * findKernelType('bpf_task_acquire', BtfKind.FUNC); // { id: 41204, module: undefined }
 */
export function findKernelType(name: string, kind: number, vmlinux: Btf = kernelBtf(), module?: string): KernelType | undefined {
  if (module === undefined || module === 'vmlinux') {
    const id = vmlinux.idsByName(name).find((i) => vmlinux.kindOf(i) === kind);
    if (id !== undefined) return { id, module: undefined };
    if (module === 'vmlinux') return undefined;
  }
  for (const mod of module === undefined ? moduleBtfNames() : [module]) {
    const btf = moduleBtf(mod, vmlinux);
    const id = btf?.idsByName(name).find((i) => i >= btf.firstId && btf.kindOf(i) === kind);
    if (id !== undefined) return { id, module: mod };
  }
  return undefined;
}
