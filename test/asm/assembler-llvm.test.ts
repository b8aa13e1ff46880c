// Cross-check of the assembler with llvm-mc-19: the same text, assembled by both, must give
// the same bytes. The corpus is every line the printer writes for every instruction form (in
// every style LLVM can read) and every line llvm-objdump 14/19 would print for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { assemble } from '../../src/asm/assembler.js';
import { encode } from '../../src/asm/codec.js';
import type { Instruction } from '../../src/asm/instruction.js';
import { AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc } from '../../src/asm/opcodes.js';
import { UNKNOWN_INSTRUCTION, formatInstruction, type FormatOptions } from '../../src/asm/printer.js';
import { SKIP_LLVM, instructionForms, llvmMcEncodings, runTool, validInstruction, withTempDir } from './llvm-oracle.js';

const STYLES: FormatOptions[] = [
  {},
  { immHex: true },
  { alu32: true },
  { llvm: 19 },
  { llvm: 19, immHex: true, alu32: true },
  { llvm: 14 },
  { llvm: 14, alu32: true },
];

/**
 * False for the texts llvm-mc-19 cannot read: our extensions (call pc+N, call kfunc N, the
 * fourth ld_pseudo operand, skb[rN + imm]), load-acquire/store-release (LLVM 21 syntax), and
 * gotol beyond 16 bits, which LLVM 19's parser wrongly limits to 16-bit distances.
 */
function llvmMcReads(insn: Instruction, options: FormatOptions): boolean {
  if (insn.code === (Class.JMP32 | JmpOp.JA) && Math.abs(insn.imm) > 0x7fff) return false;
  if (options.llvm !== undefined) return true;
  const imm = insn.imm | 0;
  if (insn.code === (Class.JMP | JmpOp.CALL) && insn.src !== CallSrc.HELPER) return false;
  if (insn.code === LD_IMM64 && insn.src !== PseudoSrc.IMM64 && (insn.imm2 ?? 0) !== 0) return false;
  if ((insn.code & 0xe7) === (Class.LD | Mode.IND) && imm !== 0) return false;
  if ((insn.code & 0xe7) === (Class.STX | Mode.ATOMIC) && (imm === AtomicOp.LOAD_ACQ || imm === AtomicOp.STORE_REL)) return false;
  return true;
}

/** Lines of the corpus, each once, with what our assembler makes of them. */
function corpus(insns: readonly Instruction[], styles: readonly FormatOptions[]): string[] {
  const lines = new Set<string>();
  for (const options of styles) {
    for (const insn of insns) {
      const text = formatInstruction(insn, options);
      if (text !== UNKNOWN_INSTRUCTION && llvmMcReads(insn, options)) lines.add(text);
    }
  }
  return [...lines];
}

function compareWithLlvmMc(lines: readonly string[]): string[] {
  const theirs = llvmMcEncodings(lines);
  const bad: string[] = [];
  lines.forEach((line, k) => {
    const ours = Buffer.from(encode(assemble(line).instructions)).toString('hex');
    const expected = Buffer.from(theirs[k]!).toString('hex');
    if (ours !== expected && bad.length < 25) bad.push(`${JSON.stringify(line)}: llvm-mc ${expected}, ours ${ours}`);
  });
  return bad;
}

test('every printed line assembles to the bytes llvm-mc-19 makes of it', { skip: SKIP_LLVM }, (t) => {
  const lines = corpus(instructionForms(), STYLES);
  assert.deepEqual(compareWithLlvmMc(lines), []);
  t.diagnostic(`${lines.length} distinct lines agree`);
});

test('random valid instructions in random styles assemble like llvm-mc-19', { skip: SKIP_LLVM }, () => {
  const sample = fc.sample(fc.tuple(validInstruction(), fc.constantFrom(...STYLES)), { numRuns: 5000, seed: 42 });
  const lines = sample
    .map(([insn, options]) => (llvmMcReads(insn, options) ? formatInstruction(insn, options) : UNKNOWN_INSTRUCTION))
    .filter((line) => line !== UNKNOWN_INSTRUCTION);
  assert.deepEqual(compareWithLlvmMc(lines), []);
});

test('labels resolve as llvm-mc-19 resolves them', { skip: SKIP_LLVM }, () => {
  const program = [
    'start:',
    '  r1 = 0x123456789 ll',
    '  if r1 s> 4 goto done',
    '  if w1 & w2 goto start',
    '.LBB0_3:',
    '  call func',
    '  gotol .LBB0_3',
    '  may_goto done',
    '  goto +1',
    'done: exit',
    'func:',
    '  call start',
    '  goto func',
    '  exit',
  ].join('\n');
  withTempDir((dir) => {
    const source = join(dir, 'labels.s');
    const object = join(dir, 'labels.o');
    writeFileSync(source, program + '\n');
    runTool('llvm-mc-19', ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', '-o', object, source]);
    const theirs = runTool('llvm-objdump-19', ['-d', object])
      .split('\n')
      .map((line) => /^\s*\d+:\t([0-9a-f ]+)\t/.exec(line)?.[1]?.replace(/ /g, ''))
      .filter((hex): hex is string => hex !== undefined)
      .join('');
    assert.equal(Buffer.from(encode(assemble(program).instructions)).toString('hex'), theirs);
  });
});
