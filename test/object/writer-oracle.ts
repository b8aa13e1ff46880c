/**
 * Oracles of the object writer's tests: every clang-built BPF object of the repository,
 * `bpftool prog loadall` (libbpf) on a pin directory that is always removed, and
 * `llvm-objdump -dr` listings split per function.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EM, parseElf } from '../../src/elf/index.js';

/** The repository root, from dist/test/object (or test/object). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));

/** Every BPF object under testdata/<area>/ and examples/<name>/, relative to the root. */
export function bpfObjects(): string[] {
  const out: string[] = [];
  for (const top of ['testdata', 'examples']) {
    const base = join(ROOT, top);
    if (!existsSync(base)) continue;
    for (const dir of readdirSync(base, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const f of readdirSync(join(base, dir.name))) {
        if (!f.endsWith('.o')) continue;
        const rel = join(top, dir.name, f);
        try {
          if (parseElf(readFileSync(join(ROOT, rel))).machine === EM.BPF) out.push(rel);
        } catch {
          // not an ELF file
        }
      }
    }
  }
  return out.sort();
}

let scratch: string | undefined;
/** Writes `bytes` to a per-process temporary directory (removed at exit); returns the path. */
export function tempFile(name: string, bytes: Uint8Array): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-writer-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  const path = join(scratch, name.replaceAll('/', '_'));
  writeFileSync(path, bytes);
  return path;
}

/** Runs a command; never throws for a non-zero exit. */
export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const BPFFS = '/sys/fs/bpf';

/** Mounts bpffs at /sys/fs/bpf unless it is mounted there. */
function ensureBpffs(): void {
  const fsType = run('stat', ['-f', '-c', '%T', BPFFS]);
  if (fsType.status === 0 && fsType.stdout.trim() === 'bpf_fs') return;
  execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS]);
}

/** What `bpftool prog loadall` did with an object. */
export interface LoadResult {
  ok: boolean;
  /** bpftool's (libbpf's) messages. */
  log: string;
  /** Names of the loaded programs, as `bpftool -j prog show` lists them. */
  names: string[];
}

/**
 * Loads every program of an object with bpftool (libbpf) into a fresh pin directory, lists
 * them with `bpftool -j prog show`, and removes the pins and the directory, also on failure.
 */
export function loadAll(path: string): LoadResult {
  ensureBpffs();
  const dir = mkdtempSync(join(BPFFS, 'tsbpf-writer-'));
  try {
    const r = run('bpftool', ['prog', 'loadall', path, dir]);
    const names: string[] = [];
    if (r.status === 0) {
      for (const pin of readdirSync(dir)) {
        const shown = run('bpftool', ['-j', 'prog', 'show', 'pinned', join(dir, pin)]);
        if (shown.status !== 0) throw new Error(`bpftool prog show pinned ${pin}: ${shown.stderr}`);
        names.push((JSON.parse(shown.stdout) as { name: string }).name);
      }
    }
    return { ok: r.status === 0, log: r.stdout + r.stderr, names: names.sort() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `llvm-objdump -dr` per function: each instruction's text (without addresses and raw bytes,
 * `<label>` annotations dropped) and its relocation (type and symbol). Blocks under clang's
 * local labels (LBB*) belong to the function before them. The immediates of local calls and of
 * ld_imm64 relocated against a section symbol depend on where functions are placed and are
 * replaced by '<local>' (tsbpf's reader proves where they land).
 */
export function objdumpFunctions(path: string): Map<string, string[]> {
  const r = run('llvm-objdump-19', ['-dr', '--no-show-raw-insn', path]);
  if (r.status !== 0) throw new Error(`llvm-objdump-19 -dr ${path}: ${r.stderr}`);
  const raw = run('llvm-objdump-19', ['-d', path]).stdout.split('\n');
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  let rawAt = 0;
  for (const line of r.stdout.split('\n')) {
    const header = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (header) {
      const name = header[1]!;
      if (/^(LBB|\.L)/.test(name)) continue;
      current = [];
      out.set(name, current);
      continue;
    }
    if (!current) continue;
    const reloc = /^\s+[0-9a-f]+:\s+(R_BPF_\S+)\s+(\S+)$/.exec(line);
    if (reloc) {
      current.push(`  reloc ${reloc[1]} ${reloc[2]}`);
      if (reloc[2] === '.text') {
        // against .text's section symbol: the offset in the instruction is layout-dependent
        current[current.length - 2] = current[current.length - 2]!.replace(/0x[0-9a-f]+ ll$/, '<local> ll').replace(/call -?0x[0-9a-f]+$/, 'call <local>');
      }
      continue;
    }
    const insn = /^\s+[0-9a-f]+:\s+(.+)$/.exec(line);
    if (!insn) continue;
    // The raw listing tells local calls (src=1: "85 10", or "85 01" big-endian) from helper calls.
    let rawLine = '';
    while (rawAt < raw.length && !/^\s+[0-9a-f]+:\t/.test(raw[rawAt]!)) rawAt++;
    rawLine = raw[rawAt++] ?? '';
    let text = insn[1]!.replace(/\s*<[^>]*>$/, '').trim();
    if (/:\t85 (10|01) /.test(rawLine)) text = text.replace(/call -?0x[0-9a-f]+$/, 'call <local>');
    current.push(text);
  }
  return out;
}
