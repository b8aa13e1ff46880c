/**
 * BTF benchmarks, one JSON object per line:
 * - cold lookup of 'task_struct' in /sys/kernel/btf/vmlinux (parse + name lookup + decode, first
 *   use in this process, file already read);
 * - in-process raw dump of vmlinux (parse + dump to a discarding sink), median of several runs;
 * - the whole `tsbpf btf dump` command against `bpftool btf dump file`, both writing to /dev/null,
 *   alternating A/B runs, median wall time each. The command is also timed with
 *   NODE_EXTRA_CA_CERTS removed from its environment: when set, Node loads the CA file at startup
 *   (over 100 ms on this machine), which has nothing to do with BTF.
 * Run: node dist/bench/btf-dump.js [runs]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BtfKind, parseBtf, writeRaw } from '../src/btf/index.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const RUNS = Number(process.argv[2] ?? 15);
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number): number => Math.round(x * 10) / 10;
const emit = (o: object): void => console.log(JSON.stringify(o));

const bytes = readFileSync(VMLINUX);

// 1. cold named lookup (must run first: nothing is compiled or cached yet)
{
  const t0 = performance.now();
  const btf = parseBtf(bytes);
  const found = btf.typeByName('task_struct', BtfKind.STRUCT);
  const ms = performance.now() - t0;
  if (!found) throw new Error('task_struct not found');
  emit({ figure: 'cold lookup task_struct (parse + find + decode)', ms: round(ms), target_ms: 20, types: btf.typeCount - 1 });
}

// 2. in-process raw dump
{
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const btf = parseBtf(bytes);
    size = 0;
    writeRaw(btf, (c) => (size += c.length));
    times.push(performance.now() - t0);
  }
  emit({ figure: 'in-process raw dump of vmlinux (parse + dump)', median_ms: round(median(times)), first_ms: round(times[0]!), runs: RUNS, output_bytes: size });
}

// 3. whole command vs bpftool, alternating
{
  const devnull = openSync('/dev/null', 'w');
  const envNoCa = { ...process.env };
  delete envNoCa.NODE_EXTRA_CA_CERTS;
  const commands: [string, string, string[], NodeJS.ProcessEnv][] = [
    ['tsbpf', process.execPath, [MAIN, 'btf', 'dump', VMLINUX], process.env],
    ['bpftool', 'bpftool', ['btf', 'dump', 'file', VMLINUX], process.env],
    ['tsbpf (no NODE_EXTRA_CA_CERTS)', process.execPath, [MAIN, 'btf', 'dump', VMLINUX], envNoCa],
    ['node -e 0 (startup only, no NODE_EXTRA_CA_CERTS)', process.execPath, ['-e', '0'], envNoCa],
  ];
  const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  for (let i = 0; i < RUNS + 1; i++) {
    for (const [name, cmd, args, env] of commands) {
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { stdio: ['ignore', devnull, 'inherit'], env });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${name} failed: ${r.error ?? r.status}`);
      if (i > 0) times.get(name)!.push(ms); // first round is a warm-up (page cache)
    }
  }
  closeSync(devnull);
  const bpftool = median(times.get('bpftool')!);
  for (const [name] of commands) {
    const m = median(times.get(name)!);
    emit({ figure: `whole command: ${name}`, median_ms: round(m), vs_bpftool: round(m / bpftool), runs: RUNS });
  }
}
