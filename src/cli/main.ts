#!/usr/bin/env node
/**
 * The tsbpf command. Each subcommand lives in its own module under cli/ and registers itself
 * here; this file only wires them together and turns typed errors into one-line messages.
 */
import { Command } from 'commander';
import { TsbpfError } from '../errors.js';
import { register as registerBtf } from './btf.js';
import { register as registerObjdump } from './objdump.js';
import { register as registerVm } from './vm.js';

const program = new Command('tsbpf')
  .description('eBPF toolkit for TypeScript: inspect, assemble, run and load BPF programs')
  .version('0.1.0');
registerBtf(program);
registerObjdump(program);
registerVm(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof TsbpfError) {
    process.stderr.write(`tsbpf: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
