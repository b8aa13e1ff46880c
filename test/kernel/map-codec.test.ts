// Codecs without the kernel: plain codecs, and BTF-driven codecs over the map types of real
// clang-built objects (round trips both ways) and over hand-built BTF for what those objects
// lack (bitfields, unions, enums, anonymous members, nested arrays, big-endian BTF).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BtfBuilder, BtfIntEncoding, BtfKind, parseBtf } from '../../src/btf/index.js';
import { array, btfCodec, BtfCodecError, bytes, CodecError, variablesCodec, cstring, i32, lpmKey, perCpu, struct, u16, u32, u64, u8, type BtfObject, type BtfValue } from '../../src/kernel/index.js';
import { readObject } from '../../src/object/index.js';

const maps = (path: string) => {
  const spec = readObject(readFileSync(path));
  return { spec, map: (name: string) => spec.maps.find((m) => m.name === name)! };
};

test('plain codecs: numbers, bigints, strings, arrays, structs, LPM keys, per-CPU slots', () => {
  assert.deepEqual([...u32.encode(0x01020304)], [4, 3, 2, 1]);
  assert.equal(u32.decode(u32.encode(0xffffffff)), 0xffffffff);
  assert.equal(i32.decode(i32.encode(-5)), -5);
  assert.equal(u64.decode(u64.encode(2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.throws(() => u8.encode(256), CodecError);
  assert.throws(() => u32.encode(1.5), CodecError);
  assert.throws(() => u64.encode(-1n), CodecError);
  const name = cstring(8);
  assert.deepEqual([...name.encode('abc')], [97, 98, 99, 0, 0, 0, 0, 0]);
  assert.equal(name.decode(name.encode('abcdefgh')), 'abcdefgh', 'a full char array needs no NUL');
  assert.throws(() => name.encode('abcdefghi'), /longer than char\[8\]/);
  const ev = struct({ pid: u32, flag: u8, port: u16, ts: u64 });
  assert.equal(ev.size, 16, 'C layout: u8 at 4, u16 at 6, u64 at 8');
  const v = { pid: 7, flag: 1, port: 80, ts: 5n };
  assert.deepEqual(ev.decode(ev.encode(v)), v);
  assert.deepEqual(ev.decode(ev.encode({ pid: 1 } as typeof v)), { pid: 1, flag: 0, port: 0, ts: 0n }, 'missing fields are zero');
  assert.throws(() => ev.encode({ ...v, port: 70000 }), (e: unknown) => e instanceof CodecError && e.path === '.port');
  const lpm = lpmKey(bytes(4));
  assert.deepEqual([...lpm.encode({ prefixlen: 24, data: Uint8Array.of(10, 1, 2, 0) })], [24, 0, 0, 0, 10, 1, 2, 0]);
  assert.throws(() => lpm.encode({ prefixlen: 33, data: new Uint8Array(4) }), /prefix length/);
  const pc = perCpu(u32, 3);
  assert.equal(pc.size, 24, 'each CPU slot is rounded up to 8 bytes');
  assert.deepEqual(pc.decode(pc.encode([1, 2, 3])), [1, 2, 3]);
  assert.deepEqual([...pc.encode([1, 2, 3]).subarray(4, 8)], [0, 0, 0, 0], 'slot padding is zero');
  assert.deepEqual(array(u16, 3).decode(array(u16, 3).encode([1, 2, 3])), [1, 2, 3]);
});

test('BTF codecs over maps_globals.bpf.o: char[16] keys, u64 values, struct event, .data/.rodata', () => {
  const { spec, map } = maps('testdata/objdump/maps_globals.bpf.o');
  const btf = spec.btf!;
  const counts = map('counts');
  const key = btfCodec<string>(btf, counts.keyType!);
  const value = btfCodec<bigint>(btf, counts.valueType!);
  assert.equal(key.size, counts.keySize);
  assert.equal(value.size, counts.valueSize);
  assert.equal(key.decode(key.encode('bash')), 'bash');
  assert.equal(value.decode(value.encode(123n)), 123n);

  const scratch = map('scratch');
  const event = btfCodec<{ pid: number; uid: number; comm: string }>(btf, scratch.valueType!);
  assert.equal(event.size, 24);
  const e = { pid: 42, uid: 1000, comm: 'node' };
  assert.deepEqual(event.decode(event.encode(e)), e);
  // bytes -> value -> bytes: a C-initialised struct survives unchanged
  const raw = new Uint8Array(24);
  new DataView(raw.buffer).setUint32(0, 99, true);
  new DataView(raw.buffer).setUint32(4, 7, true);
  raw.set(new TextEncoder().encode('systemd'), 8);
  assert.deepEqual(event.encode(event.decode(raw)), raw);

  const data = map('.data');
  const globals = variablesCodec(btf, data.valueSize, data.variables);
  assert.deepEqual(globals.decode(data.data!), { seen: 1n }, '.data decodes to its variables');
  const ro = map('.rodata');
  assert.throws(() => btfCodec(btf, ro.valueType!), BtfCodecError, "clang's DATASEC offsets are all 0: refused, not misread");
  const consts = variablesCodec(btf, ro.valueSize, ro.variables);
  const decoded = consts.decode(ro.data!);
  assert.equal(decoded.target_pid, 0);
  assert.equal(decoded.prefix, 'ab');
  assert.deepEqual(consts.encode(decoded), ro.data);
});

test('BTF codecs over features.bpf.o: anonymous struct values and u64 keys', () => {
  const { spec, map } = maps('testdata/object/features.bpf.o');
  const btf = spec.btf!;
  const pinned = map('pinned');
  const key = btfCodec<bigint>(btf, pinned.keyType!);
  const value = btfCodec<{ a: number; b: number }>(btf, pinned.valueType!);
  assert.equal(value.size, 8);
  assert.equal(key.decode(key.encode(2n ** 63n)), 2n ** 63n);
  assert.deepEqual(value.decode(value.encode({ a: 0xdeadbeef, b: 0xffff })), { a: 0xdeadbeef, b: 0xffff });
  assert.deepEqual([...value.encode({ a: 1, b: 2 }).subarray(6)], [0, 0], 'tail padding is zero');
  const inner = map('inner_b');
  assert.equal(btfCodec<bigint>(btf, inner.valueType!).decode(new Uint8Array(8).fill(0xff)), 2n ** 64n - 1n);
  const rodata = map('.rodata');
  assert.deepEqual(variablesCodec(btf, rodata.valueSize, rodata.variables).decode(rodata.data!), { answer: 42 });
});

/** BTF with the constructs the fixture objects lack. */
function richBtf(littleEndian = true) {
  const b = new BtfBuilder();
  const u32t = b.add({ kind: BtfKind.INT, name: 'unsigned int', size: 4, encoding: 0, bitsOffset: 0, bits: 32 });
  const s32t = b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: BtfIntEncoding.SIGNED, bitsOffset: 0, bits: 32 });
  const u64t = b.add({ kind: BtfKind.INT, name: 'unsigned long long', size: 8, encoding: 0, bitsOffset: 0, bits: 64 });
  const chart = b.add({ kind: BtfKind.INT, name: 'char', size: 1, encoding: BtfIntEncoding.SIGNED, bitsOffset: 0, bits: 8 });
  const u8t = b.add({ kind: BtfKind.INT, name: 'unsigned char', size: 1, encoding: 0, bitsOffset: 0, bits: 8 });
  const boolt = b.add({ kind: BtfKind.INT, name: '_Bool', size: 1, encoding: BtfIntEncoding.BOOL, bitsOffset: 0, bits: 8 });
  const idx = u32t;
  const color = b.add({ kind: BtfKind.ENUM, name: 'color', size: 4, signed: false, values: [{ name: 'RED', value: 0 }, { name: 'BLUE', value: 2 }] });
  const big = b.add({ kind: BtfKind.ENUM64, name: 'big', size: 8, signed: false, values: [{ name: 'HUGE', value: 1n << 40n }] });
  const dbl = b.add({ kind: BtfKind.FLOAT, name: 'double', size: 8 });
  const ptr = b.add({ kind: BtfKind.PTR, name: '', type: u32t });
  const name16 = b.add({ kind: BtfKind.ARRAY, name: '', type: chart, indexType: idx, nelems: 16 });
  const mac = b.add({ kind: BtfKind.ARRAY, name: '', type: u8t, indexType: idx, nelems: 6 });
  const row = b.add({ kind: BtfKind.ARRAY, name: '', type: u32t, indexType: idx, nelems: 3 });
  const grid = b.add({ kind: BtfKind.ARRAY, name: '', type: row, indexType: idx, nelems: 2 });
  const point = b.add({ kind: BtfKind.STRUCT, name: 'point', size: 8, members: [{ name: 'x', type: s32t, bitOffset: 0, bitfieldSize: 0 }, { name: 'y', type: s32t, bitOffset: 32, bitfieldSize: 0 }] });
  const points = b.add({ kind: BtfKind.ARRAY, name: '', type: point, indexType: idx, nelems: 2 });
  const anon = b.add({ kind: BtfKind.STRUCT, name: '', size: 8, members: [{ name: 'inner_a', type: u32t, bitOffset: 0, bitfieldSize: 0 }, { name: 'inner_b', type: u32t, bitOffset: 32, bitfieldSize: 0 }] });
  const un = b.add({ kind: BtfKind.UNION, name: 'num', size: 8, members: [{ name: 'as_u64', type: u64t, bitOffset: 0, bitfieldSize: 0 }, { name: 'as_u32', type: u32t, bitOffset: 0, bitfieldSize: 0 }] });
  const typedefU64 = b.add({ kind: BtfKind.TYPEDEF, name: '__u64', type: u64t });
  // struct rich {
  //   u32 a:3; u32 b:5; int c:4; u64 d:40;   (bitfields in the first 8 bytes)
  //   char name[16]; unsigned char mac[6]; _Bool on; [pad]
  //   enum color color; u64 big; double ratio; u32 *ptr;
  //   u32 grid[2][3]; struct point pts[2]; struct { u32 inner_a, inner_b; }; union num n; __u64 td;
  // }
  const rich = b.add({
    kind: BtfKind.STRUCT,
    name: 'rich',
    size: 128,
    members: [
      { name: 'a', type: u32t, bitOffset: 0, bitfieldSize: 3 },
      { name: 'b', type: u32t, bitOffset: 3, bitfieldSize: 5 },
      { name: 'c', type: s32t, bitOffset: 8, bitfieldSize: 4 },
      { name: 'd', type: u64t, bitOffset: 12, bitfieldSize: 40 },
      { name: 'name', type: name16, bitOffset: 64, bitfieldSize: 0 },
      { name: 'mac', type: mac, bitOffset: 192, bitfieldSize: 0 },
      { name: 'on', type: boolt, bitOffset: 240, bitfieldSize: 0 },
      { name: 'color', type: color, bitOffset: 256, bitfieldSize: 0 },
      { name: 'big', type: big, bitOffset: 320, bitfieldSize: 0 },
      { name: 'ratio', type: dbl, bitOffset: 384, bitfieldSize: 0 },
      { name: 'ptr', type: ptr, bitOffset: 448, bitfieldSize: 0 },
      { name: 'grid', type: grid, bitOffset: 512, bitfieldSize: 0 },
      { name: 'pts', type: points, bitOffset: 704, bitfieldSize: 0 },
      { name: '', type: anon, bitOffset: 832, bitfieldSize: 0 },
      { name: 'n', type: un, bitOffset: 896, bitfieldSize: 0 },
      { name: 'td', type: typedefU64, bitOffset: 960, bitfieldSize: 0 },
    ],
  });
  return { btf: parseBtf(b.finish({ littleEndian })), rich };
}

const RICH = {
  a: 5,
  b: 17,
  c: -3,
  d: 0xab_cdef_0123n,
  name: 'eth0',
  mac: [1, 2, 3, 4, 5, 6],
  on: true,
  color: 2,
  big: 1n << 40n,
  ratio: 0.25,
  ptr: 0xffff_8880_0000_1000n,
  grid: [[1, 2, 3], [4, 5, 6]],
  pts: [{ x: -1, y: 2 }, { x: 3, y: -4 }],
  inner_a: 10,
  inner_b: 20,
  n: { as_u64: 0x2_0000_0002n, as_u32: 2 },
  td: 99n,
};

test('BTF codecs: bitfields, enums, floats, pointers, nested arrays and structs, anonymous members, unions', () => {
  for (const le of [true, false]) {
    const { btf, rich } = richBtf(le);
    const c = btfCodec<typeof RICH>(btf, rich);
    assert.equal(c.size, 128);
    const bytes1 = c.encode(RICH);
    assert.deepEqual(c.decode(bytes1), RICH, `round trip (${le ? 'LE' : 'BE'})`);
    assert.deepEqual(c.encode(c.decode(bytes1)), bytes1, 'bytes -> value -> bytes');
    if (le) {
      // a:3 = 5, b:5 = 17 -> byte 0 = 5 | 17 << 3 = 0x8d; c:4 = -3 (0b1101) in the low nibble of byte 1
      assert.equal(bytes1[0], 0x8d);
      assert.equal(bytes1[1]! & 0x0f, 0b1101);
    }
  }
  const { btf, rich } = richBtf();
  const c = btfCodec<BtfObject>(btf, rich);
  assert.throws(() => c.encode({ a: 8 }), (e: unknown) => e instanceof CodecError && e.path === '.a' && /3-bit/.test(e.message));
  assert.throws(() => c.encode({ name: 'x'.repeat(17) }), (e: unknown) => e instanceof CodecError && e.path === '.name');
  assert.throws(() => c.encode({ grid: [[1, 2, 3]] as BtfValue }), (e: unknown) => e instanceof CodecError && e.path === '.grid');
  assert.throws(() => c.encode({ pts: [{ x: 1, y: 2 }, { x: 2 ** 31, y: 0 }] }), (e: unknown) => e instanceof CodecError && e.path === '.pts[1].x');
  const partial = c.decode(c.encode({ td: 1n }));
  assert.equal(partial.td, 1n);
  assert.equal(partial.name, '');
  assert.equal(btfCodec(btf, rich), btfCodec(btf, rich), 'codecs are cached per BTF and type');
});

test('BTF codecs: a fixed-up DATASEC decodes to its variables at their offsets', () => {
  const b = new BtfBuilder();
  const u32t = b.add({ kind: BtfKind.INT, name: 'unsigned int', size: 4, encoding: 0, bitsOffset: 0, bits: 32 });
  const u64t = b.add({ kind: BtfKind.INT, name: 'unsigned long long', size: 8, encoding: 0, bitsOffset: 0, bits: 64 });
  const pid = b.add({ kind: BtfKind.VAR, name: 'target_pid', type: u32t, linkage: 1 });
  const seen = b.add({ kind: BtfKind.VAR, name: 'seen', type: u64t, linkage: 1 });
  const sec = b.add({ kind: BtfKind.DATASEC, name: '.data', size: 16, vars: [{ type: pid, offset: 0, size: 4 }, { type: seen, offset: 8, size: 8 }] });
  const c = btfCodec<{ target_pid: number; seen: bigint }>(parseBtf(b.finish()), sec);
  assert.equal(c.size, 16);
  const bytes16 = c.encode({ target_pid: 5, seen: 9n });
  assert.deepEqual([...bytes16], [5, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(c.decode(bytes16), { target_pid: 5, seen: 9n });
});
