import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FormatError } from '../../src/errors.js';
import {
  BtfBuilder,
  BtfKind,
  BtfIntEncoding,
  alignOf,
  cTypeName,
  findMember,
  parseBtf,
  resolveType,
  sizeOf,
  findTypes,
  type BtfType,
} from '../../src/btf/index.js';
import { fixture, objectBtf, section, VMLINUX } from './fixtures.js';

const btf = objectBtf('types.o');
const byName = (name: string, kind?: number) => {
  const r = btf.typeByName(name, kind);
  assert.ok(r, `type ${name}`);
  return r;
};

test('INT: size, encoding and bits, incl. BOOL and 128-bit', () => {
  assert.deepEqual(byName('int').type, { kind: BtfKind.INT, name: 'int', size: 4, encoding: BtfIntEncoding.SIGNED, bitsOffset: 0, bits: 32 });
  assert.equal((byName('_Bool').type as { encoding: number }).encoding, BtfIntEncoding.BOOL);
  assert.equal((byName('unsigned __int128').type as { size: number }).size, 16);
});

test('STRUCT with kflag: bitfield offsets and sizes decoded', () => {
  const t = byName('bits', BtfKind.STRUCT).type;
  assert.equal(t.kind, BtfKind.STRUCT);
  if (t.kind !== BtfKind.STRUCT) return;
  assert.deepEqual(
    t.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
    [['a', 0, 3], ['b', 3, 5], ['c', 8, 12], ['wide', 20, 40], ['tail', 64, 0], ['after_zero', 96, 7]],
  );
});

test('UNION, anonymous members, FLOAT and anonymous ENUM', () => {
  const t = byName('anon_members').type;
  if (t.kind !== BtfKind.STRUCT) return assert.fail('not a struct');
  const anon = btf.type(t.members[1]!.type);
  assert.equal(anon.kind, BtfKind.UNION);
  assert.equal(btf.type(t.members[3]!.type).kind, BtfKind.ENUM);
  assert.deepEqual(byName('float').type, { kind: BtfKind.FLOAT, name: 'float', size: 4 });
});

test('ENUM signedness (kflag) and ENUM64 values', () => {
  const color = byName('color').type;
  assert.deepEqual(color, { kind: BtfKind.ENUM, name: 'color', size: 4, signed: true, values: [{ name: 'RED', value: 0 }, { name: 'GREEN', value: 5 }, { name: 'BLUE', value: -1 }] });
  const big = byName('big').type;
  assert.deepEqual(big, { kind: BtfKind.ENUM64, name: 'big', size: 8, signed: false, values: [{ name: 'BIG_SMALL', value: 1n }, { name: 'BIG_LARGE', value: 0x1234567890n }] });
  const neg = byName('neg64').type;
  assert.ok(neg.kind === BtfKind.ENUM64 && neg.signed && neg.values[0]!.value === -(2n ** 63n));
  assert.equal((byName('tiny').type as { size: number }).size, 1);
});

test('FWD struct and union (kflag)', () => {
  assert.deepEqual(byName('opaque').type, { kind: BtfKind.FWD, name: 'opaque', union: false });
  assert.deepEqual(byName('opaque_u').type, { kind: BtfKind.FWD, name: 'opaque_u', union: true });
});

test('qualifiers, TYPEDEF, PTR, ARRAY, FUNC_PROTO with varargs, FUNC linkage', () => {
  const q = byName('quals').type;
  if (q.kind !== BtfKind.STRUCT) return assert.fail();
  const member = (n: string) => q.members.find((m) => m.name === n)!.type;
  assert.equal(btf.type(member('cvi')).kind, BtfKind.CONST);
  assert.equal(btf.type(member('rp')).kind, BtfKind.RESTRICT);
  const printer = btf.type(btf.type(member('printer')).kind === BtfKind.PTR ? (btf.type(member('printer')) as { type: number }).type : 0);
  assert.ok(printer.kind === BtfKind.FUNC_PROTO && printer.params.at(-1)!.type === 0, 'varargs is a last param of type 0');
  const matrix = btf.type(member('matrix'));
  assert.ok(matrix.kind === BtfKind.ARRAY && matrix.nelems === 3);
  assert.deepEqual(byName('tagged_func').type, { kind: BtfKind.FUNC, name: 'tagged_func', type: (byName('tagged_func').type as { type: number }).type, linkage: 1 });
  assert.equal((byName('helper_static').type as { linkage: number }).linkage, 0);
  assert.equal(byName('u64_t').type.kind, BtfKind.TYPEDEF);
});

test('VAR and DATASEC', () => {
  assert.deepEqual(byName('data_var').type, { kind: BtfKind.VAR, name: 'data_var', type: byName('int').id, linkage: 1 });
  assert.equal((byName('static_counter').type as { linkage: number }).linkage, 0);
  const data = byName('.data').type;
  assert.ok(data.kind === BtfKind.DATASEC && data.vars.length === 3);
});

test('DECL_TAG component_idx and TYPE_TAG', () => {
  const field = byName('field_tag').type;
  assert.deepEqual(field, { kind: BtfKind.DECL_TAG, name: 'field_tag', type: byName('tagged', BtfKind.STRUCT).id, componentIdx: 1, attribute: false });
  assert.equal((byName('struct_tag').type as { componentIdx: number }).componentIdx, -1);
  assert.equal((byName('arg_tag').type as { componentIdx: number }).componentIdx, 0);
  assert.deepEqual(byName('user').type, { kind: BtfKind.TYPE_TAG, name: 'user', type: byName('int').id, attribute: false });
});

test('kflag of DECL_TAG / TYPE_TAG (attribute form) round-trips', () => {
  const b = new BtfBuilder();
  const int = b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
  b.add({ kind: BtfKind.TYPE_TAG, name: 'aligned(8)', type: int, attribute: true });
  b.add({ kind: BtfKind.DECL_TAG, name: 'noinline', type: int, componentIdx: -1, attribute: true });
  const p = parseBtf(b.finish());
  assert.equal((p.type(2) as { attribute: boolean }).attribute, true);
  assert.equal((p.type(3) as { attribute: boolean }).attribute, true);
  assert.equal(p.info(2) >>> 31, 1);
});

test('big-endian BTF decodes to the same types as little-endian', () => {
  const be = objectBtf('types-be.o');
  assert.equal(be.littleEndian, false);
  assert.equal(be.typeCount, btf.typeCount);
  for (let id = 1; id < btf.typeCount; id++) assert.deepEqual(be.type(id), btf.type(id));
});

test('raw .btf file and ELF section parse alike', () => {
  const raw = parseBtf(readFileSync(fixture('types.btf')));
  assert.equal(raw.typeCount, btf.typeCount);
  assert.deepEqual(new Uint8Array(raw.bytes), section('types.o', '.BTF'));
});

test('lookup by name returns every match, by kind the first', () => {
  assert.deepEqual(btf.idsByName('LICENSE').map((id) => btf.kindOf(id)), [BtfKind.VAR]);
  assert.equal(btf.idsByName('no_such_type').length, 0);
  assert.ok(btf.idsByName('').length > 10, 'anonymous types');
  assert.deepEqual(findTypes(btf, 'struct holder'), [byName('holder').id]);
  assert.deepEqual(findTypes(btf, '3'), [3]);
  assert.throws(() => findTypes(btf, 'union holder'));
});

test('vmlinux: header pass only, then one type decoded on demand', () => {
  const bytes = readFileSync(VMLINUX);
  const t0 = performance.now();
  const k = parseBtf(bytes);
  const found = k.typeByName('task_struct', BtfKind.STRUCT);
  const ms = performance.now() - t0;
  assert.ok(found && found.type.kind === BtfKind.STRUCT && found.type.members.length > 50);
  assert.ok(ms < 500, `cold lookup took ${ms} ms`);
  // only what was asked for has been decoded
  const cache = (k as unknown as { cache: unknown[] }).cache;
  assert.equal(cache.filter((x) => x !== undefined).length, 1);
});

test('split BTF: ids and strings continue after the base', () => {
  const base = objectBtf('core.o');
  const b = new BtfBuilder({ base });
  const intId = base.typeByName('int')!.id;
  const s = b.add({ kind: BtfKind.STRUCT, name: 'module_thing', size: 8, members: [{ name: 'pid', type: intId, bitOffset: 0, bitfieldSize: 0 }, { name: 'x', type: intId, bitOffset: 32, bitfieldSize: 0 }] });
  assert.equal(s, base.typeCount);
  const split = parseBtf(b.finish(), { base });
  assert.equal(split.firstId, base.typeCount);
  assert.deepEqual(split.type(s), b.added[0]);
  assert.equal(split.type(intId).kind, BtfKind.INT, 'base ids resolve through the split BTF');
  assert.deepEqual(split.idsByName('module_thing'), [s]);
  assert.deepEqual(split.idsByName('int'), [intId]);
  assert.equal(split.nameOffOf(s) >= base.strBase + base.header.strLen, true);
  // 'pid' is a base string and is reused
  assert.ok((split.bytes.length) < 24 + 12 + 24 + 40);
});

test('layout helpers: resolve, size, alignment, member lookup through anonymous members', () => {
  const holder = byName('holder').id;
  assert.equal(sizeOf(btf, holder), 368);
  assert.equal(sizeOf(btf, byName('u64_t').id), 8);
  assert.equal(sizeOf(btf, byName('opaque').id), undefined);
  assert.equal(alignOf(btf, byName('packed_s').id), 1);
  assert.equal(alignOf(btf, byName('aligned_s').id), 4, 'BTF keeps no alignment attribute: max member alignment');
  assert.equal(alignOf(btf, holder), 8);
  assert.equal(resolveType(btf, byName('tagged_t').id), byName('tagged', BtfKind.STRUCT).id);
  const am = byName('anon_members').id;
  const hi = findMember(btf, am, 'hi');
  assert.ok(hi);
  assert.equal(hi.bitOffset, 32 + 16);
  assert.deepEqual(hi.path, [1, 2, 1]);
  assert.equal(findMember(btf, am, 'nope'), undefined);
  const wide = findMember(btf, byName('bits').id, 'wide')!;
  assert.deepEqual([wide.bitOffset, wide.member.bitfieldSize], [20, 40]);
});

test('C type names', () => {
  const q = byName('quals').type;
  if (q.kind !== BtfKind.STRUCT) return assert.fail();
  const m = (n: string) => cTypeName(btf, q.members.find((x) => x.name === n)!.type);
  assert.equal(m('cpc'), 'const char * const');
  assert.equal(m('matrix'), 'int[3][4]');
  assert.equal(m('printer'), 'int (*)(const char *, ...)');
  assert.equal(m('fnp_arr'), 'int *(* (*[2])(void))[5]'); // btf_dump.c's spacing
  assert.equal(cTypeName(btf, byName('holder').id), 'struct holder');
  assert.equal(cTypeName(btf, 0), 'void');
});

test('header and layout errors are FormatErrors naming the offset', () => {
  const good = section('types.o', '.BTF');
  const cases: [Uint8Array, RegExp][] = [
    [good.slice(0, 10), /header/],
    [Uint8Array.from([1, 2, ...good.slice(2)]), /magic/],
    [(() => { const b = good.slice(); b[2] = 2; return b; })(), /version/],
    [good.slice(0, good.length - 1), /string section/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => parseBtf(bytes), (e: unknown) => e instanceof FormatError && e.format === 'BTF' && re.test(e.message));
  // an unknown kind in the first type
  const bad = good.slice();
  new DataView(bad.buffer).setUint32(24 + 4, 25 << 24, true);
  assert.throws(() => parseBtf(bad), (e: unknown) => e instanceof FormatError && e.offset === 28 && /unknown kind 25/.test(e.detail));
});

test('cyclic typedefs end in a FormatError, not a hang', () => {
  const b = new BtfBuilder();
  b.add({ kind: BtfKind.TYPEDEF, name: 'loop', type: 2 });
  b.add({ kind: BtfKind.CONST, name: '', type: 1 });
  const p = parseBtf(b.finish());
  for (const f of [() => resolveType(p, 1), () => sizeOf(p, 1), () => alignOf(p, 1)]) assert.throws(f, FormatError);
  const t: BtfType = p.type(1);
  assert.equal(t.kind, BtfKind.TYPEDEF);
});
