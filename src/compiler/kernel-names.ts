/**
 * TypeScript names of the kernel types tsbpf/lang declares, and their C names. The lang
 * declarations (src/lang/kernel.ts) use the C names (`task_struct`) and PascalCase aliases
 * (`TaskStruct`); both resolve here.
 */
import { KERNEL_TYPE_ALIASES } from './kernel-aliases.js';

/** The C name of a kernel type a program imports from tsbpf/lang, or undefined. */
export function kernelCName(name: string): string | undefined {
  const alias = KERNEL_TYPE_ALIASES[name];
  if (alias !== undefined) return alias;
  // C names are exported as themselves; a `_` suffix marks names TypeScript reserves.
  if (/^[a-z_][a-z0-9_]*$/.test(name)) return name.endsWith('_') && !name.startsWith('_') ? name.slice(0, -1) : name;
  return undefined;
}
