/**
 * `tsbpf vm ...`: the userspace VM from the command line.
 *   conformance DIR   runs every bpf_conformance *.data file under DIR (negative/ ones must fail)
 *   plugin [MEM]      the bpf_conformance plugin protocol (program hex on stdin, r0 hex out)
 *   run FILE          runs a ubpf-dialect assembly file and prints r0
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { parseUbpf } from '../asm/ubpf.js';
import { ParseError } from '../errors.js';
import { parseHexBytes, runConformanceTest, runPluginProtocol } from '../vm/conformance.js';
import { Engine, Vm } from '../vm/vm.js';

/** Every *.data file under `dir`, sorted. */
function dataFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.data')) out.push(path);
    }
  };
  walk(dir);
  return out;
}

function engines(value: string): Engine[] {
  if (value === 'both') return [Engine.INTERPRETER, Engine.JIT];
  if (value === Engine.INTERPRETER || value === Engine.JIT) return [value];
  throw new ParseError('command line', 1, 1, `--engine must be jit, interpreter or both (is '${value}')`);
}

/** Registers `tsbpf vm` and its subcommands. */
export function register(program: Command): void {
  const vm = program.command('vm').description('run BPF programs in the userspace VM');

  vm.command('conformance')
    .description('run the bpf_conformance test files (*.data) under DIR on both engines; tests under a negative/ folder must fail')
    .argument('<dir>', 'folder of test files (searched recursively)')
    .option('--plugin-like', 'judge like the upstream runner with a plugin (hex protocol, exact error text)')
    .option('--engine <engine>', 'jit, interpreter or both', 'both')
    .action((dir: string, opts: { pluginLike?: boolean; engine: string }) => {
      let passed = 0;
      let failed = 0;
      for (const file of dataFiles(dir)) {
        const rel = relative(dir, file);
        const negative = rel.split(sep).slice(0, -1).includes('negative');
        const text = readFileSync(file, 'utf8');
        // A file passes when it passes on every engine asked for.
        let ok = true;
        for (const engine of engines(opts.engine)) {
          const outcome = runConformanceTest(text, { engine, negative, pluginLike: opts.pluginLike ?? false, file: rel });
          if (!outcome.passed) {
            ok = false;
            process.stdout.write(`FAIL ${rel} [${engine}]: ${outcome.reason}\n`);
          }
        }
        if (ok) passed++;
        else failed++;
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      if (failed > 0) process.exitCode = 1;
    });

  vm.command('plugin')
    .description('bpf_conformance plugin: reads the program as hex bytes on stdin, prints r0 in hex')
    .argument('[memory]', 'the memory as hex bytes separated by blanks')
    .option('--engine <engine>', 'jit or interpreter', 'jit')
    .option('--jit', 'same as --engine jit')
    .option('--interpret', 'same as --engine interpreter')
    .option('--elf', 'the program is an ELF object (not supported)')
    .action((memory: string | undefined, opts: { engine: string; jit?: boolean; interpret?: boolean; elf?: boolean }) => {
      if (opts.elf) {
        process.stderr.write('ELF input is not supported by this plugin\n');
        process.exitCode = 1;
        return;
      }
      const engine = opts.interpret ? Engine.INTERPRETER : opts.jit ? Engine.JIT : engines(opts.engine)[0]!;
      const input = readFileSync(0, 'utf8').split('\n')[0] ?? '';
      const result = runPluginProtocol(input, memory, engine);
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.exitCode;
    });

  vm.command('run')
    .description('assemble a ubpf-dialect file and run it; prints r0 in hex and any trace_printk output')
    .argument('<file>', 'assembly file (ubpf dialect: %r0, add32, ldxw %r1, [%r2+8], ...)')
    .option('--mem <hex>', 'context memory as hex bytes (r1 points to it, r2 holds its length)')
    .option('--engine <engine>', 'jit or interpreter', 'jit')
    .option('--budget <n>', 'instruction budget', '10000000')
    .action((file: string, opts: { mem?: string; engine: string; budget: string }) => {
      const insns = parseUbpf(readFileSync(file, 'utf8'), { file });
      const mem = opts.mem !== undefined ? parseHexBytes(opts.mem, 'memory') : undefined;
      const budget = Number(opts.budget);
      if (!Number.isSafeInteger(budget) || budget <= 0) {
        throw new ParseError('command line', 1, 1, `--budget must be a positive integer (is '${opts.budget}')`);
      }
      const machine = new Vm(insns, { engine: engines(opts.engine)[0]!, budget, ...(mem ? { context: mem } : {}) });
      const r0 = machine.run({ registers: { r2: BigInt(mem?.length ?? 0) } });
      for (const line of machine.trace) process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
      process.stdout.write(`0x${r0.toString(16)}\n`);
    });
}
