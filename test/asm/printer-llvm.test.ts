// Differential test of the printer against llvm-objdump 14 and 19: every instruction form is
// encoded by our codec, wrapped into one object by llvm-mc-19, disassembled once per objdump
// flavour, and compared line for line with formatInstruction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Instruction } from '../../src/asm/instruction.js';
import { AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size } from '../../src/asm/opcodes.js';
import { formatInstruction, type FormatOptions } from '../../src/asm/printer.js';
import {
  SKIP_LLVM,
  crashesLlvm14,
  hexOf,
  instructionForms,
  objdumpTexts,
  objectOf,
  runTool,
  textsBySlot,
  withTempDir,
} from './llvm-oracle.js';

interface Flavour {
  tool: string;
  args: string[];
  options: FormatOptions;
}

const FLAVOURS: Flavour[] = [
  { tool: 'llvm-objdump-19', args: ['--no-print-imm-hex'], options: { llvm: 19 } },
  { tool: 'llvm-objdump-19', args: [], options: { llvm: 19, immHex: true } },
  { tool: 'llvm-objdump-19', args: ['--no-print-imm-hex', '--mcpu=v4'], options: { llvm: 19, alu32: true } },
  { tool: 'llvm-objdump-19', args: ['--mcpu=v4'], options: { llvm: 19, alu32: true, immHex: true } },
  { tool: 'llvm-objdump', args: [], options: { llvm: 14 } },
  { tool: 'llvm-objdump', args: ['--mattr=+alu32'], options: { llvm: 14, alu32: true } },
  { tool: 'llvm-objdump', args: ['--print-imm-hex'], options: { llvm: 14, immHex: true } },
];

/** Compares our text with the oracle's for every form; returns the first mismatches. */
function mismatches(insns: readonly Instruction[], bySlot: Map<number, string>, options: FormatOptions): string[] {
  const oracle = textsBySlot(insns, bySlot);
  const bad: string[] = [];
  insns.forEach((insn, i) => {
    const ours = formatInstruction(insn, options);
    if (ours !== oracle[i] && bad.length < 25) {
      bad.push(`${hexOf(insn)}: llvm ${JSON.stringify(oracle[i])}, ours ${JSON.stringify(ours)}`);
    }
  });
  return bad;
}

test('llvm-objdump is LLVM 14 and llvm-objdump-19 is LLVM 19', { skip: SKIP_LLVM }, () => {
  assert.match(runTool('llvm-objdump', ['--version']), /LLVM version 14\./);
  assert.match(runTool('llvm-objdump-19', ['--version']), /LLVM version 19\./);
});

test('formatInstruction({ llvm }) matches llvm-objdump 14 and 19 on every form, in every flavour', { skip: SKIP_LLVM }, (t) => {
  const all = instructionForms();
  const for14 = all.filter((insn) => !crashesLlvm14(insn));
  withTempDir((dir) => {
    const objects = { 19: objectOf(dir, 'all', all), 14: objectOf(dir, 'for14', for14) };
    for (const flavour of FLAVOURS) {
      const insns = flavour.options.llvm === 14 ? for14 : all;
      const oracle = objdumpTexts(flavour.tool, flavour.args, objects[flavour.options.llvm!]);
      const name = `${flavour.tool} ${flavour.args.join(' ')}`;
      assert.deepEqual(mismatches(insns, oracle, flavour.options), [], name);
      const unknown = [...oracle.values()].filter((l) => l === '<unknown>').length;
      t.diagnostic(`${name}: ${insns.length} forms equal, ${unknown} of them <unknown>`);
    }
  });
});

test('big-endian objects print the same (llvm-objdump-19 on bpfeb)', { skip: SKIP_LLVM }, () => {
  const insns = instructionForms();
  withTempDir((dir) => {
    const oracle = objdumpTexts('llvm-objdump-19', ['--no-print-imm-hex'], objectOf(dir, 'be', insns, false));
    assert.deepEqual(mismatches(insns, oracle, { llvm: 19 }), []);
  });
});

/**
 * Why the default (canonical) text differs from llvm-objdump 19's, or undefined when it must
 * not differ. This is the documented list of deviations; the test checks it both ways.
 */
function deviation(insn: Instruction, alu32: boolean): string | undefined {
  const size = insn.code & 0x18;
  const imm = insn.imm | 0;
  if (insn.code === (Class.JMP | JmpOp.CALL) && insn.src !== CallSrc.HELPER) return 'call pc+N / call kfunc N';
  if (insn.code === LD_IMM64 && insn.src !== PseudoSrc.IMM64 && (insn.imm2 ?? 0) !== 0) return 'ld_pseudo upper half';
  if ((insn.code & 0xe7) === (Class.LD | Mode.IND) && imm !== 0) return 'skb[rN + imm]';
  if ((insn.code & 0xe7) === (Class.STX | Mode.ATOMIC)) {
    if (imm === AtomicOp.LOAD_ACQ || imm === AtomicOp.STORE_REL) return 'load-acquire/store-release unknown to LLVM 19';
    if (size === Size.W && !alu32 && imm !== AtomicOp.ADD) return '32-bit atomics need alu32 in LLVM 19';
  }
  return undefined;
}

test('the default text is llvm-objdump 19 text except for the documented deviations', { skip: SKIP_LLVM }, (t) => {
  const insns = instructionForms();
  withTempDir((dir) => {
    const object = objectOf(dir, 'all', insns);
    for (const alu32 of [false, true]) {
      const args = alu32 ? ['--no-print-imm-hex', '--mcpu=v4'] : ['--no-print-imm-hex'];
      const oracle = textsBySlot(insns, objdumpTexts('llvm-objdump-19', args, object));
      const bad: string[] = [];
      const counts = new Map<string, number>();
      insns.forEach((insn, i) => {
        const ours = formatInstruction(insn, { alu32 });
        const why = deviation(insn, alu32);
        if (why !== undefined) counts.set(why, (counts.get(why) ?? 0) + 1);
        if ((ours !== oracle[i]) !== (why !== undefined) && bad.length < 25) {
          bad.push(`${hexOf(insn)}: llvm ${JSON.stringify(oracle[i])}, ours ${JSON.stringify(ours)}, documented: ${why}`);
        }
      });
      assert.deepEqual(bad, [], `alu32 ${alu32}`);
      t.diagnostic(`alu32 ${alu32}: ${JSON.stringify(Object.fromEntries(counts))}`);
    }
  });
});
