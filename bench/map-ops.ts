/**
 * Map operation costs: nanoseconds per single lookup and update on a hash map (u32 -> u64,
 * 100k entries) and per entry of a batch lookup of all of them, through tsbpf's APIs and
 * through libbpf from C (bench/map-ops.c, compiled here with `cc -O2 ... -lbpf`). The C program
 * and the TypeScript measurements alternate, round after round, in the same invocation; each
 * figure is the median over the rounds, as wall-clock time and as the process's CPU time (the
 * steadier of the two on a shared machine). One JSON object per line, the C baseline included.
 *
 *   node dist/bench/map-ops.js [--quick] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchCursor, HashMap, u32, u64 } from '../src/kernel/index.js';

const quick = process.argv.includes('--quick');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : quick ? 3 : 7;
const ENTRIES = 100_000;
const OPS = quick ? 100_000 : 500_000;
const CHUNK = 4096;

interface Sample {
  wall: number;
  cpu: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Compiles the C baseline once; returns the binary's path. */
function buildC(dir: string): string {
  const src = fileURLToPath(new URL('../../bench/map-ops.c', import.meta.url));
  const bin = join(dir, 'map-ops');
  execFileSync('cc', ['-O2', '-o', bin, src, '-lbpf'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return bin;
}

/** One round of the C baseline: its figures by name. */
function runC(bin: string): Map<string, Sample> {
  const out = execFileSync(bin, [String(ENTRIES), String(OPS), '1'], { encoding: 'utf8' });
  const figures = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { figure: string; nsPerOp: number; cpuNsPerOp: number });
  return new Map(figures.map((f) => [f.figure, { wall: f.nsPerOp, cpu: f.cpuNsPerOp }]));
}

/** ns per op of `body(i)` over `ops` operations. */
function time(ops: number, body: (i: number) => void): Sample {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) body(i);
  const wall = Number(process.hrtime.bigint() - t0) / ops;
  const c = process.cpuUsage(c0);
  return { wall, cpu: ((c.user + c.system) * 1000) / ops };
}

using counts = HashMap.create({ key: u32, value: u64, maxEntries: ENTRIES, name: 'bench_ts' });
counts.batchUpdate(Array.from({ length: ENTRIES }, (_, k) => [k, BigInt(k)] as const));
const raw = counts.map;
const keyView = new DataView(raw.keyBuffer.buffer, raw.keyBuffer.byteOffset, 4);
const keys = Array.from({ length: ENTRIES }, (_, k) => u32.encode(k));
const value8 = u64.encode(7n);
const keysOut = new Uint8Array(ENTRIES * 4);
const valuesOut = new Uint8Array(ENTRIES * 8);
let sink = 0n;

/** The tsbpf side: [figure, implementation, one measurement]. */
const CASES: Array<[string, string, () => Sample]> = [
  ['lookup', 'tsbpf TypedMap.get', () => time(OPS, (i) => (sink += counts.get(i % ENTRIES)!))],
  ['lookup', 'tsbpf BpfMap.lookupBytes', () => time(OPS, (i) => void raw.lookupBytes(keys[i % ENTRIES]!))],
  [
    'lookup',
    'tsbpf BpfMap.lookupInPlace',
    () =>
      time(OPS, (i) => {
        keyView.setUint32(0, i % ENTRIES, true);
        raw.lookupInPlace();
      }),
  ],
  ['update', 'tsbpf TypedMap.set', () => time(OPS, (i) => counts.set(i % ENTRIES, BigInt(i)))],
  ['update', 'tsbpf BpfMap.updateBytes', () => time(OPS, (i) => raw.updateBytes(keys[i % ENTRIES]!, value8))],
  [
    'update',
    'tsbpf BpfMap.updateInPlace',
    () =>
      time(OPS, (i) => {
        keyView.setUint32(0, i % ENTRIES, true);
        raw.updateInPlace();
      }),
  ],
  [
    'batch-lookup',
    'tsbpf BpfMap.batchLookupBytes',
    () => {
      // The whole map, CHUNK entries per call, into caller buffers: what the C side does.
      const s = time(1, () => {
        const cursor = new BatchCursor(raw);
        let total = 0;
        while (!cursor.done) total += raw.batchLookupBytes(cursor, keysOut.subarray(total * 4, (total + CHUNK) * 4), valuesOut.subarray(total * 8, (total + CHUNK) * 8));
        if (total !== ENTRIES) throw new Error(`batch read ${total} of ${ENTRIES}`);
      });
      return { wall: s.wall / ENTRIES, cpu: s.cpu / ENTRIES };
    },
  ],
  [
    'batch-lookup',
    'tsbpf TypedMap.batchEntries (decoded)',
    () => {
      const s = time(1, () => {
        let n = 0;
        for (const [, v] of counts.batchEntries(CHUNK)) {
          sink += v;
          n++;
        }
        if (n !== ENTRIES) throw new Error(`batch read ${n} of ${ENTRIES}`);
      });
      return { wall: s.wall / ENTRIES, cpu: s.cpu / ENTRIES };
    },
  ],
];

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
try {
  const bin = buildC(dir);
  for (const [, , run] of CASES) run(); // warm-up: let V8 optimise before measuring
  const cSamples = new Map<string, Sample[]>();
  const tsSamples = CASES.map((): Sample[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [figure, s] of runC(bin)) cSamples.set(figure, [...(cSamples.get(figure) ?? []), s]);
    CASES.forEach(([, , run], i) => tsSamples[i]!.push(run()));
  }
  const med = (xs: Sample[]): Sample => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
  const c = new Map([...cSamples].map(([f, xs]) => [f, med(xs)]));
  for (const [figure, s] of c) {
    process.stdout.write(JSON.stringify({ bench: 'map-ops', figure, impl: 'C libbpf', nsPerOp: round1(s.wall), cpuNsPerOp: round1(s.cpu), rounds: ROUNDS }) + '\n');
  }
  CASES.forEach(([figure, impl], i) => {
    const s = med(tsSamples[i]!);
    const base = c.get(figure)!;
    process.stdout.write(
      JSON.stringify({
        bench: 'map-ops',
        figure,
        impl,
        nsPerOp: round1(s.wall),
        cpuNsPerOp: round1(s.cpu),
        cNsPerOp: base.wall,
        cCpuNsPerOp: base.cpu,
        cpuOverheadNs: round1(s.cpu - base.cpu),
        cpuRatio: Math.round((s.cpu / base.cpu) * 100) / 100,
        rounds: ROUNDS,
      }) + '\n',
    );
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (sink < 0n) process.stdout.write('\n');
