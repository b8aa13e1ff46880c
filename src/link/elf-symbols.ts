/**
 * From "binary:symbol" to what a uprobe needs: the binary's path and the file offset of the
 * symbol's first instruction. Symbols come from .symtab, else .dynsym; addresses become file
 * offsets through the PT_LOAD segments, which works the same for executables (ET_EXEC, fixed
 * addresses) and shared libraries or PIEs (ET_DYN, addresses relative to the load base).
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ET, parseElf, SHN, STB, STT, type ElfFile, type ElfSymbol } from '../elf/index.js';
import { NotSupportedError } from '../errors.js';
import { AttachTargetNotFoundError } from './errors.js';

/** Where shared libraries are looked for when given by file name ('libc.so.6'). */
const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];

/**
 * The canonical path of a binary (symbolic links resolved, as the kernel and /proc/PID/maps
 * name it): an absolute or relative path as it is; a bare name is searched in PATH (executables)
 * and then in the usual library directories (names containing '.so').
 */
export function resolveBinary(binary: string, kind = 'uprobe'): string {
  if (binary.includes('/')) {
    const path = isAbsolute(binary) ? binary : resolve(binary);
    if (!existsSync(path)) throw new AttachTargetNotFoundError(kind, binary, `no such file ${path}`);
    return realpathSync(path);
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...LIBRARY_DIRS];
  for (const dir of dirs) {
    const path = join(dir, binary);
    try {
      if (statSync(path).isFile()) {
        if (!binary.includes('.so')) accessSync(path, constants.X_OK);
        return realpathSync(path);
      }
    } catch {
      // not here
    }
  }
  throw new AttachTargetNotFoundError(kind, binary, `not found in PATH or in ${LIBRARY_DIRS.join(', ')}; give an absolute path`);
}

const cache = new Map<string, { mtimeMs: number; elf: ElfFile }>();

/** The parsed ELF file at `path` (cached while the file is unchanged). */
export function openElf(path: string): ElfFile {
  const mtimeMs = statSync(path).mtimeMs;
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return hit.elf;
  const elf = parseElf(new Uint8Array(readFileSync(path)));
  cache.set(path, { mtimeMs, elf });
  if (cache.size > 16) cache.delete(cache.keys().next().value!);
  return elf;
}

/** A symbol resolved to where a uprobe goes. */
export interface ResolvedSymbol {
  name: string;
  /** st_value: the link-time virtual address. */
  address: bigint;
  /** The file offset of that address. */
  offset: number;
  size: bigint;
}

const BIND_RANK: Record<number, number> = { [STB.GLOBAL]: 0, [STB.GNU_UNIQUE]: 0, [STB.WEAK]: 1, [STB.LOCAL]: 2 };

function candidates(symbols: readonly ElfSymbol[], name: string): ElfSymbol[] {
  return symbols.filter(
    (s) => s.name === name && s.shndx !== SHN.UNDEF && (s.type === STT.FUNC || s.type === STT.GNU_IFUNC || s.type === STT.NOTYPE || s.type === STT.OBJECT),
  );
}

/**
 * The file offset of symbol `name` in `elf` ('name@VERSION' is accepted; the version is
 * ignored). Throws AttachTargetNotFoundError when the binary has no such symbol, and when
 * several different local symbols share the name.
 */
export function resolveSymbol(elf: ElfFile, name: string, file: string, kind = 'uprobe'): ResolvedSymbol {
  const bare = name.split('@')[0]!;
  let found = candidates(elf.symbols(), bare);
  if (found.length === 0) found = candidates(elf.dynamicSymbols(), bare);
  if (found.length === 0) {
    throw new AttachTargetNotFoundError(kind, `${file}:${name}`, `${file} has no symbol '${bare}' in .symtab or .dynsym (list them with "nm -D ${file}" or "readelf -Ws ${file}"; stripped binaries keep only exported symbols)`);
  }
  found.sort((a, b) => (BIND_RANK[a.bind] ?? 3) - (BIND_RANK[b.bind] ?? 3));
  const best = found.filter((s) => (BIND_RANK[s.bind] ?? 3) === (BIND_RANK[found[0]!.bind] ?? 3));
  const addresses = new Set(best.map((s) => s.value));
  if (addresses.size > 1) {
    throw new AttachTargetNotFoundError(kind, `${file}:${name}`, `${file} has ${addresses.size} different symbols named '${bare}' (${[...addresses].map((a) => '0x' + a.toString(16)).join(', ')}); attach by offset instead`);
  }
  const sym = best[0]!;
  if (sym.type === STT.GNU_IFUNC) {
    throw new NotSupportedError(`uprobe on the IFUNC '${bare}'`, `the symbol is a resolver that picks an implementation at load time; attach to the implementation (e.g. ${bare}_avx2) or by offset`);
  }
  return { name: bare, address: sym.value, offset: addressToFileOffset(elf, sym.value, file, `${file}:${name}`, kind), size: sym.size };
}

/** The file offset of virtual address `address`, through the PT_LOAD segments. */
export function addressToFileOffset(elf: ElfFile, address: bigint, file: string, label: string, kind = 'uprobe'): number {
  if (elf.type !== ET.EXEC && elf.type !== ET.DYN) throw new AttachTargetNotFoundError(kind, label, `${file} is not an executable or shared library (ELF type ${elf.type})`);
  const offset = elf.addressToOffset(address);
  if (offset === undefined) throw new AttachTargetNotFoundError(kind, label, `address 0x${address.toString(16)} is in no loadable segment of ${file}`);
  return offset;
}
