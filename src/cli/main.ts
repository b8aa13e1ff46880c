#!/usr/bin/env node
/**
 * The tsbpf command. Each subcommand lives in its own module under cli/ and registers itself;
 * only the module of the subcommand being run is loaded (startup time is most of a quick
 * command), all of them for help. `tsbpf build` in its usual form does not load commander at
 * all (see cli/build.ts). Typed errors become one-line messages.
 */
import type { Command } from 'commander';
import { TsbpfError } from '../errors.js';

type Registrar = { register(program: Command): void };

/** Subcommand name -> module that registers it. */
const SUBCOMMANDS: Record<string, () => Promise<Registrar>> = {
  objdump: () => import('./objdump.js'),
  btf: () => import('./btf.js'),
  vm: () => import('./vm.js'),
  link: () => import('./link.js'),
  prog: () => import('./prog.js'),
  feature: () => import('./feature.js'),
  map: () => import('./map.js'),
  build: () => import('./build.js'),
};

// --explain anywhere on the line: print every system call tsbpf makes (like TSBPF_EXPLAIN=1).
const argv = process.argv.filter((a) => a !== '--explain');
if (argv.length !== process.argv.length) (await import('../sys/explain.js')).setExplain(true);

async function main(): Promise<void> {
  const wanted = argv[2];
  if (wanted === 'build' && (await import('./build.js')).runDirect(argv.slice(3))) return;
  const { Command } = await import('commander');
  const program = new Command('tsbpf')
    .description('eBPF toolkit for TypeScript: inspect, assemble, run and load BPF programs')
    .version('0.1.0')
    .option('--explain', 'print every bpf(), perf_event_open and ioctl call made, strace-style');
  const modules = wanted !== undefined && wanted in SUBCOMMANDS ? [SUBCOMMANDS[wanted]!] : Object.values(SUBCOMMANDS);
  for (const load of modules) (await load()).register(program);
  await program.parseAsync(argv);
}

try {
  await main();
} catch (err) {
  if (err instanceof TsbpfError) {
    process.stderr.write(`tsbpf: ${err.message}\n`);
    process.exit(1);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    // A system error (ENOENT, EACCES, ...) from opening a file the user named.
    process.stderr.write(`tsbpf: ${(err as Error).message}\n`);
    process.exit(1);
  }
  throw err;
}
