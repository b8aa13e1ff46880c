/**
 * Assembles LLVM's BPF assembly syntax (what llvm-objdump prints and llvm-mc reads) into
 * instructions: one instruction per line, labels, comments, relative and symbolic jumps.
 */
import { ParseError } from '../errors.js';
import type { Instruction } from './instruction.js';
import { LD_IMM64 } from './opcodes.js';
import { Cursor, isRegisterName } from './syntax-cursor.js';
import { tokenize } from './syntax-lexer.js';
import { parseStatement, type Draft } from './syntax-parser.js';

/**
 * Options of {@link assemble}.
 *
 * @example
 * assemble(source, { file: 'prog.s' }); // errors read 'prog.s:3:7: ...'
 */
export interface AssembleOptions {
  /** File name to put in ParseErrors. */
  file?: string;
}

/**
 * What {@link assemble} returns.
 *
 * @example
 * const { instructions, labels, lines } = assemble('r1 = 1 ll\nend: exit');
 * // instructions.length === 2, labels.get('end') === 2 (ld_imm64 takes slots 0 and 1), lines: [1, 2]
 */
export interface AssembleResult {
  /** The instructions in order; ld_imm64 is one entry (with `imm2`) but takes two slots. */
  instructions: Instruction[];
  /** Each label and the slot it names (slot = 8-byte position, as jump distances count). */
  labels: Map<string, number>;
  /** The 1-based source line of each instruction. */
  lines: number[];
}

/**
 * Assembles LLVM BPF assembly text. Accepts everything {@link formatInstruction} prints, in
 * every option combination, and everything llvm-objdump 14 and 19 print for valid
 * instructions (except `<unknown>`); plus labels (`LBB0_2:`, alone or before an instruction),
 * jumps and calls to labels (`goto LBB0_2`, `call my_func`), comments after `;`, `#` or `//`,
 * blank lines, decimal and 0x-hex numbers with a sign. Registers and keywords are matched
 * without regard to case, labels with.
 *
 * Throws a ParseError('asm', line, column, detail) for anything else: unknown mnemonics, bad
 * registers, immediates out of range, unknown or duplicate labels, missing operands.
 *
 * @example
 * const { instructions, labels } = assemble(`
 *   r0 = 0
 *   if r1 == 0 goto out   ; skip the add
 *   r0 += 1
 * out:
 *   exit
 * `);
 * // instructions[1] is { code: 0x15, dst: 1, src: 0, off: 1, imm: 0 }; labels.get('out') === 3
 */
export function assemble(text: string, options: AssembleOptions = {}): AssembleResult {
  const { file } = options;
  const drafts: { draft: Draft; slot: number; line: number }[] = [];
  const labels = new Map<string, number>();
  let slot = 0;
  text.split(/\r\n|\n|\r/).forEach((source, index) => {
    const line = index + 1;
    const cursor = new Cursor(tokenize(source, line, file), line, file);
    while (cursor.peek().kind === 'name' && cursor.at(':', 1)) {
      const name = cursor.next();
      cursor.next();
      if (isRegisterName(name.text)) cursor.error(name, `'${name.text}' reads as a register and cannot be a label`);
      if (labels.has(name.text)) cursor.error(name, `label '${name.text}' is defined twice`);
      labels.set(name.text, slot);
    }
    if (cursor.peek().kind === 'end') return;
    const draft = parseStatement(cursor);
    drafts.push({ draft, slot, line });
    slot += draft.insn.code === LD_IMM64 ? 2 : 1;
  });
  for (const { draft, slot, line } of drafts) {
    if (draft.fixup) resolve(draft, slot, labels, line, file);
  }
  return { instructions: drafts.map((d) => d.draft.insn), labels, lines: drafts.map((d) => d.line) };
}

function resolve(draft: Draft, slot: number, labels: Map<string, number>, line: number, file?: string): void {
  const { label, token, field } = draft.fixup!;
  const target = labels.get(label);
  if (target === undefined) throw new ParseError('asm', line, token.column, `unknown label '${label}'`, file);
  const distance = target - (slot + 1);
  if (field === 'off' && (distance < -0x8000 || distance > 0x7fff)) {
    const detail = `'${label}' is ${distance} slots away, too far for a 16-bit jump offset (use gotol)`;
    throw new ParseError('asm', line, token.column, detail, file);
  }
  draft.insn[field] = distance;
}
