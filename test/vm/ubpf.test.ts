/** The ubpf-dialect assembler, printer and test-file parser (src/asm/ubpf.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatUbpf, parseUbpf, parseUbpfTest } from '../../src/asm/ubpf.js';
import { checkInstruction, type Instruction } from '../../src/asm/instruction.js';
import { ParseError } from '../../src/errors.js';

const one = (src: string): Instruction => {
  const insns = parseUbpf(src);
  assert.equal(insns.length, 1);
  return insns[0]!;
};
const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Instruction => ({ code, dst, src, off, imm });

test('ALU mnemonics: 64-bit by default, 32 suffix, signed division, movsx, byte swaps', () => {
  assert.deepEqual(one('mov %r0, 1'), I(0xb7, 0, 0, 0, 1));
  assert.deepEqual(one('mov64 %r0, %r3'), I(0xbf, 0, 3));
  assert.deepEqual(one('add32 %r1, %r2'), I(0x0c, 1, 2));
  assert.deepEqual(one('mov32 %r0, 0xffffffff'), I(0xb4, 0, 0, 0, -1));
  assert.deepEqual(one('sdiv %r0, 3'), I(0x37, 0, 0, 1, 3));
  assert.deepEqual(one('smod32 %r0, %r1'), I(0x9c, 0, 1, 1));
  assert.deepEqual(one('neg32 %r4'), I(0x84, 4));
  assert.deepEqual(one('neg %r4'), I(0x87, 4));
  assert.deepEqual(one('movsx1632 %r1, %r2'), I(0xbc, 1, 2, 16));
  assert.deepEqual(one('movsx3264 %r1, %r2'), I(0xbf, 1, 2, 32));
  assert.deepEqual(one('be16 %r0'), I(0xdc, 0, 0, 0, 16));
  assert.deepEqual(one('le64 %r0'), I(0xd4, 0, 0, 0, 64));
  assert.deepEqual(one('bswap32 %r3'), I(0xd7, 3, 0, 0, 32));
  assert.deepEqual(one('swap64 %r3'), I(0xd7, 3, 0, 0, 64));
  assert.deepEqual(one('arsh32 %r3, -2'), I(0xc4, 3, 0, 0, -2));
});

test('memory operands, loads, stores and lddw', () => {
  assert.deepEqual(one('ldxw %r1, [%r2+16]'), I(0x61, 1, 2, 16));
  assert.deepEqual(one('ldxdw %r0, [%r10-8]'), I(0x79, 0, 10, -8));
  assert.deepEqual(one('ldxb %r0, [%r1]'), I(0x71, 0, 1, 0));
  assert.deepEqual(one('ldxh %r0, [ %r1 + 0x2 ]'), I(0x69, 0, 1, 2));
  assert.deepEqual(one('ldxsb %r0, [%r1+1]'), I(0x91, 0, 1, 1));
  assert.deepEqual(one('ldxsw %r0, [%r1+1]'), I(0x81, 0, 1, 1));
  assert.deepEqual(one('stxdw [%r10-8], %r1'), I(0x7b, 10, 1, -8));
  assert.deepEqual(one('stb [%r1+2], 0x1234'), I(0x72, 1, 0, 2, 0x1234));
  assert.deepEqual(one('stdw [%r1], -1'), I(0x7a, 1, 0, 0, -1));
  assert.deepEqual(one('lddw %r0, 0x1122334455667788'), { code: 0x18, dst: 0, src: 0, off: 0, imm: 0x55667788, imm2: 0x11223344 });
  assert.deepEqual(one('lddw %r1, -1'), { code: 0x18, dst: 1, src: 0, off: 0, imm: -1, imm2: -1 });
  assert.deepEqual(one('ldxw %r0, [%r1+0xffff]'), I(0x61, 0, 1, -1));
});

test('atomics: lock [fetch] op, xchg, cmpxchg, 32-bit forms', () => {
  assert.deepEqual(one('lock add [%r10-8], %r1'), I(0xdb, 10, 1, -8, 0x00));
  assert.deepEqual(one('lock fetch add32 [%r10-4], %r1'), I(0xc3, 10, 1, -4, 0x01));
  assert.deepEqual(one('lock fetch xor [%r10-8], %r3'), I(0xdb, 10, 3, -8, 0xa1));
  assert.deepEqual(one('lock xchg32 [%r10-8], %r1'), I(0xc3, 10, 1, -8, 0xe1));
  assert.deepEqual(one('lock cmpxchg [%r10-8], %r1'), I(0xdb, 10, 1, -8, 0xf1));
  assert.deepEqual(one('ldacqw %r0, [%r1+4]'), I(0xc3, 0, 1, 4, 0x100));
  assert.deepEqual(one('streldw [%r1+4], %r2'), I(0xdb, 1, 2, 4, 0x110));
});

test('jumps, labels, calls and the implicit exit label', () => {
  const insns = parseUbpf(`
    mov %r0, 0      # comment
    lddw %r1, 5     ; ja +1
  top: jeq %r1, 5, done
    ja top
    jne32 %r1, %r2, exit
  done:
    call local fn
    call 5
    call %r2
    ja32 out
  out: exit
  fn: mov %r0, 1
    gotol -1
  `);
  const codes = insns.map((i) => i.code);
  assert.deepEqual(codes, [0xb7, 0x18, 0x05, 0x15, 0x05, 0x5e, 0x85, 0x85, 0x8d, 0x06, 0x95, 0xb7, 0x06]);
  // Slots: mov 0, lddw 1-2, ja 3, jeq 4, ja 5, jne32 6, call 7, call 8, callx 9, ja32 10, exit 11, mov 12, gotol 13
  assert.equal(insns[2]!.off, 1);
  assert.equal(insns[3]!.off, 2); // jeq at 4 -> done (7)
  assert.equal(insns[4]!.off, -2); // ja at 5 -> top (4)
  assert.equal(insns[5]!.off, 4); // jne32 at 6 -> exit (11)
  assert.equal(insns[6]!.src, 1);
  assert.equal(insns[6]!.imm, 4); // call local at 7 -> fn (12)
  assert.equal(insns[7]!.imm, 5);
  assert.equal(insns[8]!.dst, 2);
  assert.equal(insns[9]!.imm, 0);
  assert.equal(insns[12]!.imm, -1);
  assert.deepEqual(one('call runtime 7'), I(0x85, 0, 2, 0, 7));
  assert.deepEqual(one('call helper 7'), I(0x85, 0, 0, 0, 7));
  assert.deepEqual(one('may_goto +3'), I(0xe5, 0, 0, 3, 0));
  assert.deepEqual(one('ldabsh 12'), I(0x28, 0, 0, 0, 12));
  assert.deepEqual(one('ldindb %r3, -2'), I(0x50, 0, 3, 0, -2));
});

const rejects = (src: string, line: number, column: number, pattern: RegExp): void => {
  assert.throws(
    () => parseUbpf(src),
    (e: unknown) => e instanceof ParseError && e.language === 'ubpf-asm' && e.line === line && e.column === column && pattern.test(e.detail),
  );
};

test('errors name the line and column of the culprit', () => {
  rejects('or %r0, %r50\nexit', 1, 9, /invalid register/);
  rejects('mov %r0, 1\nor %r11, 1\nexit', 2, 4, /invalid register/);
  rejects('ldxq %r0, %r1\nexit', 1, 1, /invalid mnemonic 'ldxq'/);
  rejects('mov32 %r0, 2147483648\nexit', 1, 12, /out of the 32-bit range/);
  rejects('mov32 %r0, 0x100000000\nexit', 1, 12, /out of the 32-bit range/);
  rejects('mov32 %r0, -2147483649\nexit', 1, 12, /out of the 32-bit range/);
  rejects('ja NOT_A_LABEL\nexit', 1, 4, /undefined label/);
  rejects('x:\nx:\nexit', 2, 1, /duplicate label/);
  rejects('lock or [%r10-8]\nexit', 1, 1, /number of operands for lock/);
  rejects('lock\nexit', 1, 1, /number of operands for lock/);
  rejects('lock fetch nand [%r10-8], %r1', 1, 12, /invalid atomic operation/);
  rejects('ldxb %r0, %r1\nexit', 1, 11, /memory operand/);
  rejects('ldxb %r0, [%r1+0x10000]\nexit', 1, 15, /16-bit range/);
  rejects('ldxb %r0, [%r1+32768]\nexit', 1, 15, /16-bit range/);
  rejects('lddw %r0\nexit', 1, 1, /number of operands for lddw/);
  rejects('lddw %r0, 0x10000000000000000', 1, 11, /64-bit range/);
  rejects('mov %r0,, 1', 1, 9, /empty operand/);
  rejects('jeq %r0, 1, 5', 1, 13, /invalid jump target/);
  rejects('movsx864 %r0, 5', 1, 15, /register source/);
  rejects('exit %r0', 1, 1, /number of operands/);
});

test('format then parse gives back every valid instruction', () => {
  const insn = fc
    .record({
      code: fc.integer({ min: 0, max: 255 }),
      dst: fc.integer({ min: 0, max: 10 }),
      src: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(0)),
      off: fc.oneof(fc.integer({ min: -0x8000, max: 0x7fff }), fc.constantFrom(0, 1, 8, 16, 32)),
      imm: fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, 1, 16, 32, 64, 0xe1, 0xf1, 0x100, 0x110)),
      imm2: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    })
    .map((r): Instruction => {
      const i: Instruction = { code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm };
      if (r.code === 0x18) i.imm2 = r.imm2;
      return i;
    })
    .filter((i) => checkInstruction(i) === undefined);
  fc.assert(
    fc.property(insn, (i) => {
      const text = formatUbpf(i);
      assert.deepEqual(parseUbpf(text), [i], text);
    }),
    { numRuns: 3000 },
  );
});

test('random text never escapes as anything but a ParseError', () => {
  const words = fc.constantFrom('mov', 'lock', 'fetch', 'add32', '%r1', '%r99', '[%r1+4]', '[%r1', ',', ':', 'x:', '0x', '-', '+3', 'exit', 'call', 'local', 'lddw', '#', ';', '\n', ' ');
  fc.assert(
    fc.property(fc.array(fc.oneof(words, fc.string({ maxLength: 6 })), { maxLength: 20 }), (parts) => {
      try {
        parseUbpf(parts.join(' '));
      } catch (e) {
        assert.ok(e instanceof ParseError, String(e));
      }
      try {
        parseUbpfTest(parts.join(' '));
      } catch (e) {
        assert.ok(e instanceof ParseError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('test files: sections, both -- raw spellings, memory, results and errors', () => {
  const t = parseUbpfTest(`# header
-- asm
mov %r0, %r2 # comment
exit
-- mem
00 01
02 ff
-- c
int main() { return 0 -- 1; }
-- result
0x4
`);
  assert.equal(t.source, 'asm');
  assert.deepEqual([...t.memory], [0, 1, 2, 0xff]);
  assert.equal(t.result, 4n);
  assert.equal(t.error, undefined);
  assert.equal(t.program.length, 16);

  const words = parseUbpfTest('-- asm\nexit\n-- raw\n0x5566778800000018\n0x1122334400000000\n0x0000000000000095\n-- result\n1234\n');
  assert.equal(words.source, 'raw');
  assert.deepEqual([...words.program.subarray(0, 8)], [0x18, 0, 0, 0, 0x88, 0x77, 0x66, 0x55]);
  assert.equal(words.result, 1234n);

  const bytes = parseUbpfTest('-- raw\n07 00 01 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n');
  assert.equal(bytes.program[2], 1);
  assert.equal(bytes.error, '');
  assert.equal(bytes.result, undefined);

  const err = parseUbpfTest('-- asm\nexit\n-- error\nInvalid number of operands\n');
  assert.equal(err.error, 'Invalid number of operands');
});

test('test files: structural problems are ParseErrors with the line', () => {
  const bad = (text: string, line: number, pattern: RegExp): void =>
    assert.throws(() => parseUbpfTest(text, 'x.data'), (e: unknown) => e instanceof ParseError && e.line === line && pattern.test(e.detail));
  bad('-- asm\n-- Unknown directive\n-- error\n', 2, /unknown section/);
  bad('# nothing\n', 1, /no program/);
  bad('-- result\n0x0\n', 2, /no program/);
  bad('-- asm\nexit\n-- mem\n0g\n', 4, /invalid byte/);
  bad('-- raw\n07 00 01\n', 2, /multiple of 8/);
  bad('-- asm\nexit\n-- result\nfoo\n', 4, /invalid result/);
  bad('mov %r0, 1\n-- asm\nexit\n', 1, /before the first section/);
  // Assembly errors keep the file's line numbers.
  assert.throws(
    () => parseUbpfTest('# c\n-- asm\nmov %r0, 1\nmov %r0, %r12\n', 'x.data'),
    (e: unknown) => e instanceof ParseError && e.language === 'ubpf-asm' && e.line === 4 && e.file === 'x.data',
  );
});
