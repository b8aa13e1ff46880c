/**
 * `tsbpf prog list | show ID | dump xlated ID`: the programs loaded in the kernel, as
 * `bpftool prog` shows them. Tables for people by default, `--json` for programs. `dump xlated`
 * prints the translated instructions in LLVM's syntax, with function names and C source lines
 * when the program was loaded with BTF (read back from the kernel).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TsbpfError } from '../errors.js';
import type { ProgramInfo } from '../kernel/prog-info.js';
import { details, fdinfo, parseId as parseObjectId, table, toJson } from './format.js';

const parseId = (text: string): number => parseObjectId(text, 'program', 'prog list');

/** bpftool's name for a program type: 'socket_filter' for SOCKET_FILTER. */
const typeName = (info: ProgramInfo): string => info.type.toLowerCase();

/** ISO time without milliseconds, as bpftool prints loaded_at. */
const when = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, '+0000');

interface Row extends ProgramInfo {
  memlock?: number;
}

async function infoById(id: number): Promise<Row> {
  const { programFdById, programInfo } = await import('../kernel/prog-info.js');
  const { SyscallError } = await import('../sys/index.js');
  let opened;
  try {
    opened = programFdById(id);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'ENOENT') throw new TsbpfError(`no program with id ${id} (see "tsbpf prog list")`);
    throw e;
  }
  using fd = opened;
  const info = programInfo(fd.value, `program id ${id}`);
  const ml = fdinfo(fd.value).memlock;
  return ml === undefined ? info : { ...info, memlock: ml };
}

async function rows(): Promise<Row[]> {
  const { programIds } = await import('../kernel/prog-info.js');
  const { SyscallError } = await import('../sys/index.js');
  const out: Row[] = [];
  for (const id of programIds()) {
    try {
      out.push(await infoById(id));
    } catch (e) {
      // unloaded between listing and opening
      if (!(e instanceof SyscallError && e.code === 'ENOENT') && !(e instanceof TsbpfError && /^no program with id/.test(e.message))) throw e;
    }
  }
  return out;
}

async function list(opts: { json?: boolean }): Promise<void> {
  const all = await rows();
  if (opts.json) {
    process.stdout.write(toJson(all) + '\n');
    return;
  }
  process.stdout.write(
    table(
      ['ID', 'TYPE', 'NAME', 'TAG', 'LOADED_AT', 'UID', 'XLATED', 'JITED', 'MAP_IDS'],
      all.map((r) => [String(r.id), typeName(r), r.name, r.tag, when(r.loadedAt), String(r.createdByUid), `${r.xlatedSize}B`, `${r.jitedSize}B`, r.mapIds.join(',') || '-']),
    ),
  );
}

async function show(idText: string, opts: { json?: boolean }): Promise<void> {
  const r = await infoById(parseId(idText));
  if (opts.json) {
    process.stdout.write(toJson(r) + '\n');
    return;
  }
  const lines: Array<[string, string]> = [
    ['id', String(r.id)],
    ['type', typeName(r)],
    ['name', r.name],
    ['tag', r.tag],
    ['license', r.gplCompatible ? 'gpl' : 'non-gpl'],
    ['loaded_at', when(r.loadedAt)],
    ['uid', String(r.createdByUid)],
    ['xlated', `${r.xlatedSize}B`],
    ['jited', `${r.jitedSize}B`],
  ];
  if (r.memlock !== undefined) lines.push(['memlock', `${r.memlock}B`]);
  if (r.mapIds.length) lines.push(['map_ids', r.mapIds.join(',')]);
  if (r.btfId) lines.push(['btf_id', String(r.btfId)]);
  if (r.runCount > 0n || r.runTimeNs > 0n) lines.push(['run_time_ns', `${r.runTimeNs}`], ['run_cnt', `${r.runCount}`]);
  if (r.verifiedInstructions) lines.push(['verified_insns', String(r.verifiedInstructions)]);
  if (r.attachBtfId) lines.push(['attach_btf_id', `${r.attachBtfId}${r.attachBtfObjId ? ` (btf object ${r.attachBtfObjId})` : ''}`]);
  process.stdout.write(details(lines));
}

/** Kernel symbols by address, for naming helper calls in xlated dumps (root sees addresses). */
function kallsymsIndex(): { addrs: bigint[]; names: string[] } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'latin1');
  } catch {
    return undefined;
  }
  const entries: Array<[bigint, string]> = [];
  for (const line of text.split('\n')) {
    const [addr, type, name] = line.split(/\s+/);
    if (!addr || !name || !/^[tTwW]$/.test(type ?? '')) continue;
    const a = BigInt(`0x${addr}`);
    if (a !== 0n) entries.push([a, name]);
  }
  if (entries.length === 0) return undefined;
  entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { addrs: entries.map((e) => e[0]), names: entries.map((e) => e[1]) };
}

function symbolAt(index: { addrs: bigint[]; names: string[] }, addr: bigint): string | undefined {
  let lo = 0;
  let hi = index.addrs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.addrs[mid] === addr) return index.names[mid];
    if (index.addrs[mid]! < addr) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

interface DumpLine {
  slot: number;
  text: string;
  comment?: string;
  function?: string;
  source?: { file: string; line: number; column: number; text: string };
}

async function dumpXlated(idText: string, opts: { json?: boolean }): Promise<void> {
  const id = parseId(idText);
  const { Program } = await import('../kernel/program.js');
  const { formatInstruction } = await import('../asm/printer.js');
  const { slotCount } = await import('../asm/instruction.js');
  const { CallSrc, LD_IMM64, PseudoSrc } = await import('../asm/opcodes.js');
  const { SyscallError } = await import('../sys/index.js');
  let opened;
  try {
    opened = Program.fromId(id);
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'ENOENT') throw new TsbpfError(`no program with id ${id} (see "tsbpf prog list")`);
    throw e;
  }
  using prog = opened;
  const insns = prog.xlated();
  if (insns.length === 0) throw new TsbpfError(`program ${id} ('${prog.name}'): the kernel shows no translated instructions (needs root, or the program is hidden)`);
  const debug = prog.debugInfo();
  const funcs = new Map(debug?.funcs.map((f) => [f.slot, f.name]) ?? []);
  const lines = new Map(debug?.lines.map((l) => [l.slot, l]) ?? []);
  // Helper calls in an xlated dump hold the offset from __bpf_call_base when this process may
  // see kernel addresses.
  const syms = kallsymsIndex();
  const callBase = syms ? syms.addrs[syms.names.indexOf('__bpf_call_base')] : undefined;
  const out: DumpLine[] = [];
  let slot = 0;
  for (const insn of insns) {
    const line: DumpLine = { slot, text: formatInstruction(insn, { llvm: 19, lenient: true }) };
    const fn = funcs.get(slot);
    if (fn) line.function = fn;
    const src = lines.get(slot);
    if (src) line.source = { file: src.fileName, line: src.line, column: src.column, text: src.lineText };
    if (insn.code === LD_IMM64 && (insn.src === PseudoSrc.MAP_FD || insn.src === PseudoSrc.MAP_VALUE)) {
      line.comment = `map id ${insn.imm}${insn.src === PseudoSrc.MAP_VALUE ? ` + ${insn.imm2 ?? 0}` : ''}`;
    } else if (insn.code === 0x85 && insn.src === CallSrc.HELPER && syms && callBase !== undefined && insn.imm !== 0) {
      const name = symbolAt(syms, callBase + BigInt(insn.imm));
      if (name) line.comment = name;
    }
    out.push(line);
    slot += slotCount(insn);
  }
  if (opts.json) {
    process.stdout.write(toJson(out) + '\n');
    return;
  }
  const text: string[] = [];
  for (const l of out) {
    if (l.function) text.push(`${l.function}:`);
    if (l.source) text.push(`; ${l.source.text.trim()} [${l.source.file}:${l.source.line}]`);
    text.push(`${String(l.slot).padStart(4)}: ${l.text}${l.comment ? `\t# ${l.comment}` : ''}`);
  }
  process.stdout.write(text.join('\n') + '\n');
}

/** Registers `tsbpf prog` and its subcommands. */
export function register(program: Command): void {
  const prog = program.command('prog').description('inspect the BPF programs loaded in the kernel (like bpftool prog)');
  prog
    .command('list')
    .description('list loaded programs: id, type, name, tag, load time, uid, sizes, maps')
    .option('--json', 'print JSON')
    .action(list);
  prog
    .command('show')
    .description('show one program by id')
    .argument('<id>', 'program id (see "tsbpf prog list")')
    .option('--json', 'print JSON')
    .action(show);
  const dump = prog.command('dump').description('dump a program\'s instructions');
  dump
    .command('xlated')
    .description('the translated (post-verifier) instructions in LLVM syntax, with source lines when the program has BTF')
    .argument('<id>', 'program id')
    .option('--json', 'print JSON')
    .action(dumpXlated);
}
