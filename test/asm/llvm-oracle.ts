/**
 * Shared by the printer and assembler tests: an exhaustive list of instruction forms, a
 * fast-check arbitrary of valid instructions, and runners for the LLVM tools used as oracles
 * (llvm-mc-19, llvm-objdump-19, llvm-objdump 14). The LLVM tests fail when a tool is missing,
 * unless TSBPF_NO_LLVM=1 is set, in which case they are skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encode } from '../../src/asm/codec.js';
import { checkInstruction, type Instruction } from '../../src/asm/instruction.js';
import { LD_IMM64 } from '../../src/asm/opcodes.js';

/** Set TSBPF_NO_LLVM=1 to skip the tests that need LLVM; otherwise missing tools fail them. */
export const SKIP_LLVM: string | false = process.env.TSBPF_NO_LLVM === '1' ? 'TSBPF_NO_LLVM=1' : false;

const DST = [0, 1, 10];
const SRC = [0, 1, 2, 3, 4, 5, 6, 10];
const OFF = [0, 1, 8, 16, 32, -8, 7, -32768, 32767];
const IMM = [
  0, 1, -1, 5, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110, 0x10000, 0x7fffffff,
  -0x80000000,
];
const IMM2 = [0, 9, -1];

let forms: Instruction[] | undefined;

/**
 * Every valid instruction over a grid of field values: all opcodes and variants (K/X, sizes,
 * modes, atomic operations, pseudo sources, movsx/sdiv offsets) with registers r0, r1, r10,
 * negative, zero and extreme offsets and immediates. About 25,000 instructions.
 */
export function instructionForms(): Instruction[] {
  if (forms) return forms;
  forms = [];
  for (let code = 0; code < 256; code++) {
    for (const dst of DST) {
      for (const src of SRC) {
        for (const off of OFF) {
          for (const imm of IMM) {
            for (const imm2 of code === LD_IMM64 ? IMM2 : [undefined]) {
              const insn: Instruction = { code, dst, src, off, imm };
              if (imm2 !== undefined) insn.imm2 = imm2;
              if (checkInstruction(insn) === undefined) forms.push(insn);
            }
          }
        }
      }
    }
  }
  return forms;
}

/**
 * Valid instructions: a form from {@link instructionForms} with some fields replaced by random
 * values, each replacement kept only when the instruction stays valid.
 */
export function validInstruction(): fc.Arbitrary<Instruction> {
  const all = instructionForms();
  const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
  return fc
    .record({
      index: fc.integer({ min: 0, max: all.length - 1 }),
      dst: fc.integer({ min: 0, max: 10 }),
      src: fc.integer({ min: 0, max: 10 }),
      off: fc.oneof(fc.integer({ min: -0x8000, max: 0x7fff }), fc.constantFrom(0, 1, 8, 16, 32)),
      imm: fc.oneof(int32, fc.constantFrom(...IMM)),
      imm2: int32,
      mask: fc.integer({ min: 0, max: 31 }),
    })
    .map(({ index, mask, ...values }) => {
      let insn: Instruction = { ...all[index]! };
      (['dst', 'src', 'off', 'imm', 'imm2'] as const).forEach((field, bit) => {
        if (!(mask & (1 << bit)) || (field === 'imm2' && insn.code !== LD_IMM64)) return;
        const candidate = { ...insn, [field]: values[field] };
        if (checkInstruction(candidate) === undefined) insn = candidate;
      });
      return insn;
    });
}

/** Runs an LLVM tool; throws with its stderr when it fails or is missing. */
export function runTool(tool: string, args: string[], input?: string): string {
  const result = spawnSync(tool, args, { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.error) {
    throw new Error(`${tool} could not run (${result.error.message}); install LLVM 14 and 19 or set TSBPF_NO_LLVM=1`);
  }
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed:\n${result.stderr.slice(0, 4000)}`);
  if (result.stderr.trim() !== '') throw new Error(`${tool} ${args.join(' ')} complained:\n${result.stderr.slice(0, 4000)}`);
  return result.stdout;
}

/** A temporary directory removed after `fn`. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-asm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Wraps instructions into a relocatable object with llvm-mc-19 (`.byte` lines in .text) and
 * returns its path inside `dir` (`<name>.o`).
 */
export function objectOf(dir: string, name: string, insns: readonly Instruction[], littleEndian = true): string {
  const bytes = encode(insns, { littleEndian, strict: false });
  const lines = ['.text'];
  for (let at = 0; at < bytes.length; at += 8) lines.push(`.byte ${Array.from(bytes.subarray(at, at + 8)).join(',')}`);
  const source = join(dir, `${name}.s`);
  const object = source.replace(/\.s$/, '.o');
  writeFileSync(source, lines.join('\n') + '\n');
  runTool('llvm-mc-19', ['-triple', littleEndian ? 'bpfel' : 'bpfeb', '-filetype=obj', '-o', object, source]);
  return object;
}

/**
 * Disassembles an object and returns what llvm-objdump printed after the hex bytes, by slot,
 * without the ` <label>` annotation of jump targets.
 */
export function objdumpTexts(tool: string, args: string[], object: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of runTool(tool, ['-d', ...args, object]).split('\n')) {
    const match = /^\s*(\d+):\t[0-9a-f ]+\t(.*)$/.exec(line);
    if (match) out.set(Number(match[1]), match[2]!.replace(/ <[^<>]*>$/, ''));
  }
  return out;
}

/** The oracle's text for each instruction, following the slots; undefined where it printed none. */
export function textsBySlot(insns: readonly Instruction[], bySlot: Map<number, string>): (string | undefined)[] {
  let slot = 0;
  return insns.map((insn) => {
    const text = bySlot.get(slot);
    slot += insn.code === LD_IMM64 ? 2 : 1;
    return text;
  });
}

/**
 * LLVM 14 decodes ld_imm64 r0 with pseudo source 2 and imm 0 (`18 20 00 00 00 00 00 00`) as
 * its internal frame-index pseudo `lea` and then prints garbage or crashes, so these bytes
 * are kept away from it.
 */
export function crashesLlvm14(insn: Instruction): boolean {
  return insn.code === LD_IMM64 && insn.src === 2 && insn.dst === 0 && insn.imm === 0;
}

/**
 * Assembles lines with llvm-mc-19 (ISA v4) and returns the encoding of each, as bytes; throws
 * if llvm-mc rejects any line.
 */
export function llvmMcEncodings(lines: readonly string[]): Uint8Array[] {
  const out = runTool('llvm-mc-19', ['-triple', 'bpfel', '-mcpu=v4', '-show-encoding'], lines.join('\n') + '\n');
  const encodings = [...out.matchAll(/# encoding: \[([^\]]*)\]/g)].map(
    (m) => Uint8Array.from(m[1]!.split(',').map((b) => parseInt(b, 16))),
  );
  if (encodings.length !== lines.length) throw new Error(`llvm-mc gave ${encodings.length} encodings for ${lines.length} lines`);
  return encodings;
}

/** Hex bytes of an instruction, for failure messages. */
export function hexOf(insn: Instruction): string {
  return Array.from(encode([insn]), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
