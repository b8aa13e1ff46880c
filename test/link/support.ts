/**
 * Helpers of the link tests: small counting programs written with the builder, loading a
 * clang-built fixture by hand (maps created from the spec and patched into the instructions),
 * the test binary, and fd accounting.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PseudoSrc, ProgramBuilder, R0, R1, R2, R3, R4, R10, reg, type BuiltProgram, type Instruction } from '../../src/asm/index.js';
import { BpfMap, Program, type AttachTypeName, type MapTypeName, type ProgTypeName } from '../../src/kernel/index.js';
import { readObject, type ObjectSpec } from '../../src/object/index.js';
import { FuncId } from '../../src/uapi/enums.js';

/** The repository root (tests run from dist/test/link). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** testdata/link: the test binary, its library and the USDT fixture. */
export const FIXTURES = join(ROOT, 'testdata', 'link');
export const TARGET = join(FIXTURES, 'target');
export const TARGET_LIB = join(FIXTURES, 'libtsbpf_target.so');
/** The compiled child scripts (dist/test/link/children). */
export const CHILDREN = join(dirname(fileURLToPath(import.meta.url)), 'children');

/** Sets each map reference of a built program to the map's fd. */
export function patchMaps(built: Pick<BuiltProgram, 'instructions' | 'references'>, fds: Readonly<Record<string, number>>): Instruction[] {
  const out = built.instructions.map((i) => ({ ...i }));
  for (const ref of built.references) {
    const fd = fds[ref.symbol];
    if (fd === undefined) throw new Error(`no fd for map '${ref.symbol}'`);
    out[ref.index]!.imm = fd;
  }
  return out;
}

/** A program plus the per-tgid counter map it increments. */
export interface Counter extends Disposable {
  prog: Program;
  map: BpfMap;
  /** How often the program ran in process `pid` (0 when never). */
  count(pid: number): number;
  /** Every (tgid, count) pair. */
  all(): Map<number, number>;
  close(): void;
}

/** What a counting program looks like. */
export interface CounterOptions {
  type: ProgTypeName;
  expectedAttachType?: AttachTypeName;
  attachBtfId?: number;
  /** Instructions run first with the context in r1; jump to 'out' to skip counting. r6 = ctx. */
  prelude?: (b: ProgramBuilder) => void;
  /** What the program returns (default 0). */
  ret?: number;
  name?: string;
  /** Count by this instead of the current tgid: a builder step that leaves the key in r0. */
  key?: (b: ProgramBuilder) => void;
}

/**
 * Loads a program that counts its runs per process (key: tgid, or what `key` computes) in a
 * HASH map.
 */
export function counter(options: CounterOptions): Counter {
  const map = BpfMap.create({ type: 'HASH' as MapTypeName, keySize: 4, valueSize: 8, maxEntries: 4096, name: 'counts' });
  try {
    const b = new ProgramBuilder().mov(6, reg(R1));
    options.prelude?.(b);
    if (options.key) options.key(b);
    else b.call(FuncId.get_current_pid_tgid).alu('rsh', R0, 32);
    b.store(32, R10, -4, reg(R0))
      .mov(R2, reg(R10))
      .alu('add', R2, -4)
      .ldMap(R1, 'counts')
      .call(FuncId.map_lookup_elem)
      .jump('jeq', R0, 0, 'init')
      .mov(R1, 1)
      .atomic('add', 64, R0, 0, R1)
      .goto('out')
      .label('init')
      .store(64, R10, -16, 1)
      .ldMap(R1, 'counts')
      .mov(R2, reg(R10))
      .alu('add', R2, -4)
      .mov(R3, reg(R10))
      .alu('add', R3, -16)
      .mov(R4, 0)
      .call(FuncId.map_update_elem)
      .label('out')
      .mov(R0, options.ret ?? 0)
      .exit();
    const built = b.build();
    const prog = Program.load({
      type: options.type,
      expectedAttachType: options.expectedAttachType,
      attachBtfId: options.attachBtfId,
      license: 'GPL',
      name: options.name ?? 'counter',
      instructions: patchMaps(built, { counts: map.fd.value }),
    });
    const all = () => {
      const out = new Map<number, number>();
      for (const k of map.keysBytes()) {
        const v = map.lookupBytes(k);
        if (v) out.set(new DataView(k.buffer).getUint32(0, true), Number(new DataView(v.buffer).getBigUint64(0, true)));
      }
      return out;
    };
    return {
      prog,
      map,
      count: (pid) => all().get(pid) ?? 0,
      all,
      close() {
        prog.close();
        map.close();
      },
      [Symbol.dispose]() {
        this.close();
      },
    };
  } catch (err) {
    map.close();
    throw err;
  }
}

/** Runs the test binary; returns its pid and output. */
export function runTarget(args: string[], input?: string): { pid: number; stdout: string; result: SpawnSyncReturns<string> } {
  const result = spawnSync(TARGET, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (result.status !== 0) throw new Error(`target ${args.join(' ')} failed: ${result.status} ${result.signal} ${result.stderr}`);
  return { pid: result.pid!, stdout: result.stdout.trim(), result };
}

/** Open fds of this process, from /proc/self/fd. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A clang-built fixture loaded by hand: maps created from the spec, references patched. */
export interface LoadedObject extends Disposable {
  spec: ObjectSpec;
  maps: Record<string, BpfMap>;
  programs: Record<string, Program>;
  close(): void;
}

/**
 * Loads `file` (testdata/link/...): creates its maps (global data maps with their initial
 * value; .kconfig values from `kconfig`), patches map and map-value references, loads the
 * programs named in `programs`.
 */
export function loadObject(
  file: string,
  programs: readonly string[],
  kconfig: Readonly<Record<string, number>> = {},
  attachTypes: Readonly<Record<string, AttachTypeName>> = {},
): LoadedObject {
  const spec = readObject(new Uint8Array(readFileSync(join(FIXTURES, file))));
  const maps: Record<string, BpfMap> = {};
  const progs: Record<string, Program> = {};
  const close = () => {
    for (const p of Object.values(progs)) p.close();
    for (const m of Object.values(maps)) m.close();
  };
  try {
    for (const m of spec.maps) {
      maps[m.name] = BpfMap.create({ type: m.type as MapTypeName, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags, name: m.name.replace(/^\./, '').slice(0, 15) });
      if (m.section === '.kconfig' || m.data) {
        const value = new Uint8Array(m.valueSize);
        if (m.data) value.set(m.data.subarray(0, m.valueSize));
        for (const v of m.variables) if (v.name in kconfig) new DataView(value.buffer).setUint8(v.offset, kconfig[v.name]!);
        maps[m.name]!.updateBytes(new Uint8Array(4), value);
      }
    }
    for (const name of programs) {
      const p = spec.programs.find((x) => x.name === name);
      if (!p) throw new Error(`no program '${name}' in ${file}`);
      const insns = p.instructions.map((i) => ({ ...i }));
      for (const ref of p.references) {
        if (ref.kind === 'map') {
          insns[ref.index] = { ...insns[ref.index]!, src: PseudoSrc.MAP_FD, imm: maps[ref.map]!.fd.value };
        } else if (ref.kind === 'map_value') {
          insns[ref.index] = { ...insns[ref.index]!, src: PseudoSrc.MAP_VALUE, imm: maps[ref.map]!.fd.value, imm2: ref.offset };
        } else {
          throw new Error(`${file}: cannot resolve ${ref.kind} references in tests`);
        }
      }
      progs[name] = Program.load({ type: p.progType as ProgTypeName, expectedAttachType: attachTypes[name] ?? (p.attachType as AttachTypeName | undefined), license: p.license, name, instructions: insns });
    }
  } catch (err) {
    close();
    throw err;
  }
  return { spec, maps, programs: progs, close, [Symbol.dispose]: close };
}

/** Reads a struct of little-endian i64s from a map value. */
export function i64s(bytes: Uint8Array | undefined, count: number): bigint[] {
  if (!bytes) return new Array<bigint>(count).fill(0n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => v.getBigInt64(i * 8, true));
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
