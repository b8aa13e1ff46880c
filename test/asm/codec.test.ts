import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../src/asm/codec.js';
import { FormatError } from '../../src/errors.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));

test('decode and encode round-trip clang output exactly', () => {
  const bytes = hex(`85 00 00 00 0e 00 00 00  63 0a fc ff 00 00 00 00
    18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00  db 10 00 00 00 00 00 00  95 00 00 00 00 00 00 00`);
  const insns = decode(bytes);
  assert.equal(insns.length, 5);
  assert.deepEqual(insns[1], { code: 0x63, dst: 10, src: 0, off: -4, imm: 0 });
  assert.equal(insns[2]!.imm2, 0);
  assert.deepEqual(encode(insns), bytes);
});

test('big-endian objects swap the register nibbles', () => {
  const le = hex('bf a2 00 00 00 00 00 00');
  const be = hex('bf 2a 00 00 00 00 00 00');
  assert.deepEqual(decode(le)[0], decode(be, { littleEndian: false })[0]);
  assert.deepEqual(encode(decode(le), { littleEndian: false }), be);
});

test('reserved fields set are rejected with the instruction index', () => {
  // add64 r0, 1 with offset 1 (bpf_conformance negative/unused-add64_imm-offset)
  const bad = hex('b7 00 00 00 00 00 00 00  07 00 01 00 01 00 00 00');
  assert.throws(() => decode(bad), (e: unknown) => e instanceof FormatError && e.offset === 1 && /off/.test(e.message));
  assert.equal(decode(bad, { strict: false }).length, 2);
});

test('truncated ld_imm64 and ragged lengths are typed errors', () => {
  assert.throws(() => decode(hex('18 01 00 00 00 00 00 00')), FormatError);
  assert.throws(() => decode(hex('95 00 00')), FormatError);
});

test('random and mutated bytecode only ever gives FormatErrors, and what decodes strictly re-encodes exactly', async () => {
  const fc = (await import('fast-check')).default;
  const { readFileSync } = await import('node:fs');
  const { parseElf } = await import('../../src/elf/index.js');
  const code = parseElf(new Uint8Array(readFileSync('testdata/objdump/maps_globals.bpf.o'))).section('tracepoint/syscalls/sys_enter_execve')!.data;
  let decoded = 0;
  const check = (bytes: Uint8Array, littleEndian: boolean): void => {
    for (const strict of [true, false]) {
      try {
        const insns = decode(bytes, { strict, littleEndian });
        decoded++;
        // Lenient decoding drops the reserved fields of ld_imm64's second slot; strict keeps all.
        if (strict) assert.deepEqual(encode(insns, { littleEndian }), bytes);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), fc.boolean(), (bytes, le) => check(bytes, le)), { numRuns: 5000 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(code.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(code.length), (flips, cut) => {
      const bytes = code.slice(0, Math.max(cut, 8));
      for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
      check(bytes, true);
    }),
    { numRuns: 5000 },
  );
  assert.ok(decoded > 2000, `only ${decoded} inputs decoded`);
});
