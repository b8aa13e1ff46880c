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
