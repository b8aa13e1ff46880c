/**
 * The disassembler's differential test: `tsbpf objdump` against llvm-objdump 19 (decimal and
 * hex immediates) and llvm-objdump 14, line for line, over every clang-built object in
 * testdata/ (loops, subprograms, atomics, maps, globals, CO-RE, ISA v4, both byte orders).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { objdump, type ObjdumpOptions } from '../../src/objdump/index.js';
import { SKIP_LLVM } from '../asm/llvm-oracle.js';

const corpus = ['testdata/objdump', 'testdata/btf', 'testdata/elf']
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => join(dir, f)))
  .filter((path) => readFileSync(path)[18] === 247 || readFileSync(path)[19] === 247); // e_machine == EM_BPF

const FLAG_SETS: Array<[string[], ObjdumpOptions]> = [
  [['-d'], { disassemble: true }],
  [['-d', '-r'], { disassemble: true, reloc: true }],
  [['-h'], { headers: true }],
  [['-t'], { syms: true }],
  [['-r'], { reloc: true }],
  [['-h', '-t', '-d', '-r'], { headers: true, syms: true, disassemble: true, reloc: true }],
];

function llvm(tool: string, args: string[], path: string): string {
  const r = spawnSync(tool, [...args, path], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${tool} failed (${r.error?.message ?? r.stderr}); install Debian's llvm and llvm-19 or set TSBPF_NO_LLVM=1`);
  return r.stdout;
}

function sameLines(ours: string, theirs: string, what: string): void {
  const a = ours.split('\n');
  const b = theirs.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: line ${i + 1} differs\n  tsbpf: ${JSON.stringify(a[i])}\n  llvm:  ${JSON.stringify(b[i])}`);
  }
}

test('the corpus covers what the differential test claims', () => {
  assert.ok(corpus.length >= 15, `only ${corpus.length} objects`);
  const all = corpus.map((p) => llvm('llvm-objdump-19', ['-dr', '--no-print-imm-hex'], p)).join('\n');
  for (const needle of ['goto -', 'call -1', 'lock *(u64 *)', 'atomic_fetch_add', 'cmpxchg_64', 'xchg_64', 's/=', 'bswap', '= (s8)', '*(s16 *)', 'CO-RE <byte_off>', 'CO-RE <enumval_value>', 'CO-RE <type_exists>', 'R_BPF_64_32', 'call 131']) {
    assert.ok(all.includes(needle), `no object exercises '${needle}'`);
  }
});

for (const path of corpus) {
  test(`objdump ${path} matches llvm-objdump 19 and 14`, { skip: SKIP_LLVM }, () => {
    const bytes = readFileSync(path);
    for (const [flags, options] of FLAG_SETS) {
      sameLines(objdump(bytes, path, { ...options, llvm: 19 }), llvm('llvm-objdump-19', [...flags, '--no-print-imm-hex'], path), `${flags.join(' ')} (LLVM 19, decimal)`);
      sameLines(objdump(bytes, path, { ...options, llvm: 14 }), llvm('llvm-objdump', flags, path), `${flags.join(' ')} (LLVM 14)`);
    }
    sameLines(objdump(bytes, path, { disassemble: true, reloc: true, llvm: 19, immHex: true }), llvm('llvm-objdump-19', ['-dr'], path), '-dr (LLVM 19, hex)');
    sameLines(objdump(bytes, path, { disassemble: true, llvm: 19, alu32: true }), llvm('llvm-objdump-19', ['-d', '--no-print-imm-hex', '--mattr=+alu32'], path), '-d --mattr=+alu32');
  });
}

test('the CLI prints the same as the library, with llvm-objdump flag spellings', { skip: SKIP_LLVM }, () => {
  const path = 'testdata/objdump/maps_globals.bpf.o';
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'objdump', '-dr', '-h', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  sameLines(r.stdout, llvm('llvm-objdump-19', ['-dr', '-h', '--no-print-imm-hex'], path), 'CLI -dr -h');
});
