/**
 * Differential test of CO-RE relocation against libbpf, the reference implementation. Each
 * fixture object (testdata/core) is loaded into the kernel by bpftool (`bpftool -d prog loadall`,
 * which links libbpf) and relocated by tsbpf against the same /sys/kernel/btf/vmlinux. Two
 * oracles are compared with tsbpf's result:
 *
 * 1. libbpf's own account of every relocation: with -d, libbpf logs each patch as
 *    "relo #N: patched insn #I (ALU/ALU64) imm A -> B" (or off, mem_sz, imm64) and each
 *    poisoning as "substituting insn #I w/ invalid insn". Every relocation must hit the same
 *    instruction slot with the same old and new value, resize the same loads and poison the same
 *    instructions.
 * 2. What the kernel actually runs: the programs' translated instructions
 *    (`bpftool prog dump xlated ... opcodes`) must be tsbpf's relocated program with the
 *    verifier's known rewrites taken out: dead code (which includes every poisoned instruction)
 *    removed, branches rewritten, helper call immediates and map addresses replaced. So every
 *    xlated instruction except jumps must match, in order, an identical instruction of ours.
 *
 * Needs root (bpf() and bpffs, mounted here if missing) and bpftool; pins go under a unique
 * directory of /sys/fs/bpf that is always removed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { slotCount, type Instruction } from '../../src/asm/index.js';
import { applyCoreRelocations, parseBtf } from '../../src/btf/index.js';
import { CORE_POISON_IMM } from '../../src/btf/core/index.js';
import { readObject } from '../../src/object/index.js';
import { kernelTest } from '../support/kernel.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'testdata', 'core');
const BPFFS = '/sys/fs/bpf';

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`${cmd} could not run (is it installed?): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ensureBpffs(): void {
  const mounted = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf');
  if (mounted) return;
  mkdirSync(BPFFS, { recursive: true });
  const r = run('mount', ['-t', 'bpf', 'bpf', BPFFS]);
  assert.equal(r.status, 0, `mounting bpffs on ${BPFFS} failed: ${r.stderr}`);
}

/** One relocation as libbpf's debug log reports it. */
interface LibbpfRelo {
  /** Instruction slot in the program (libbpf's "insn #"). */
  slot: number;
  poisoned: boolean;
  /** imm, off or imm64: the old and new value. */
  value?: { field: string; from: bigint; to: bigint };
  /** A load/store size change, in bytes. */
  memSz?: { from: number; to: number };
}

/** A translated instruction from `bpftool -j prog dump xlated ... opcodes`. */
interface Xlated {
  insn: Instruction;
  disasm: string;
}

interface Loaded {
  /** Relocations by program name, by relo number. */
  relos: Map<string, Map<number, LibbpfRelo>>;
  xlated: Map<string, Xlated[]>;
}

const PATCHED = /^libbpf: prog '([^']+)': relo #(\d+): patched insn #(\d+) \(([A-Z/0-9]+)\) (imm|off|mem_sz|imm64) (\d+) -> (\d+)$/;
const POISONED = /^libbpf: prog '([^']+)': relo #(\d+): substituting insn #(\d+) w\/ invalid insn$/;

function parseLog(log: string): Map<string, Map<number, LibbpfRelo>> {
  const out = new Map<string, Map<number, LibbpfRelo>>();
  const entry = (prog: string, relo: number, slot: number): LibbpfRelo => {
    let byRelo = out.get(prog);
    if (!byRelo) out.set(prog, (byRelo = new Map()));
    let e = byRelo.get(relo);
    if (!e) byRelo.set(relo, (e = { slot, poisoned: false }));
    return e;
  };
  for (const line of log.split('\n')) {
    let m = PATCHED.exec(line);
    if (m) {
      const e = entry(m[1]!, Number(m[2]), Number(m[3]));
      if (m[5] === 'mem_sz') e.memSz = { from: Number(m[6]), to: Number(m[7]) };
      else e.value = { field: m[5]!, from: BigInt(m[6]!), to: BigInt(m[7]!) };
      continue;
    }
    m = POISONED.exec(line);
    // a poisoned ld_imm64 logs both of its slots; the first is the relocated one
    if (m) entry(m[1]!, Number(m[2]), Number(m[3])).poisoned = true;
  }
  return out;
}

function hexBytes(bytes: string[]): number[] {
  return bytes.map((b) => Number.parseInt(b, 16));
}

function parseXlated(json: unknown): Xlated[] {
  assert.ok(Array.isArray(json), 'xlated dump is a JSON array');
  return json.map((e: { disasm: string; opcodes: { code: string; src_reg: string; dst_reg: string; off: string[]; imm: string[] } }) => {
    const o = e.opcodes;
    const off = hexBytes(o.off);
    const imm = hexBytes(o.imm);
    const le32 = (b: number[], at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) | 0;
    const insn: Instruction = {
      code: Number.parseInt(o.code, 16),
      dst: Number.parseInt(o.dst_reg, 16),
      src: Number.parseInt(o.src_reg, 16),
      off: ((off[0]! | (off[1]! << 8)) << 16) >> 16,
      imm: le32(imm, 0),
    };
    if (imm.length === 12) insn.imm2 = le32(imm, 8);
    return { insn, disasm: e.disasm };
  });
}

let loads = 0;

/** Loads every program of `object` with bpftool (libbpf inside) and collects both oracles. */
function loadWithLibbpf(object: string, programs: string[]): Loaded {
  ensureBpffs();
  const dir = join(BPFFS, `tsbpf-core-${process.pid}-${loads++}`);
  mkdirSync(dir);
  try {
    const load = run('bpftool', ['-d', 'prog', 'loadall', object, dir]);
    assert.equal(load.status, 0, `bpftool prog loadall ${object} failed:\n${load.stderr.split('\n').slice(-40).join('\n')}`);
    const xlated = new Map<string, Xlated[]>();
    for (const name of programs) {
      const show = run('bpftool', ['-j', 'prog', 'show', 'pinned', join(dir, name)]);
      assert.equal(show.status, 0, `bpftool prog show pinned ${name}: ${show.stderr}`);
      const id = (JSON.parse(show.stdout) as { id: number }).id;
      const dump = run('bpftool', ['-j', 'prog', 'dump', 'xlated', 'id', String(id), 'opcodes']);
      assert.equal(dump.status, 0, `bpftool prog dump xlated id ${id}: ${dump.stderr}`);
      xlated.set(name, parseXlated(JSON.parse(dump.stdout)));
    }
    return { relos: parseLog(load.stderr), xlated };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What must be equal between our instruction and the kernel's translated one, or undefined for
 * instructions the verifier rewrites wholesale (jumps: dead branches are hard-wired or removed
 * and offsets change). Helper call numbers and map references become addresses and map ids.
 */
function key(i: Instruction): string | undefined {
  const cls = i.code & 0x07;
  if (cls === 0x05 || cls === 0x06) {
    const op = i.code & 0xf0;
    if (op === 0x80) return i.src === 0 && i.imm === CORE_POISON_IMM ? 'poison' : `call src=${i.src}`;
    if (op === 0x90) return 'exit';
    return undefined;
  }
  if (i.code === 0x18 && i.src !== 0) return `ld_imm64 r${i.dst} src=${i.src}`;
  let code = i.code;
  // BPF_PROBE_MEM / PROBE_MEMSX loads through BTF pointers read as plain loads
  if (cls === 0x01 && ((code & 0xe0) === 0x20 || (code & 0xe0) === 0x40)) code = (code & 0x1f) | ((code & 0xe0) === 0x20 ? 0x60 : 0x80);
  return `${code.toString(16)} ${i.dst} ${i.src} ${i.off} ${i.imm} ${i.imm2 ?? '-'}`;
}

/** Longest common subsequence of two key lists: pairs of matched positions. */
function align(a: string[], b: string[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

const kernel = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'));
const SIZE_BYTES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };

function differential(t: TestContext, file: string): void {
  const path = join(DIR, file);
  const spec = readObject(readFileSync(path));
  const names = spec.programs.map((p) => p.name);
  const loaded = loadWithLibbpf(path, names);

  for (const p of spec.programs) {
    assert.equal(p.functions.length, 1, `${p.name}: the fixtures keep each program in one function, as libbpf numbers slots per function`);
    const { instructions, results } = applyCoreRelocations(p.instructions, p.coreRelos, spec.btf!, kernel);

    // 1. relocation by relocation against libbpf's log
    const slots: number[] = [];
    p.instructions.reduce((s, insn) => (slots.push(s), s + slotCount(insn)), 0);
    const theirs = loaded.relos.get(p.name) ?? new Map<number, LibbpfRelo>();
    assert.equal(theirs.size, results.length, `${p.name}: libbpf applied ${theirs.size} relocations, tsbpf ${results.length}`);
    results.forEach((r, n) => {
      const lib = theirs.get(n);
      const what = `${p.name} relo #${n} (${r.description})`;
      assert.ok(lib, `${what}: libbpf did not report it`);
      assert.equal(slots[r.index], lib.slot, `${what}: instruction slot`);
      assert.equal(r.poisoned, lib.poisoned, `${what}: poisoned`);
      if (lib.poisoned) return;
      assert.ok(lib.value, `${what}: libbpf logged no value`);
      assert.equal(r.localValue, lib.value.from, `${what}: old ${lib.value.field}`);
      assert.equal(r.targetValue, lib.value.to, `${what}: new ${lib.value.field}`);
      const before = SIZE_BYTES[p.instructions[r.index]!.code & 0x18]!;
      const after = SIZE_BYTES[instructions[r.index]!.code & 0x18]!;
      if (lib.memSz) assert.deepEqual({ from: before, to: after }, lib.memSz, `${what}: load/store size`);
      else if (lib.value.field === 'off') assert.equal(after, before, `${what}: libbpf kept the access size`);
    });

    // 2. the kernel's program is ours minus what the verifier removed or rewrote
    const ours = instructions.map((insn, i) => ({ insn, i, k: key(insn) })).filter((e) => e.k !== undefined);
    const xlated = loaded.xlated.get(p.name)!.map((x) => ({ ...x, k: key(x.insn) })).filter((e) => e.k !== undefined);
    const pairs = align(ours.map((e) => e.k!), xlated.map((e) => e.k!));
    const matchedX = new Set(pairs.map(([, j]) => j));
    const missing = xlated.filter((_, j) => !matchedX.has(j)).map((x) => x.disasm);
    assert.deepEqual(missing, [], `${p.name}: instructions the kernel runs that tsbpf's relocated program does not have`);
    const matchedOurs = new Set(pairs.map(([i]) => ours[i]!.i));
    // results index the input; a poisoned ld_imm64 adds one element before later instructions
    const shift = (index: number) => results.filter((r) => r.poisoned && r.index < index && p.instructions[r.index]!.code === 0x18).length;
    const live = results.filter((r) => matchedOurs.has(r.index + shift(r.index)));
    assert.ok(results.filter((r) => r.poisoned).every((r) => !matchedOurs.has(r.index + shift(r.index))), 'poisoned instructions are dead code');
    assert.ok(live.length > 0, `${p.name}: some relocated instruction reached the kernel`);
    t.diagnostic(
      `${file} ${p.name}: ${results.length} relocations equal libbpf's; ${live.length} relocated instructions are in the loaded program, ` +
        `${results.length - live.length} were dead code (${results.filter((r) => r.poisoned).length} poisoned)`,
    );
  }
}

for (const file of ['fields.o', 'fields-clang14.o', 'types.o', 'types-clang14.o']) {
  kernelTest(`libbpf differential: ${file} relocated by tsbpf equals libbpf's relocation and the kernel's loaded program`, (t) => {
    differential(t, file);
  });
}
