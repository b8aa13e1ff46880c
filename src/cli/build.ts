/**
 * `tsbpf build FILE.ts -o FILE.o`: compiles a kernel program written in the TypeScript dialect
 * to a BPF object (ELF with BTF and .BTF.ext) that tsbpf, libbpf and bpftool load.
 * --explain-ir prints the IR after optimisation and after register allocation.
 *
 * The command stands beside `clang -target bpf`, so its time matters: besides registering with
 * commander (help, errors, unusual spellings), it parses its usual form itself with node:util
 * ({@link runDirect}), which lets main.ts skip loading commander (and the child_process module
 * commander loads) for it.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command } from 'commander';
import { compileFile } from '../compiler/compile.js';
import { CompileError, formatDiagnostic } from '../compiler/diagnostics.js';

interface BuildOptions {
  output?: string;
  btf?: string;
  explainIr?: boolean;
}

/** Registers `tsbpf build`. */
export function register(program: Command): void {
  program
    .command('build')
    .description('compile a kernel program written in TypeScript (tsbpf/lang) to a BPF object')
    .argument('<file>', 'the program, e.g. exec.bpf.ts')
    .option('-o, --output <file>', 'the object to write (default: FILE with .o instead of .ts)')
    .option('--btf <file>', 'kernel BTF to compile kernel types against (default /sys/kernel/btf/vmlinux)')
    .option('--explain-ir', 'print the IR of every function (after optimisation and after register allocation)')
    .action((file: string, opts: BuildOptions) => build(file, opts));
}

/** The flags of {@link register} for node:util's parseArgs. */
const FLAGS = { output: { type: 'string', short: 'o' }, btf: { type: 'string' }, 'explain-ir': { type: 'boolean' } } as const;

/**
 * Runs `tsbpf build ARGS` without commander when ARGS are one file and the flags above; returns
 * false, having done nothing, for anything else (help, unknown flags, a missing or extra
 * argument), which main.ts then hands to commander for its usual behaviour and messages.
 */
export function runDirect(args: string[]): boolean {
  let parsed;
  try {
    parsed = parseArgs({ args, options: FLAGS, allowPositionals: true });
  } catch {
    return false;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return false;
  build(positionals[0]!, { output: values.output, btf: values.btf, explainIr: values['explain-ir'] });
  return true;
}

function build(file: string, opts: BuildOptions): void {
  const output = opts.output ?? file.replace(/\.[cm]?ts$/, '') + '.o';
  try {
    const result = compileFile(file, { ...(opts.btf ? { kernelBtf: opts.btf } : {}), explainIr: opts.explainIr === true });
    for (const d of result.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (result.ir) process.stdout.write(`${result.ir}\n`);
    writeFileSync(output, result.object);
    const counts = result.spec.programs.map((p) => `${p.name} ${p.instructions.length}`).join(', ');
    process.stderr.write(`${output}: ${result.spec.programs.length} program${result.spec.programs.length === 1 ? '' : 's'} (${counts} instructions), ${result.spec.maps.length} map${result.spec.maps.length === 1 ? '' : 's'}\n`);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.exitCode = 1;
  }
}
