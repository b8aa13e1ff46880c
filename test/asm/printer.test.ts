// Printer examples (each text below is what llvm-objdump printed for the bytes; the exhaustive
// comparison with the real tools is in printer-llvm.test.ts) and the printer's contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode } from '../../src/asm/codec.js';
import { checkInstruction, type Instruction } from '../../src/asm/instruction.js';
import { UNKNOWN_INSTRUCTION, branchTarget, formatInstruction, type FormatOptions } from '../../src/asm/printer.js';
import { FormatError } from '../../src/errors.js';

const insn = (hex: string): Instruction => decode(Uint8Array.from(hex.split(/\s+/).map((b) => parseInt(b, 16))))[0]!;

// [bytes, llvm-objdump 14 / llvm-objdump-19 --no-print-imm-hex, llvm-objdump-19]
const EXAMPLES: [string, string, string][] = [
  ['18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00', 'r1 = 0 ll', 'r1 = 0x0 ll'],
  ['18 01 00 00 f0 ff ff ff 00 00 00 00 ff ff ff ff', 'r1 = -16 ll', 'r1 = -0x10 ll'],
  ['18 01 00 00 07 00 00 00 00 00 00 00 09 00 00 00', 'r1 = 38654705671 ll', 'r1 = 0x900000007 ll'],
  ['18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 80', 'r1 = -9223372036854775808 ll', 'r1 = -0x8000000000000000 ll'],
  ['18 21 00 00 ff ff ff ff 00 00 00 00 00 00 00 00', 'ld_pseudo\tr1, 2, 4294967295', 'ld_pseudo\tr1, 0x2, 0xffffffff'],
  ['0c 21 00 00 00 00 00 00', 'w1 += w2', 'w1 += w2'],
  ['07 01 00 00 fb ff ff ff', 'r1 += -5', 'r1 += -0x5'],
  ['37 01 01 00 03 00 00 00', 'r1 s/= 3', 'r1 s/= 0x3'],
  ['9f 21 01 00 00 00 00 00', 'r1 s%= r2', 'r1 s%= r2'],
  ['cc 21 00 00 00 00 00 00', 'w1 s>>= w2', 'w1 s>>= w2'],
  ['b4 01 00 00 ff ff ff ff', 'w1 = -1', 'w1 = -0x1'],
  ['bf 21 08 00 00 00 00 00', 'r1 = (s8)r2', 'r1 = (s8)r2'],
  ['bc 21 10 00 00 00 00 00', 'w1 = (s16)w2', 'w1 = (s16)w2'],
  ['bf 21 01 00 00 00 01 00', 'r1 = addr_space_cast(r2, 1, 0)', 'r1 = addr_space_cast(r2, 0x1, 0x0)'],
  ['dc 01 00 00 10 00 00 00', 'r1 = be16 r1', 'r1 = be16 r1'],
  ['d4 01 00 00 20 00 00 00', 'r1 = le32 r1', 'r1 = le32 r1'],
  ['d7 01 00 00 40 00 00 00', 'r1 = bswap64 r1', 'r1 = bswap64 r1'],
  ['84 01 00 00 00 00 00 00', 'w1 = -w1', 'w1 = -w1'],
  ['87 01 00 00 00 00 00 00', 'r1 = -r1', 'r1 = -r1'],
  ['25 01 03 00 05 00 00 00', 'if r1 > 5 goto +3', 'if r1 > 0x5 goto +0x3'],
  ['6e 21 fd ff 00 00 00 00', 'if w1 s> w2 goto -3', 'if w1 s> w2 goto -0x3'],
  ['45 01 00 00 04 00 00 00', 'if r1 & 4 goto +0', 'if r1 & 0x4 goto +0x0'],
  ['05 00 00 80 00 00 00 00', 'goto -32768', 'goto -0x8000'],
  ['06 00 00 00 40 9c 00 00', 'gotol +40000', 'gotol +0x9c40'],
  ['e5 00 02 00 00 00 00 00', 'may_goto +2', 'may_goto +0x2'],
  ['85 00 00 00 0e 00 00 00', 'call 14', 'call 0xe'],
  ['8d 05 00 00 00 00 00 00', 'callx r5', 'callx r5'],
  ['95 00 00 00 00 00 00 00', 'exit', 'exit'],
  ['30 00 00 00 04 00 00 00', 'r0 = *(u8 *)skb[4]', 'r0 = *(u8 *)skb[0x4]'],
  ['48 30 00 00 00 00 00 00', 'r0 = *(u16 *)skb[r3]', 'r0 = *(u16 *)skb[r3]'],
  ['63 0a fc ff 00 00 00 00', '*(u32 *)(r10 - 4) = r0', '*(u32 *)(r10 - 0x4) = r0'],
  ['7a 0a f8 ff 07 00 00 00', '*(u64 *)(r10 - 8) = 7', '*(u64 *)(r10 - 0x8) = 0x7'],
  ['61 21 00 80 00 00 00 00', 'r1 = *(u32 *)(r2 - 32768)', 'r1 = *(u32 *)(r2 - 0x8000)'],
  ['91 21 00 00 00 00 00 00', 'r1 = *(s8 *)(r2 + 0)', 'r1 = *(s8 *)(r2 + 0x0)'],
  ['c3 21 00 00 00 00 00 00', 'lock *(u32 *)(r1 + 0) += r2', 'lock *(u32 *)(r1 + 0x0) += r2'],
  ['db 21 f0 ff 40 00 00 00', 'lock *(u64 *)(r1 - 16) |= r2', 'lock *(u64 *)(r1 - 0x10) |= r2'],
  ['db 01 00 00 41 00 00 00', 'r0 = atomic_fetch_or((u64 *)(r1 + 0), r0)', 'r0 = atomic_fetch_or((u64 *)(r1 + 0x0), r0)'],
  ['db 21 00 00 e1 00 00 00', 'r2 = xchg_64(r1 + 0, r2)', 'r2 = xchg_64(r1 + 0x0, r2)'],
  ['db 21 00 00 f1 00 00 00', 'r0 = cmpxchg_64(r1 + 0, r0, r2)', 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)'],
];

test('prints what llvm-objdump prints, in decimal and in hex', () => {
  for (const [hex, decimal, hexText] of EXAMPLES) {
    assert.equal(formatInstruction(insn(hex)), decimal, hex);
    assert.equal(formatInstruction(insn(hex), { immHex: true }), hexText, hex);
    assert.equal(formatInstruction(insn(hex), { llvm: 19 }), decimal, hex);
  }
});

test('alu32 prints narrow loads, stores and 32-bit atomics with w registers', () => {
  const alu32 = (hex: string) => formatInstruction(insn(hex), { alu32: true });
  assert.equal(alu32('61 21 f8 ff 00 00 00 00'), 'w1 = *(u32 *)(r2 - 8)');
  assert.equal(alu32('73 1a f8 ff 00 00 00 00'), '*(u8 *)(r10 - 8) = w1');
  assert.equal(alu32('79 21 00 00 00 00 00 00'), 'r1 = *(u64 *)(r2 + 0)');
  assert.equal(alu32('91 21 00 00 00 00 00 00'), 'r1 = *(s8 *)(r2 + 0)');
  assert.equal(alu32('c3 21 00 00 00 00 00 00'), 'lock *(u32 *)(r1 + 0) += w2');
  assert.equal(alu32('c3 21 00 00 01 00 00 00'), 'w2 = atomic_fetch_add((u32 *)(r1 + 0), w2)');
  assert.equal(alu32('c3 21 00 00 e1 00 00 00'), 'w2 = xchg32_32(r1 + 0, w2)');
  assert.equal(alu32('c3 21 00 00 f1 00 00 00'), 'w0 = cmpxchg32_32(r1 + 0, w0, w2)');
  // Without alu32, LLVM has no spelling for these but the alu32 one, so that is what we print.
  assert.equal(formatInstruction(insn('c3 21 00 00 f1 00 00 00')), 'w0 = cmpxchg32_32(r1 + 0, w0, w2)');
});

test('the default text extends LLVM where its syntax would lose a field', () => {
  assert.equal(formatInstruction(insn('85 10 00 00 ff ff ff ff')), 'call pc-1');
  assert.equal(formatInstruction(insn('85 20 00 00 d2 04 00 00')), 'call kfunc 1234');
  assert.equal(formatInstruction(insn('85 20 00 00 d2 04 00 00'), { immHex: true }), 'call kfunc 0x4d2');
  assert.equal(formatInstruction(insn('18 21 00 00 07 00 00 00 00 00 00 00 10 00 00 00')), 'ld_pseudo\tr1, 2, 7, 16');
  assert.equal(formatInstruction(insn('50 30 00 00 fc ff ff ff')), 'r0 = *(u8 *)skb[r3 - 4]');
  assert.equal(formatInstruction(insn('d3 21 00 00 00 01 00 00')), 'w1 = load_acquire((u8 *)(r2 + 0))');
  assert.equal(formatInstruction(insn('db 21 08 00 10 01 00 00')), 'store_release((u64 *)(r1 + 8), r2)');
  // ...which llvm-objdump does not: the same bytes in its release-exact modes.
  assert.equal(formatInstruction(insn('85 10 00 00 ff ff ff ff'), { llvm: 19 }), 'call -1');
  assert.equal(formatInstruction(insn('85 20 00 00 d2 04 00 00'), { llvm: 19 }), 'call 1234');
  assert.equal(formatInstruction(insn('18 21 00 00 07 00 00 00 00 00 00 00 10 00 00 00'), { llvm: 19 }), 'ld_pseudo\tr1, 2, 7');
  assert.equal(formatInstruction(insn('50 30 00 00 fc ff ff ff'), { llvm: 19 }), 'r0 = *(u8 *)skb[r3]');
  assert.equal(formatInstruction(insn('d3 21 00 00 00 01 00 00'), { llvm: 19 }), UNKNOWN_INSTRUCTION);
  assert.equal(formatInstruction(insn('db 21 08 00 00 01 00 00'), { llvm: 19 }), 'lock *(u64 *)(r1 + 8) += r2');
  assert.equal(formatInstruction(insn('c3 21 00 00 01 00 00 00'), { llvm: 19 }), 'lock *(u32 *)(r1 + 0) += r2');
});

test('llvm: 14 reproduces what LLVM 14 cannot decode or prints differently', () => {
  const v14 = (hex: string) => formatInstruction(insn(hex), { llvm: 14 });
  assert.equal(v14('45 01 00 00 04 00 00 00'), UNKNOWN_INSTRUCTION); // jset
  assert.equal(v14('97 01 00 00 03 00 00 00'), UNKNOWN_INSTRUCTION); // mod
  assert.equal(v14('7a 0a f8 ff 07 00 00 00'), UNKNOWN_INSTRUCTION); // store immediate
  assert.equal(v14('91 21 00 00 00 00 00 00'), UNKNOWN_INSTRUCTION); // sign-extending load
  assert.equal(v14('d7 01 00 00 10 00 00 00'), UNKNOWN_INSTRUCTION); // bswap
  assert.equal(v14('06 00 00 00 05 00 00 00'), UNKNOWN_INSTRUCTION); // gotol
  assert.equal(v14('e5 00 02 00 00 00 00 00'), UNKNOWN_INSTRUCTION); // may_goto
  assert.equal(v14('37 01 01 00 03 00 00 00'), 'r1 /= 3'); // sdiv read as div
  assert.equal(v14('bf 21 08 00 00 00 00 00'), 'r1 = r2'); // movsx read as mov
  assert.equal(v14('8d 05 00 00 00 00 00 00'), 'callx r0'); // register taken from imm
});

test('invalid instructions throw a FormatError, or print <unknown> when lenient', () => {
  const bad: Instruction[] = [
    { code: 0x07, dst: 0, src: 0, off: 1, imm: 1 }, // reserved offset set
    { code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }, // no such opcode
    { code: 0xbf, dst: 11, src: 0, off: 0, imm: 0 }, // r11
    { code: 0x8d, dst: 0, src: 0, off: 0, imm: 5 }, // callx with the register in imm (LLVM 14)
    { code: 0x07, dst: 1, src: 0, off: 0, imm: 2 ** 32 }, // imm too wide
    { code: 0x07, dst: 1, src: 0, off: 0.5, imm: 0 }, // not an integer
  ];
  for (const i of bad) {
    assert.throws(() => formatInstruction(i), FormatError, JSON.stringify(i));
    assert.equal(formatInstruction(i, { lenient: true }), UNKNOWN_INSTRUCTION);
  }
});

test('branchTarget gives the slot jumps, local calls and function addresses lead to', () => {
  assert.equal(branchTarget(insn('05 00 02 00 00 00 00 00'), 10), 13);
  assert.equal(branchTarget(insn('6e 21 fd ff 00 00 00 00'), 10), 8);
  assert.equal(branchTarget(insn('06 00 00 00 fe ff ff ff'), 10), 9);
  assert.equal(branchTarget(insn('e5 00 00 00 00 00 00 00'), 10), 11);
  assert.equal(branchTarget(insn('85 10 00 00 04 00 00 00'), 10), 15);
  assert.equal(branchTarget(insn('18 41 00 00 03 00 00 00 00 00 00 00 00 00 00 00'), 10), 14);
  assert.equal(branchTarget(insn('85 00 00 00 04 00 00 00'), 10), undefined);
  assert.equal(branchTarget(insn('95 00 00 00 00 00 00 00'), 10), undefined);
});

test('any fields: lenient printing never throws, strict printing throws only FormatError', () => {
  const field = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
  const raw = fc.record({
    code: fc.integer({ min: 0, max: 255 }),
    dst: fc.integer({ min: 0, max: 15 }),
    src: fc.integer({ min: 0, max: 15 }),
    off: field(16),
    imm: fc.oneof(field(32), fc.constantFrom(0, 16, 32, 64, 0x100, 0x110, 0xe1, 0xf1)),
    imm2: field(32),
  });
  const options = fc.record({ immHex: fc.boolean(), alu32: fc.boolean(), llvm: fc.constantFrom(undefined, 14, 19) });
  fc.assert(
    fc.property(raw, options, (i, o) => {
      const opts = o as FormatOptions;
      const text = formatInstruction(i, { ...opts, lenient: true });
      if (checkInstruction(i) !== undefined) assert.equal(text, UNKNOWN_INSTRUCTION);
      else if (opts.llvm === undefined) assert.notEqual(text, UNKNOWN_INSTRUCTION);
      try {
        formatInstruction(i, opts);
      } catch (e) {
        assert.ok(e instanceof FormatError);
      }
    }),
    { numRuns: 5000 },
  );
});
