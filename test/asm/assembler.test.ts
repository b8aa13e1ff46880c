// The assembler: programs with labels and comments, every spelling the printer writes (an
// exhaustive and a property-based round trip), and precise ParseErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/asm/assembler.js';
import { encode } from '../../src/asm/codec.js';
import { checkInstruction, type Instruction } from '../../src/asm/instruction.js';
import { UNKNOWN_INSTRUCTION, formatInstruction, type FormatOptions } from '../../src/asm/printer.js';
import { ParseError } from '../../src/errors.js';
import { instructionForms, validInstruction } from './llvm-oracle.js';

const one = (text: string): Instruction => {
  const { instructions } = assemble(text);
  assert.equal(instructions.length, 1, text);
  return instructions[0]!;
};
const hexOf = (insns: Instruction[]) => Buffer.from(encode(insns)).toString('hex');

/** The canonical form of an instruction, as decode and assemble produce it. */
function canonical(i: Instruction): Instruction {
  const out: Instruction = { code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm | 0 };
  if (i.code === 0x18) out.imm2 = (i.imm2 ?? 0) | 0;
  return out;
}

const CANONICAL_OPTIONS: FormatOptions[] = [{}, { immHex: true }, { alu32: true }, { alu32: true, immHex: true }];

test('assembles a program with labels, comments and blank lines', () => {
  const text = [
    '; a comment line',
    'entry:',
    '  r0 = 0            # count',
    '  r1 = 0x100000000 ll',
    'loop: r0 += 1       // increment',
    '',
    '  if r0 < 10 goto loop',
    '  call helper',
    '  gotol out',
    'helper: .Lx:',
    '  may_goto out',
    'out:',
    '  exit',
  ].join('\r\n');
  const { instructions, labels, lines } = assemble(text);
  assert.deepEqual(
    Object.fromEntries(labels),
    { entry: 0, loop: 3, helper: 7, '.Lx': 7, out: 8 },
  );
  assert.deepEqual(lines, [3, 4, 5, 7, 8, 9, 11, 13]);
  assert.equal(
    hexOf(instructions),
    [
      'b700000000000000',
      '18010000000000000000000001000000',
      '0700000001000000',
      'a500feff0a000000', // if r0 < 10 goto -2
      '8510000001000000', // call +1 (BPF-to-BPF: src 1)
      '0600000001000000', // gotol +1
      'e500000000000000', // may_goto +0
      '9500000000000000',
    ].join(''),
  );
});

test('reads the spellings LLVM accepts: hex, signs, spacing, case, r or w for narrow accesses', () => {
  assert.deepEqual(one('r1 = -0x10'), one('r1 = -16'));
  assert.deepEqual(one('r1 = 0xffffffff'), one('r1 = -1'));
  assert.deepEqual(one('r1=r2'), one('r1 = r2'));
  assert.deepEqual(one('R1 = *(U8*)(R2+1)'), one('r1 = *(u8 *)(r2 + 1)'));
  assert.deepEqual(one('w1 = *(u32 *)(r2 - 8)'), one('r1 = *(u32 *)(r2 - 8)'));
  assert.deepEqual(one('*(u16 *)(r10 - 2) = w3'), one('*(u16 *)(r10 - 2) = r3'));
  assert.deepEqual(one('lock *(u32 *)(r1 + 0) += w2'), one('lock *(u32 *)(r1 + 0) += r2'));
  assert.deepEqual(one('goto 3'), one('goto +3'));
  assert.deepEqual(one('goto +0x3'), one('goto +3'));
  assert.deepEqual(one('r1 = *(u32 *)(r10 - 0x8000)'), { code: 0x61, dst: 1, src: 10, off: -32768, imm: 0 });
  assert.deepEqual(one('r1 = 0xffffffffffffffff ll'), { code: 0x18, dst: 1, src: 0, off: 0, imm: -1, imm2: -1 });
  assert.deepEqual(one('ld_pseudo r1, 2, 0xffffffff'), { code: 0x18, dst: 1, src: 2, off: 0, imm: -1, imm2: 0 });
  assert.deepEqual(one('call 14'), { code: 0x85, dst: 0, src: 0, off: 0, imm: 14 });
  assert.deepEqual(one('call pc-1'), { code: 0x85, dst: 0, src: 1, off: 0, imm: -1 });
  assert.deepEqual(one('call kfunc 1234'), { code: 0x85, dst: 0, src: 2, off: 0, imm: 1234 });
  assert.deepEqual(one('callx r5'), { code: 0x8d, dst: 5, src: 0, off: 0, imm: 0 });
  assert.deepEqual(one('r0 = *(u8 *)skb[r3 - 4]'), { code: 0x50, dst: 0, src: 3, off: 0, imm: -4 });
  assert.deepEqual(one('w1 = load_acquire((u8 *)(r2 + 0))'), { code: 0xd3, dst: 1, src: 2, off: 0, imm: 0x100 });
  assert.deepEqual(one('store_release((u64 *)(r1 + 8), r2)'), { code: 0xdb, dst: 1, src: 2, off: 8, imm: 0x110 });
  assert.deepEqual(one('r1 = addr_space_cast(r2, 1, 0)'), { code: 0xbf, dst: 1, src: 2, off: 1, imm: 0x10000 });
});

test('every instruction form round-trips through the printer in every canonical style', () => {
  const forms = instructionForms();
  for (const options of CANONICAL_OPTIONS) {
    const text = forms.map((i) => formatInstruction(i, options)).join('\n');
    const { instructions } = assemble(text);
    assert.equal(instructions.length, forms.length);
    forms.forEach((form, k) => {
      if (JSON.stringify(instructions[k]) !== JSON.stringify(canonical(form))) {
        assert.deepEqual(instructions[k], canonical(form), `${JSON.stringify(options)}: ${formatInstruction(form, options)}`);
      }
    });
  }
});

test('property: assemble(formatInstruction(i)) gives back i', () => {
  fc.assert(
    fc.property(validInstruction(), fc.constantFrom(...CANONICAL_OPTIONS), (insn, options) => {
      assert.deepEqual(one(formatInstruction(insn, options)), canonical(insn));
    }),
    { numRuns: 20000 },
  );
});

test('property: whole programs round-trip, one instruction per line', () => {
  fc.assert(
    fc.property(fc.array(validInstruction(), { maxLength: 40 }), fc.constantFrom(...CANONICAL_OPTIONS), (insns, options) => {
      const { instructions, lines } = assemble(insns.map((i) => formatInstruction(i, options)).join('\n'));
      assert.deepEqual(instructions, insns.map(canonical));
      assert.deepEqual(lines, insns.map((_, k) => k + 1));
    }),
    { numRuns: 500 },
  );
});

test('property: everything the LLVM-exact modes print (but <unknown>) assembles to a valid instruction', () => {
  const llvmOptions = fc.record({ llvm: fc.constantFrom(14 as const, 19 as const), alu32: fc.boolean(), immHex: fc.boolean() });
  fc.assert(
    fc.property(validInstruction(), llvmOptions, (insn, options) => {
      const text = formatInstruction(insn, options);
      if (text === UNKNOWN_INSTRUCTION) return;
      assert.equal(checkInstruction(one(text)), undefined, text);
    }),
    { numRuns: 20000 },
  );
});

test('jumps and calls to labels get the distance in slots, counting ld_imm64 as two', () => {
  const { instructions } = assemble('back:\n r1 = 1 ll\n goto back\n if w1 != 0 goto fwd\n call back\nfwd: exit');
  assert.equal(instructions[1]!.off, -3);
  assert.equal(instructions[2]!.off, 1);
  assert.deepEqual([instructions[3]!.src, instructions[3]!.imm], [1, -5]);
});

const ERRORS: [text: string, line: number, column: number, detail: RegExp][] = [
  ['foo r1', 1, 1, /unknown instruction 'foo'/],
  ['r11 = 1', 1, 1, /invalid register 'r11'/],
  ['r1 = r11', 1, 6, /invalid register 'r11'/],
  ['w1 += r2', 1, 7, /expected a 32-bit register/],
  ['r1 += 0x100000000', 1, 7, /4294967296 does not fit in 32 bits/],
  ['r1 = -2147483649', 1, 6, /does not fit in 32 bits/],
  ['r1 = 0x10000000000000000 ll', 1, 6, /does not fit in 64 bits/],
  ['w1 = 5 ll', 1, 1, /64-bit register/],
  ['goto 32768', 1, 6, /32768 does not fit in a signed 16-bit field/],
  ['gotol 0x80000000', 1, 7, /signed 32-bit/],
  ['r1 = *(u32 *)(r2 + 70000)', 1, 20, /offset 70000/],
  ['r1 = *(u32 *)(r2 + -8)', 1, 20, /expected an offset, found '-'/],
  ['r1 = *(u32 *)(w2 + 8)', 1, 15, /expected a 64-bit register/],
  ['goto nowhere', 1, 6, /unknown label 'nowhere'/],
  ['goto r1', 1, 6, /expected a jump target/],
  ['call', 1, 5, /expected a jump target.*end of line/],
  ['r1 +=', 1, 6, /expected a register or a number, found end of line/],
  ['r1 = -r2', 1, 7, /expected r1 again/],
  ['r1 = be16 r2', 1, 11, /expected r1 again/],
  ['w1 = be16 w1', 1, 1, /byte swaps are written with r registers/],
  ['w1 = (s32)w2', 1, 7, /expected s8 or s16/],
  ['r1 = 5 # fine\n  exit now', 2, 8, /expected end of line/],
  ['L:\nL: exit', 2, 1, /label 'L' is defined twice/],
  ['r1: exit', 1, 1, /reads as a register/],
  ['<unknown>', 1, 1, /cannot be assembled/],
  ['r1 = 5 @', 1, 8, /unexpected character "@"/],
  ['r1 = 0x', 1, 6, /malformed number/],
  ['r1 = 12abc', 1, 6, /malformed number/],
  ['lock *(u16 *)(r1 + 0) += w2', 1, 8, /u32 or u64/],
  ['lock *(u64 *)(r1 + 0) -= r2', 1, 23, /expected '\+=', '\|=', '&=' or '\^='/],
  ['r1 = cmpxchg_64(r2 + 0, r1, r3)', 1, 1, /cmpxchg compares with and writes r0/],
  ['w2 = atomic_fetch_add((u32 *)(r1 + 0), w3)', 1, 40, /expected w2 again/],
  ['if r1 = 3 goto +1', 1, 7, /expected a comparison/],
  ['if r1 > w3 goto +1', 1, 9, /expected a 64-bit register/],
  ['if r1 > 3 +1', 1, 11, /expected 'goto'/],
  ['ld_pseudo r1, 7, 0', 1, 15, /pseudo source 7 is not 0-6/],
  ['r0 = *(u64 *)skb[4]', 1, 8, /u8, u16 or u32/],
  ['r1 = *(u8 *)skb[4]', 1, 1, /always write r0/],
  ['r1 = *(u8 *)(r2 + 0', 1, 20, /expected '\)', found end of line/],
  ['*(s32 *)(r1 + 0) = 1', 1, 3, /stores are written with u8/],
  ['r1 = addr_space_cast(r2, 65536, 0)', 1, 26, /address space 65536/],
  ['exit 1', 1, 6, /expected end of line/],
  ['+ 1', 1, 1, /expected an instruction, found '\+'/],
  ['.text', 1, 1, /directives such as '.text' are not supported/],
];

test('bad text is a ParseError with line, column and what was expected', () => {
  for (const [text, line, column, detail] of ERRORS) {
    assert.throws(
      () => assemble(text),
      (e: unknown) => {
        assert.ok(e instanceof ParseError, `${text}: ${String(e)}`);
        assert.deepEqual([e.language, e.line, e.column], ['asm', line, column], `${text}: ${e.message}`);
        assert.match(e.detail, detail, text);
        return true;
      },
    );
  }
});

test('labels too far for a 16-bit jump are reported at the label', () => {
  const text = ['goto far', ...Array<string>(40000).fill('exit'), 'far: exit'].join('\n');
  assert.throws(() => assemble(text), (e: unknown) => e instanceof ParseError && e.line === 1 && /gotol/.test(e.detail));
  assert.equal(assemble(text.replace('goto far', 'gotol far')).instructions[0]!.imm, 40000);
});

test('errors name the file when given one', () => {
  assert.throws(
    () => assemble('exit\nbogus', { file: 'prog.s' }),
    (e: unknown) => e instanceof ParseError && e.file === 'prog.s' && e.message.startsWith('prog.s:2:1: '),
  );
});
