import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BtfBuilder, BtfKind, parseBtf, type BtfType } from '../../src/btf/index.js';
import { OBJECTS, objectBtf, section } from './fixtures.js';

/** Rebuilds every type of a parsed blob with the builder. */
function rebuild(types: BtfType[], littleEndian = true): Uint8Array {
  const b = new BtfBuilder();
  b.addAll(types);
  return b.finish({ littleEndian });
}

test('clang fixtures: parse -> build -> parse gives the same types', () => {
  for (const obj of OBJECTS) {
    const btf = objectBtf(obj);
    const types = Array.from({ length: btf.typeCount - 1 }, (_, i) => btf.type(i + 1));
    for (const le of [true, false]) {
      const again = parseBtf(rebuild(types, le));
      assert.equal(again.typeCount, btf.typeCount);
      for (let id = 1; id < btf.typeCount; id++) assert.deepEqual(again.type(id), types[id - 1], `${obj} [${id}]`);
    }
  }
});

test('rebuilding clang output gives the same type section size and no more strings', () => {
  const btf = objectBtf('types.o');
  const types = Array.from({ length: btf.typeCount - 1 }, (_, i) => btf.type(i + 1));
  const bytes = rebuild(types);
  const orig = section('types.o', '.BTF');
  // clang's string table also holds the .BTF.ext strings (file names, line texts)
  const hdr = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
  assert.equal(hdr(bytes, 12), hdr(orig, 12));
  assert.ok(hdr(bytes, 20) < hdr(orig, 20));
});

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Arbitrary types referring to ids below `count` (ids 1..count-1 exist, 0 is void). */
function typeArb(count: number): fc.Arbitrary<BtfType> {
  const ref = fc.integer({ min: 0, max: count - 1 });
  const member = fc.record({ name: fc.oneof(name, fc.constant('')), type: ref, bitOffset: fc.integer({ min: 0, max: 0xffffff }), bitfieldSize: fc.integer({ min: 0, max: 255 }) });
  return fc.oneof(
    fc.record({ kind: fc.constant(BtfKind.INT), name, size: fc.constantFrom(1, 2, 4, 8, 16), encoding: fc.constantFrom(0, 1, 2, 4), bitsOffset: fc.integer({ min: 0, max: 255 }), bits: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constantFrom(BtfKind.PTR, BtfKind.TYPEDEF, BtfKind.VOLATILE, BtfKind.CONST, BtfKind.RESTRICT), name: fc.oneof(name, fc.constant('')), type: ref }),
    fc.record({ kind: fc.constant(BtfKind.ARRAY), name: fc.constant(''), type: ref, indexType: ref, nelems: u32 }),
    fc.record({ kind: fc.constantFrom(BtfKind.STRUCT, BtfKind.UNION), name: fc.oneof(name, fc.constant('')), size: u32, members: fc.array(member, { maxLength: 6 }) }),
    fc.record({ kind: fc.constant(BtfKind.ENUM), name, size: fc.constantFrom(1, 2, 4), signed: fc.constant(true), values: fc.array(fc.record({ name, value: fc.integer({ min: -0x80000000, max: 0x7fffffff }) }), { maxLength: 5 }) }),
    fc.record({ kind: fc.constant(BtfKind.ENUM), name, size: fc.constant(4), signed: fc.constant(false), values: fc.array(fc.record({ name, value: u32 }), { maxLength: 5 }) }),
    fc.record({ kind: fc.constant(BtfKind.ENUM64), name, size: fc.constant(8), signed: fc.constant(true), values: fc.array(fc.record({ name, value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant(BtfKind.ENUM64), name, size: fc.constant(8), signed: fc.constant(false), values: fc.array(fc.record({ name, value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant(BtfKind.FWD), name, union: fc.boolean() }),
    fc.record({ kind: fc.constant(BtfKind.FUNC), name, type: ref, linkage: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant(BtfKind.FUNC_PROTO), name: fc.constant(''), returnType: ref, params: fc.array(fc.record({ name: fc.oneof(name, fc.constant('')), type: ref }), { maxLength: 5 }) }),
    fc.record({ kind: fc.constant(BtfKind.VAR), name, type: ref, linkage: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant(BtfKind.DATASEC), name, size: u32, vars: fc.array(fc.record({ type: ref, offset: u32, size: u32 }), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant(BtfKind.FLOAT), name, size: fc.constantFrom(2, 4, 8, 12, 16) }),
    fc.record({ kind: fc.constant(BtfKind.DECL_TAG), name, type: ref, componentIdx: fc.integer({ min: -1, max: 100 }), attribute: fc.boolean() }),
    fc.record({ kind: fc.constant(BtfKind.TYPE_TAG), name, type: ref, attribute: fc.boolean() }),
  ) as fc.Arbitrary<BtfType>;
}

/** fast-check records have a null prototype; the parser returns plain objects. */
function normalize<T>(x: T): T {
  if (Array.isArray(x)) return x.map(normalize) as T;
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalize(v)])) as T;
  return x;
}

test('property: parse(build(types)) == types for every kind, both byte orders', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.array(typeArb(n + 1), { minLength: n, maxLength: n }), fc.boolean())),
      ([types, le]) => {
        const btf = parseBtf(rebuild(types, le));
        assert.equal(btf.typeCount, types.length + 1);
        assert.equal(btf.littleEndian, le);
        for (let i = 0; i < types.length; i++) assert.deepEqual(btf.type(i + 1), normalize(types[i]!));
        // and lookups by name find every named type
        for (let i = 0; i < types.length; i++) if (types[i]!.name) assert.ok(btf.idsByName(types[i]!.name).includes(i + 1));
      },
    ),
    { numRuns: 300 },
  );
});

test('builder deduplicates strings', () => {
  const b = new BtfBuilder();
  const int = b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
  b.add({ kind: BtfKind.STRUCT, name: 'int', size: 4, members: [{ name: 'int', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  const btf = parseBtf(b.finish());
  assert.equal(btf.header.strLen, 5, "'' and 'int' once each");
});

test('builder rejects values that do not fit', () => {
  const b = new BtfBuilder();
  b.add({ kind: BtfKind.STRUCT, name: 's', size: 4, members: [{ name: 'x', type: 0, bitOffset: 1 << 24, bitfieldSize: 3 }] });
  assert.throws(() => b.finish(), /too large/);
});
