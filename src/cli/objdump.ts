/**
 * `tsbpf objdump FILE...`: llvm-objdump for BPF objects, line for line, with --annotate to
 * explain each instruction in plain words.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ParseError } from '../errors.js';
import { objdump, type ObjdumpOptions } from '../objdump/index.js';

interface Flags {
  disassemble?: boolean;
  sectionHeaders?: boolean;
  syms?: boolean;
  reloc?: boolean;
  annotate?: boolean;
  printImmHex?: boolean;
  mattr?: string;
  llvmVersion?: string;
  section?: string[];
}

function llvmRelease(value: string | undefined): 14 | 19 | undefined {
  if (value === undefined) return undefined;
  if (value === '14' || value === '19') return Number(value) as 14 | 19;
  throw new ParseError('command line', 1, 1, `--llvm-version must be 14 or 19 (is '${value}')`);
}

/** Registers `tsbpf objdump`. */
export function register(program: Command): void {
  program
    .command('objdump')
    .description('print sections, symbols, relocations and disassembly of BPF objects, as llvm-objdump does')
    .helpOption('--help', 'display help for objdump')
    .argument('<files...>', 'ELF object files')
    .option('-d, --disassemble', 'disassemble executable sections')
    .option('-h, --section-headers', 'list the sections')
    .option('-t, --syms', 'list the symbol table')
    .option('-r, --reloc', 'list relocations (under their instructions with -d)')
    .option('--annotate', 'with -d: explain each instruction (helpers, maps, context fields, branches)')
    .option('--print-imm-hex', 'print immediates in hex, as llvm-objdump 17+ does by default')
    .option('--no-print-imm-hex', 'print immediates in decimal (the default, as llvm-objdump 14 does)')
    .option('--mattr <attrs>', '+alu32: print narrow loads/stores with w registers, as llvm-objdump --mattr=+alu32')
    .option('--llvm-version <n>', 'print as llvm-objdump 14 or 19 (the default) does, including what it cannot decode')
    .option('-j, --section <name...>', 'only disassemble these sections')
    .action((files: string[], flags: Flags) => {
      const options: ObjdumpOptions = {
        disassemble: flags.disassemble,
        headers: flags.sectionHeaders,
        syms: flags.syms,
        reloc: flags.reloc,
        immHex: flags.printImmHex,
        alu32: flags.mattr?.split(',').includes('+alu32'),
        llvm: llvmRelease(flags.llvmVersion) ?? 19,
        sections: flags.section,
        annotate: flags.annotate,
      };
      if (!options.disassemble && !options.headers && !options.syms && !options.reloc) {
        throw new ParseError('command line', 1, 1, 'objdump: give at least one of -d, -h, -t, -r');
      }
      for (const file of files) process.stdout.write(objdump(readFileSync(file), file, options));
    });
}
