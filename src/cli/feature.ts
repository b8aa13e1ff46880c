/**
 * `tsbpf feature`: what this kernel supports — program types, map types, attach kinds, BTF
 * kinds and other capabilities — each with the reason (errno, verifier message or missing
 * file), like `bpftool feature probe` but saying why. `--helpers TYPE` adds every helper for a
 * program type; `--json` prints the results as JSON.
 */
import type { Command } from 'commander';
import { ParseError } from '../errors.js';
import { table, toJson } from './format.js';

interface Options {
  json?: boolean;
  helpers?: string[];
  unavailable?: boolean;
}

async function run(opts: Options): Promise<void> {
  const { probeAll } = await import('../kernel/features.js');
  const { ProgType } = await import('../uapi/enums.js');
  const helpersFor = (opts.helpers ?? []).map((t) => {
    const name = t.toUpperCase().replace(/^BPF_PROG_TYPE_/, '');
    if (!(name in ProgType) || name === 'UNSPEC') throw new ParseError('--helpers', 1, 1, `unknown program type '${t}' (e.g. xdp, kprobe, tracepoint)`);
    return name as keyof typeof ProgType;
  });
  let results = probeAll({ helpersFor: helpersFor as never });
  if (opts.unavailable) results = results.filter((r) => !r.available);
  if (opts.json) {
    process.stdout.write(toJson(results) + '\n');
    return;
  }
  process.stdout.write(table(['CATEGORY', 'FEATURE', 'AVAILABLE', 'REASON'], results.map((r) => [r.category, r.name, r.available ? 'yes' : 'no', r.reason])));
}

/** Registers `tsbpf feature`. */
export function register(program: Command): void {
  program
    .command('feature')
    .description('probe what this kernel supports (program/map types, attach kinds, BTF kinds, helpers) and why')
    .option('--json', 'print JSON')
    .option('--helpers <type...>', 'also probe every helper for these program types (e.g. xdp kprobe)')
    .option('--unavailable', 'list only what is unavailable')
    .action(run);
}
