/**
 * Map operation costs: nanoseconds per single lookup and update on a hash map (u32 -> u64,
 * 100k entries) and per entry of a batch lookup of all of them, through tsbpf's APIs and
 * through libbpf from C (bench/map-ops.c, compiled here with `cc -O2 ... -lbpf` and run in the
 * same invocation). One JSON object per line, the C baseline included; each figure is the
 * median of several runs.
 *
 *   node dist/bench/map-ops.js [--quick]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchCursor, BpfMap, HashMap, u32, u64 } from '../src/kernel/index.js';

const quick = process.argv.includes('--quick');
const ENTRIES = 100_000;
const OPS = quick ? 100_000 : 1_000_000;
const RUNS = quick ? 3 : 7;
const CHUNK = 4096;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Compiles and runs the C baseline; its figures by name. */
function runC(): Map<string, number> {
  const src = fileURLToPath(new URL('../../bench/map-ops.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  try {
    const bin = join(dir, 'map-ops');
    execFileSync('cc', ['-O2', '-o', bin, src, '-lbpf'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const out = execFileSync(bin, [String(ENTRIES), String(OPS), String(RUNS)], { encoding: 'utf8' });
    return new Map(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { figure: string; nsPerOp: number })
        .map((f) => [f.figure, f.nsPerOp]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ns per op of `body(i)` over OPS operations, median of RUNS (after one warm-up run). */
function time(ops: number, body: (i: number) => void): number {
  const samples: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) body(i);
    const ns = Number(process.hrtime.bigint() - t0) / ops;
    if (r > 0) samples.push(ns);
  }
  return median(samples);
}

function report(figure: string, impl: string, nsPerOp: number, c: number | undefined): void {
  const line: Record<string, string | number> = { bench: 'map-ops', figure, impl, nsPerOp: round(nsPerOp) };
  if (c !== undefined && impl !== 'C libbpf') {
    line.cNsPerOp = c;
    line.overheadNs = round(nsPerOp - c);
    line.ratio = Math.round((nsPerOp / c) * 100) / 100;
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}

const c = runC();
for (const [figure, ns] of c) report(figure, 'C libbpf', ns, undefined);

using counts = HashMap.create({ key: u32, value: u64, maxEntries: ENTRIES, name: 'bench_ts' });
counts.batchUpdate(Array.from({ length: ENTRIES }, (_, k) => [k, BigInt(k)] as const));
const raw: BpfMap = counts.map;
const keyView = new DataView(raw.keyBuffer.buffer, raw.keyBuffer.byteOffset, 4);
const keys = Array.from({ length: ENTRIES }, (_, k) => u32.encode(k));
let sink = 0n;

report('lookup', 'tsbpf TypedMap.get', time(OPS, (i) => (sink += counts.get(i % ENTRIES)!)), c.get('lookup'));
report('lookup', 'tsbpf BpfMap.lookupBytes', time(OPS, (i) => void raw.lookupBytes(keys[i % ENTRIES]!)), c.get('lookup'));
report(
  'lookup',
  'tsbpf BpfMap.lookupInPlace',
  time(OPS, (i) => {
    keyView.setUint32(0, i % ENTRIES, true);
    raw.lookupInPlace();
  }),
  c.get('lookup'),
);
report('update', 'tsbpf TypedMap.set', time(OPS, (i) => counts.set(i % ENTRIES, BigInt(i))), c.get('update'));
const value = u64.encode(7n);
report('update', 'tsbpf BpfMap.updateBytes', time(OPS, (i) => raw.updateBytes(keys[i % ENTRIES]!, value)), c.get('update'));
report(
  'update',
  'tsbpf BpfMap.updateInPlace',
  time(OPS, (i) => {
    keyView.setUint32(0, i % ENTRIES, true);
    raw.updateInPlace();
  }),
  c.get('update'),
);

// Batch: the whole map per run, CHUNK entries per call, into caller buffers (as the C side).
const keysOut = new Uint8Array(ENTRIES * 4);
const valuesOut = new Uint8Array(ENTRIES * 8);
const batchNs = time(1, () => {
  const cursor = new BatchCursor(raw);
  let total = 0;
  while (!cursor.done) total += raw.batchLookupBytes(cursor, keysOut.subarray(total * 4, (total + CHUNK) * 4), valuesOut.subarray(total * 8, (total + CHUNK) * 8));
  if (total !== ENTRIES) throw new Error(`batch read ${total} of ${ENTRIES}`);
});
report('batch-lookup', 'tsbpf BpfMap.batchLookupBytes', batchNs / ENTRIES, c.get('batch-lookup'));
const decodedNs = time(1, () => {
  let n = 0;
  for (const [, v] of counts.batchEntries(CHUNK)) {
    sink += v;
    n++;
  }
  if (n !== ENTRIES) throw new Error(`batch read ${n} of ${ENTRIES}`);
});
report('batch-lookup', 'tsbpf TypedMap.batchEntries (decoded)', decodedNs / ENTRIES, c.get('batch-lookup'));
if (sink < 0n) process.stdout.write('');
