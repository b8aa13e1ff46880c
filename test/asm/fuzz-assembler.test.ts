// Fuzzing the assembler with random text, token soup and mutated valid programs: it either
// returns valid instructions or throws a ParseError that points inside the text; never a raw
// TypeError or RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/asm/assembler.js';
import { encode } from '../../src/asm/codec.js';
import { checkInstruction } from '../../src/asm/instruction.js';
import { formatInstruction, type FormatOptions } from '../../src/asm/printer.js';
import { ParseError } from '../../src/errors.js';
import { validInstruction } from './llvm-oracle.js';

/** Assembles; on success checks the result, on failure that it is a well-placed ParseError. */
function check(text: string): void {
  let result;
  try {
    result = assemble(text);
  } catch (e) {
    if (!(e instanceof ParseError)) throw new Error(`not a ParseError for ${JSON.stringify(text)}: ${String(e)}`);
    const lines = text.split(/\r\n|\n|\r/);
    assert.ok(e.line >= 1 && e.line <= lines.length, `line ${e.line} of ${lines.length}`);
    assert.ok(e.column >= 1 && e.column <= lines[e.line - 1]!.length + 1, `column ${e.column}: ${e.message}`);
    assert.ok(e.detail.length > 0);
    return;
  }
  for (const insn of result.instructions) assert.equal(checkInstruction(insn), undefined, JSON.stringify(insn));
  encode(result.instructions);
}

const VOCABULARY = [
  ...Array.from({ length: 13 }, (_, n) => `r${n}`),
  ...Array.from({ length: 12 }, (_, n) => `w${n}`),
  'r01', 'R1', 'goto', 'gotol', 'may_goto', 'call', 'callx', 'exit', 'if', 'lock', 'll', 'skb', 'pc', 'kfunc',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'be16', 'le32', 'bswap64', 'be8',
  'atomic_fetch_add', 'atomic_fetch_xor', 'xchg_64', 'xchg32_32', 'cmpxchg_64', 'cmpxchg32_32',
  'load_acquire', 'store_release', 'ld_pseudo', 'addr_space_cast', 'LBB0_1', '.L', 'constructor', '__proto__',
  '0', '1', '7', '16', '32', '64', '0x10', '0x7fffffff', '0x80000000', '0xffffffff', '4294967296', '32768',
  '-32768', '0xffffffffffffffff', '99999999999999999999999', '0x', '1e5',
  '=', '+=', '-=', 's/=', 's%=', 's>>=', '<<=', '>>=', '==', '!=', 's>', 's<=', '&', '+', '-', '*',
  '(', ')', '[', ']', ',', ':', ';', '#', '//', '<unknown>', ' ', '\t', '\n', '\r\n', '\u00a0', '\u{1f600}',
];

const STYLES: FormatOptions[] = [{}, { immHex: true }, { alu32: true }, { llvm: 19 }, { llvm: 14, immHex: true }];

test('random strings give valid instructions or a ParseError', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), check), { numRuns: 5000 });
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'r0w1=+-*()[],:;#/ \n0x9fskbu'), maxLength: 80 }), check), {
    numRuns: 5000,
  });
});

test('token soup gives valid instructions or a ParseError', () => {
  const soup = fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 14 }).map((tokens) => tokens.join(' '));
  const tight = fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 14 }).map((tokens) => tokens.join(''));
  fc.assert(fc.property(fc.oneof(soup, tight), check), { numRuns: 20000 });
});

/** One edit of a text: delete, insert, replace or duplicate a piece, or swap two lines. */
interface Edit {
  kind: 'delete' | 'insert' | 'replace' | 'duplicate' | 'swap-lines';
  at: number;
  length: number;
  piece: string;
}

const mutation: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('delete' as const, 'insert' as const, 'replace' as const, 'duplicate' as const, 'swap-lines' as const),
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 6 }),
  piece: fc.oneof(fc.constantFrom(...VOCABULARY), fc.string({ maxLength: 3 })),
});

function mutate(text: string, edits: Edit[]): string {
  for (const { kind, at, length, piece } of edits) {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    if (kind === 'delete') text = text.slice(0, i) + text.slice(i + length);
    else if (kind === 'insert') text = text.slice(0, i) + piece + text.slice(i);
    else if (kind === 'replace') text = text.slice(0, i) + piece + text.slice(i + length);
    else if (kind === 'duplicate') text = text.slice(0, i + length) + text.slice(i, i + length) + text.slice(i + length);
    else {
      const lines = text.split('\n');
      const a = at % lines.length;
      const b = (at + length) % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      text = lines.join('\n');
    }
  }
  return text;
}

test('mutated valid programs give valid instructions or a ParseError', () => {
  const program = fc
    .tuple(fc.array(validInstruction(), { minLength: 1, maxLength: 8 }), fc.constantFrom(...STYLES), fc.boolean())
    .map(([insns, options, labels]) => {
      const lines = insns.map((insn) => formatInstruction(insn, options));
      if (labels) lines.splice(lines.length >> 1, 0, 'LBB0_1:', '  goto LBB0_1 ; loop');
      return lines.join('\n');
    });
  fc.assert(
    fc.property(program, fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, edits) => check(mutate(text, edits))),
    { numRuns: 20000 },
  );
});
