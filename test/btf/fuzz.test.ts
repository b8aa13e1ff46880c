/**
 * Property-based fuzzing of everything that reads BTF: random bytes, and valid BTF (clang
 * fixtures and a slice of vmlinux) with random mutations, go through the parser, every lookup,
 * the layout helpers, all three formatters and the .BTF.ext parser. The only error allowed out is
 * a FormatError for 'BTF' or 'BTF.ext'; a hang (e.g. a typedef pointing to itself) would time the
 * test out, a stack overflow would surface as a RangeError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { FormatError } from '../../src/errors.js';
import {
  BtfBuilder,
  BtfKind,
  alignOf,
  cTypeName,
  findMember,
  formatC,
  formatRaw,
  formatTs,
  parseBtf,
  parseBtfExt,
  resolveType,
  sizeOf,
  type Btf,
} from '../../src/btf/index.js';
import { VMLINUX, section } from './fixtures.js';

/** Runs `f`; returns normally unless it throws something other than an allowed FormatError. */
function onlyFormatErrors(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError && (e.format === 'BTF' || e.format === 'BTF.ext')) return;
    throw e;
  }
}

/** Everything a user can do with a parsed blob. */
function exercise(btf: Btf, ext?: Uint8Array): void {
  const limit = Math.min(btf.typeCount, 400);
  for (let id = 0; id < limit; id++) {
    onlyFormatErrors(() => {
      if (id > 0) {
        const t = btf.type(id);
        btf.nameOf(id);
        if (t.name) btf.idsByName(t.name);
      }
      resolveType(btf, id);
      sizeOf(btf, id);
      alignOf(btf, id);
      cTypeName(btf, id);
      findMember(btf, id, 'x');
    });
  }
  onlyFormatErrors(() => void btf.idsByName('task_struct'));
  onlyFormatErrors(() => void formatRaw(btf));
  onlyFormatErrors(() => void formatC(btf));
  onlyFormatErrors(() => void formatTs(btf));
  if (btf.typeCount > 1) onlyFormatErrors(() => void formatC(btf, { ids: [btf.typeCount - 1] }));
  if (btf.typeCount > 1) onlyFormatErrors(() => void formatTs(btf, { ids: [1] }));
  if (ext) onlyFormatErrors(() => void parseBtfExt(ext, btf));
}

function parseAndExercise(bytes: Uint8Array, ext?: Uint8Array): void {
  let btf: Btf | undefined;
  onlyFormatErrors(() => (btf = parseBtf(bytes)));
  if (btf) exercise(btf, ext);
}

/** The first `n` types of vmlinux with its whole string section, as a standalone blob. */
function vmlinuxSlice(n: number): Uint8Array {
  const full = parseBtf(readFileSync(VMLINUX));
  const end = n + 1 < full.typeCount ? full.recordOffset(n + 1) : full.typesStart + full.header.typeLen;
  const types = full.bytes.subarray(full.typesStart, end);
  const strs = full.bytes.subarray(full.strStart, full.strEnd);
  const out = new Uint8Array(24 + types.length + strs.length);
  out.set(full.bytes.subarray(0, 24));
  const v = new DataView(out.buffer);
  v.setUint32(8, 0, true);
  v.setUint32(12, types.length, true);
  v.setUint32(16, types.length, true);
  v.setUint32(20, strs.length, true);
  out.set(types, 24);
  out.set(strs, 24 + types.length);
  return out;
}

const seeds: [string, Uint8Array, Uint8Array | undefined][] = [
  ['types.o', section('types.o', '.BTF'), section('types.o', '.BTF.ext')],
  ['types-be.o', section('types-be.o', '.BTF'), section('types-be.o', '.BTF.ext')],
  ['core.o', section('core.o', '.BTF'), section('core.o', '.BTF.ext')],
  ['vmlinux[1..300]', vmlinuxSlice(300), undefined],
];

test('the seeds themselves are fully usable', () => {
  for (const [name, bytes, ext] of seeds) {
    const btf = parseBtf(bytes);
    assert.ok(btf.typeCount > 20, name);
    formatRaw(btf);
    if (!name.startsWith('vmlinux')) {
      formatC(btf); // the slice refers to types past its end
      formatTs(btf);
    }
    if (ext) parseBtfExt(ext, btf);
  }
});

test('random bytes: only FormatError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => parseAndExercise(bytes)), { numRuns: 500 });
  // random bytes behind a valid header
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.integer({ min: 0, max: 400 }), fc.boolean(), (body, typeLen, le) => {
      const out = new Uint8Array(24 + body.length);
      const v = new DataView(out.buffer);
      v.setUint16(0, 0xeb9f, le);
      out[2] = 1;
      v.setUint32(4, 24, le);
      const tl = Math.min(typeLen & ~3, body.length);
      v.setUint32(12, tl, le);
      v.setUint32(16, tl, le);
      v.setUint32(20, body.length - tl, le);
      out.set(body, 24);
      if (body.length > tl) out[out.length - 1] = 0;
      if (body.length > tl) out[24 + tl] = 0;
      parseAndExercise(out);
    }),
    { numRuns: 500 },
  );
});

test('mutated valid BTF and .BTF.ext: only FormatError, no hang', () => {
  for (const [, seed, ext] of seeds) {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.nat(0xffffffff), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (mutations, mutateExt) => {
          const bytes = seed.slice();
          const extBytes = ext?.slice();
          const target = mutateExt && extBytes ? extBytes : bytes;
          const v = new DataView(target.buffer, target.byteOffset, target.byteLength);
          for (const [pos, value, how] of mutations) {
            const at = (pos % Math.max(1, target.length - 4)) & ~(how === 2 ? 3 : 0);
            if (how === 0) target[at] = value & 0xff;
            else if (how === 1) target[at] ^= 1 << (value % 8);
            else if (at + 4 <= target.length) v.setUint32(at, value % 3 === 0 ? value % 64 : value, true); // small values make plausible ids
          }
          parseAndExercise(bytes, extBytes);
        },
      ),
      { numRuns: seed.length > 100_000 ? 60 : 250 },
    );
  }
});

test('reference cycles everywhere end in FormatError', () => {
  const b = new BtfBuilder();
  b.add({ kind: BtfKind.TYPEDEF, name: 'self', type: 1 }); // 1: typedef to itself
  b.add({ kind: BtfKind.PTR, name: '', type: 2 }); // 2: pointer to itself
  b.add({ kind: BtfKind.CONST, name: '', type: 4 }); // 3 <-> 4
  b.add({ kind: BtfKind.VOLATILE, name: '', type: 3 });
  b.add({ kind: BtfKind.ARRAY, name: '', type: 5, indexType: 0, nelems: 2 }); // 5: array of itself
  b.add({ kind: BtfKind.STRUCT, name: '', size: 8, members: [{ name: 'p', type: 7, bitOffset: 0, bitfieldSize: 0 }, { name: '', type: 6, bitOffset: 0, bitfieldSize: 0 }] }); // 6: anon, contains itself
  b.add({ kind: BtfKind.PTR, name: '', type: 6 }); // 7
  b.add({ kind: BtfKind.STRUCT, name: 'holder', size: 8, members: [{ name: 'a', type: 6, bitOffset: 0, bitfieldSize: 0 }, { name: 't', type: 1, bitOffset: 0, bitfieldSize: 0 }] });
  b.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: 9, params: [{ name: 'x', type: 9 }] }); // 9: returns itself
  const btf = parseBtf(b.finish());
  exercise(btf);
  for (let id = 1; id < btf.typeCount; id++) {
    for (const f of [() => formatC(btf, { ids: [id] }), () => formatTs(btf, { ids: [id] }), () => cTypeName(btf, id), () => sizeOf(btf, id), () => alignOf(btf, id)]) {
      onlyFormatErrors(f);
    }
  }
  assert.throws(() => formatC(btf), FormatError);
});
