/**
 * Parsed kernel BTF, kept for the life of the process. Parsing vmlinux (some 5 MB and 100k types:
 * the string table and the name index) costs more than compiling a small program, and the
 * compiler needs it for every program that names a kernel or context type.
 *
 * A file is keyed by its path and checked against its identity and version (device, inode, size,
 * mtime) on every use, so a `--btf` file rewritten between two compiles is parsed again while
 * /sys/kernel/btf/vmlinux, which does not change while the kernel runs, is parsed once. Bytes are
 * keyed by the array itself: pass the same Uint8Array to share the parse (and do not change it
 * in place).
 */
import { readFileSync, statSync } from 'node:fs';
import { parseBtf, type Btf } from '../btf/parser.js';

const byPath = new Map<string, { version: string; btf: Btf }>();
const byBytes = new WeakMap<Uint8Array, Btf>();

/** The parsed BTF of the file at `path`; undefined when there is no such file. */
export function kernelBtfFile(path: string): Btf | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined;
  const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  const hit = byPath.get(path);
  if (hit?.version === version) return hit.btf;
  const btf = parseBtf(readFileSync(path));
  byPath.set(path, { version, btf });
  return btf;
}

/** The parsed BTF of `bytes` (the same array parses once). */
export function kernelBtfBytes(bytes: Uint8Array): Btf {
  let btf = byBytes.get(bytes);
  if (!btf) {
    btf = parseBtf(bytes);
    byBytes.set(bytes, btf);
  }
  return btf;
}
