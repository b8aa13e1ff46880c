/**
 * Test helpers: the committed fixtures, and llvm-readelf / llvm-objdump as oracles whose GNU-style
 * text output is parsed back into plain records.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** testdata/elf, found from dist/test/elf (or test/elf). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'testdata', 'elf');

/** The committed fixtures: BPF objects of both byte orders, an x86_64 object and shared library. */
export const FIXTURES = ['programs.bpf.o', 'programs.bpfeb.o', 'programs.clang19.bpf.o', 'tiny.o', 'libtiny.so'] as const;
/** The relocatable fixtures (the writer round-trips these). */
export const OBJECTS = ['programs.bpf.o', 'programs.bpfeb.o', 'programs.clang19.bpf.o', 'tiny.o'] as const;

export function fixturePath(name: string): string {
  return join(FIXTURE_DIR, name);
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

let scratch: string | undefined;
/** Writes `bytes` to a fresh file in a per-process temporary directory and returns its path. */
export function tempFile(name: string, bytes: Uint8Array): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs a tool, returning stdout and stderr (tools print warnings on stderr). */
export function run(tool: string, args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** `llvm-readelf args file` stdout; fails on a non-zero exit. */
export function readelf(args: string[], file: string): string {
  return execFileSync('llvm-readelf', [...args, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

export interface OracleSection {
  index: number;
  name: string;
  type: string;
  addr: bigint;
  offset: number;
  size: number;
  entsize: number;
  flags: string;
  link: number;
  info: number;
  align: number;
}

/** Parses `llvm-readelf --sections`. */
export function parseSections(text: string): OracleSection[] {
  const out: OracleSection[] = [];
  const re = /^\s*\[\s*(\d+)\]\s(.*?)\s*(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    out.push({
      index: Number(m[1]),
      name: m[2]!.trim(),
      type: m[3]!,
      addr: BigInt('0x' + m[4]),
      offset: parseInt(m[5]!, 16),
      size: parseInt(m[6]!, 16),
      entsize: parseInt(m[7]!, 16),
      flags: m[8]!,
      link: Number(m[9]),
      info: Number(m[10]),
      align: Number(m[11]),
    });
  }
  return out;
}

export interface OracleSymbol {
  index: number;
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
  visibility: string;
  ndx: string;
  name: string;
}

/** Parses the symbol table called `table` ('.symtab' or '.dynsym') in `llvm-readelf --symbols`. */
export function parseSymbols(text: string, table: string): OracleSymbol[] {
  const start = text.indexOf(`Symbol table '${table}'`);
  if (start < 0) return [];
  const out: OracleSymbol[] = [];
  const re = /^\s*(\d+):\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/;
  for (const line of text.slice(start).split('\n').slice(2)) {
    const m = re.exec(line);
    if (!m) break;
    out.push({
      index: Number(m[1]),
      value: BigInt('0x' + m[2]),
      size: BigInt(m[3]!),
      type: m[4]!,
      bind: m[5]!,
      visibility: m[6]!,
      ndx: m[7]!,
      name: m[8]!.replace(/@.*$/, ''),
    });
  }
  return out;
}

export interface OracleRelocation {
  offset: bigint;
  symbol: number;
  type: number;
  addend?: bigint;
}

/** Parses `llvm-readelf --relocations` into relocation section name -> entries. */
export function parseRelocations(text: string): Map<string, OracleRelocation[]> {
  const out = new Map<string, OracleRelocation[]>();
  let current: OracleRelocation[] | undefined;
  let rela = false;
  for (const line of text.split('\n')) {
    const head = /^Relocation section '(.*)' at offset 0x[0-9a-f]+ contains \d+ entries:$/.exec(line);
    if (head) {
      current = [];
      out.set(head[1]!, current);
      rela = false;
      continue;
    }
    if (/Symbol's Name \+ Addend/.test(line)) rela = true;
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+\s*(.*)$/.exec(line);
    if (!m || current === undefined) continue;
    const info = BigInt('0x' + m[2]);
    const r: OracleRelocation = { offset: BigInt('0x' + m[1]), symbol: Number(info >> 32n), type: Number(info & 0xffffffffn) };
    if (rela) {
      // "... name + 4", "... name - 4", or just the hex addend for symbol-less entries.
      const signed = /([+-]) ([0-9a-f]+)$/.exec(m[3]!);
      const bare = /^\s*([0-9a-f]+)$/.exec(m[3]!);
      if (signed) r.addend = (signed[1] === '-' ? -1n : 1n) * BigInt('0x' + signed[2]);
      else if (bare) r.addend = BigInt('0x' + bare[1]);
      else throw new Error(`cannot read the addend of: ${line}`);
    }
    current.push(r);
  }
  return out;
}

export interface OracleSegment {
  type: string;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  flags: string;
  align: number;
}

/** Parses the program headers of `llvm-readelf --segments`. */
export function parseSegments(text: string): OracleSegment[] {
  const re = /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/;
  const out: OracleSegment[] = [];
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    out.push({
      type: m[1]!,
      offset: parseInt(m[2]!, 16),
      vaddr: BigInt('0x' + m[3]),
      paddr: BigInt('0x' + m[4]),
      filesz: parseInt(m[5]!, 16),
      memsz: parseInt(m[6]!, 16),
      flags: m[7]!,
      align: parseInt(m[8]!, 16),
    });
  }
  return out;
}

export interface OracleNote {
  section: string;
  owner: string;
  size: number;
  description: string;
  /** Descriptor bytes as hex, from the "Build ID:" or "description data:" line. */
  hex: string;
}

/** Parses `llvm-readelf --notes`. */
export function parseNotes(text: string): OracleNote[] {
  const out: OracleNote[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const where = /^Displaying notes found in: (.*)$/.exec(line);
    if (where) section = where[1]!;
    const m = /^  (\S+)\s+0x([0-9a-f]{8})\t(.*)$/.exec(line);
    if (m) out.push({ section, owner: m[1]!, size: parseInt(m[2]!, 16), description: m[3]!, hex: '' });
    const data = /^\s+(?:Build ID|description data): ([0-9a-f ]+)$/.exec(line);
    if (data && out.length > 0) out[out.length - 1]!.hex = data[1]!.replace(/ /g, '');
  }
  return out;
}

/** Value of a `Key: value` line of `llvm-readelf --file-header`. */
export function headerField(text: string, key: string): string {
  const m = new RegExp(`^\\s*${key}:\\s+(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`no '${key}' in llvm-readelf --file-header output`);
  return m[1]!.trim();
}

/** Hex of bytes, for comparing with llvm-readelf dumps. */
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
