/**
 * CO-RE relocations between hand-built local and target BTF (BtfBuilder): every relocation kind,
 * every instruction form libbpf patches, the layouts CO-RE exists for (moved, resized, renamed
 * behind a flavour, missing fields; anonymous structs/unions; arrays and flexible arrays;
 * bitfields in both byte orders; typedef chains; 32- and 64-bit enums) and libbpf's failure
 * modes. Expected numbers are worked out by hand from the layouts below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Instruction } from '../../src/asm/index.js';
import {
  applyCoreRelocations,
  BtfBuilder,
  BtfKind,
  CoreRelocationError,
  CoreReloKind as K,
  parseBtf,
  type Btf,
  type BtfMember,
  type BtfType,
  type CoreRelo,
} from '../../src/btf/index.js';
import { CORE_POISON_IMM, essentialName, typesMatch } from '../../src/btf/core/index.js';
import { FormatError } from '../../src/errors.js';

// ---- tiny BTF DSL -------------------------------------------------------------------------

const int = (name: string, size: number, signed: boolean): BtfType => ({ kind: BtfKind.INT, name, size, encoding: signed ? 1 : 0, bitsOffset: 0, bits: size * 8 });
const ptr = (type: number): BtfType => ({ kind: BtfKind.PTR, name: '', type });
const typedef = (name: string, type: number): BtfType => ({ kind: BtfKind.TYPEDEF, name, type });
const array = (type: number, nelems: number, indexType = 1): BtfType => ({ kind: BtfKind.ARRAY, name: '', type, indexType, nelems });
const m = (name: string, type: number, bitOffset: number, bitfieldSize = 0): BtfMember => ({ name, type, bitOffset, bitfieldSize });
const struct = (name: string, size: number, members: BtfMember[]): BtfType => ({ kind: BtfKind.STRUCT, name, size, members });
const union = (name: string, size: number, members: BtfMember[]): BtfType => ({ kind: BtfKind.UNION, name, size, members });
const enum32 = (name: string, values: Array<[string, number]>, signed = false, size = 4): BtfType => ({
  kind: BtfKind.ENUM, name, size, signed, values: values.map(([n, value]) => ({ name: n, value })),
});
const enum64 = (name: string, values: Array<[string, bigint]>, signed = false): BtfType => ({
  kind: BtfKind.ENUM64, name, size: 8, signed, values: values.map(([n, value]) => ({ name: n, value })),
});
const fwd = (name: string, isUnion = false): BtfType => ({ kind: BtfKind.FWD, name, union: isUnion });

/** Builds BTF from named types; returns the parsed blob and the id of each name given. */
function build(types: Array<[string, BtfType]>, littleEndian = true): { btf: Btf; id: Record<string, number> } {
  const b = new BtfBuilder();
  const id: Record<string, number> = {};
  for (const [key, t] of types) id[key] = b.add(t);
  return { btf: parseBtf(b.finish({ littleEndian })), id };
}

// Ids are positional, so types refer to later ones by number: the comments give each id.
// ---- local BTF: what the BPF program was compiled against ----------------------------------
const local = build([
  ['int', int('int', 4, true)], // 1
  ['uint', int('unsigned int', 4, false)], // 2
  ['char', { kind: BtfKind.INT, name: 'char', size: 1, encoding: 1, bitsOffset: 0, bits: 8 }], // 3
  ['long', int('long', 8, true)], // 4
  ['comm', array(3, 16)], // 5: char[16]
  ['task_ptr', ptr(7)], // 6
  // 7: 56 bytes
  ['task', struct('task_struct', 56, [
    m('pid', 1, 0), // 0
    m('tgid', 1, 32), // 1
    m('real_parent', 6, 64), // 2
    m('comm', 5, 128), // 3
    m('flags', 2, 256, 3), // 4: bitfield
    m('prio', 1, 259, 7), // 5: bitfield
    m('nr', 2, 288), // 6: u32 at 36
    m('weight', 1, 320), // 7: int at 40
    m('', 8, 384), // 8: anonymous union at 48
  ])],
  ['state_union', union('', 8, [m('state', 4, 0), m('__state', 2, 0)])], // 8
  ['task_old', struct('task_struct___old', 8, [m('state', 4, 0)])], // 9
  ['task_t', typedef('task_t', 7)], // 10
  ['missing', struct('no_such_struct', 4, [m('x', 1, 0)])], // 11
  ['data', array(3, 0)], // 12: char[]
  ['buf', struct('buf', 4, [m('len', 1, 0), m('data', 12, 32)])], // 13
  ['inner', struct('inner', 4, [m('v', 1, 0)])], // 14
  ['inner_t', typedef('inner_t', 14)], // 15
  ['outer', struct('outer', 8, [m('pad', 1, 0), m('in', 15, 32)])], // 16
  ['pid_type', enum32('pid_type', [['PIDTYPE_SID', 1], ['PIDTYPE_MAX', 2], ['PIDTYPE_GONE', 7], ['PIDTYPE_NEG___v2', 9]])], // 17
  ['big', enum64('big', [['BIG_A', 0x100000000n], ['BIG_B', 2n]])], // 18
  ['list_ptr', ptr(20)], // 19
  ['list_head', struct('list_head', 16, [m('next', 19, 0), m('prev', 19, 64)])], // 20
  ['pair', struct('pair', 8, [m('a', 1, 0), m('b', 2, 32)])], // 21
  ['opaque', fwd('opaque')], // 22
  ['opaque_ptr', ptr(22)], // 23
  ['holder', struct('holder', 8, [m('p', 23, 0)])], // 24
  ['int4', array(1, 4)], // 25
  ['arr', struct('arr', 16, [m('x', 25, 0)])], // 26
  ['small_enum', enum32('small', [['S_A', 0]])], // 27
  ['anon', struct('', 4, [m('x', 1, 0)])], // 28
  ['foo', struct('foo', 8, [m('a', 1, 0), m('b', 1, 32)])], // 29
  ['bar', struct('bar', 12, [m('x', 1, 0), m('y', 1, 32), m('z', 1, 64)])], // 30
  ['wide', struct('wide', 16, [m('w', 4, 0, 63)])], // 31: a 63-bit bitfield
]);

// ---- target BTF: the "kernel" ---------------------------------------------------------------
function targetTypes(): Array<[string, BtfType]> {
  return [
    ['int', int('int', 4, true)], // 1
    ['uint', int('unsigned int', 4, false)], // 2
    ['char', { kind: BtfKind.INT, name: 'char', size: 1, encoding: 1, bitsOffset: 0, bits: 8 }], // 3
    ['long', int('long', 8, true)], // 4
    ['ulong', int('unsigned long', 8, false)], // 5
    ['comm', array(3, 32)], // 6: char[32]
    ['task_ptr', ptr(8)], // 7
    // 8: 96 bytes; pid and tgid moved into an anonymous struct, 'state' gone
    ['task', struct('task_struct', 96, [
      m('__pad', 4, 0), // 0
      m('comm', 6, 64), // 1: at 8
      m('', 9, 320), // 2: anonymous struct at 40
      m('real_parent', 7, 384), // 3: at 48
      m('flags', 2, 520, 3), // 4: byte 65
      m('prio', 1, 540, 7), // 5: byte 67, bit 4: needs an 8-byte load
      m('nr', 5, 576), // 6: unsigned long at 72
      m('weight', 4, 640), // 7: long at 80
      m('__state', 2, 704), // 8: at 88
    ])],
    ['ids', struct('', 8, [m('tgid', 1, 0), m('pid', 1, 32)])], // 9
    ['inner_t2', typedef('inner_t', 8)], // 10: typedef inner_t -> (typedef chain) -> task_struct
    ['task_t', typedef('task_t', 10)], // 11
    ['data', array(3, 0)], // 12
    ['buf', struct('buf', 8, [m('len', 4, 0), m('data', 12, 64)])], // 13
    ['inner', struct('inner', 8, [m('junk', 1, 0), m('v', 1, 32)])], // 14
    ['inner_td', typedef('inner_t', 14)], // 15
    ['outer', struct('outer', 12, [m('pad', 1, 0), m('pad2', 1, 32), m('in', 15, 64)])], // 16
    ['pid_type', enum32('pid_type', [['PIDTYPE_PID', 0], ['PIDTYPE_SID', 3], ['PIDTYPE_MAX', 4], ['PIDTYPE_NEG', -5]], true)], // 17
    ['big', enum64('big', [['BIG_B', 7n], ['BIG_A', 0xfffffffffffffe00n]])], // 18
    ['list_ptr', ptr(20)], // 19
    ['list_head', struct('list_head', 16, [m('next', 19, 0), m('prev', 19, 64)])], // 20
    ['pair', struct('pair', 8, [m('a', 1, 0), m('b', 1, 32)])], // 21
    ['opaque', struct('opaque', 4, [m('q', 1, 0)])], // 22
    ['opaque_ptr', ptr(22)], // 23
    ['holder', struct('holder', 8, [m('p', 23, 0)])], // 24
    ['int8', array(1, 8)], // 25
    ['arr', struct('arr', 32, [m('x', 25, 0)])], // 26
    ['small_enum', enum64('small', [['S_A', 0n]])], // 27
    ['flavoured', struct('pair___2', 8, [m('a', 1, 0), m('b', 2, 32)])], // 28: a second candidate for 'pair'
    ['bar', struct('bar', 12, [m('x', 1, 0), m('z', 1, 32)])], // 29: no y
    ['bar2', struct('bar___v2', 12, [m('y', 1, 0), m('x', 1, 32)])], // 30: no z
    ['wide', struct('wide', 16, [m('w', 4, 4, 63)])], // 31: the 63 bits start at bit 4
  ];
}
const target = build(targetTypes());
const targetBe = build(targetTypes(), false);

// ---- instructions ---------------------------------------------------------------------------

const mov = (imm: number): Instruction => ({ code: 0xb7, dst: 1, src: 0, off: 0, imm }); // r1 = imm
const add = (imm: number): Instruction => ({ code: 0x07, dst: 1, src: 0, off: 0, imm }); // r1 += imm
const mov32 = (imm: number): Instruction => ({ code: 0xb4, dst: 1, src: 0, off: 0, imm }); // w1 = imm
const ldxw = (off: number): Instruction => ({ code: 0x61, dst: 0, src: 1, off, imm: 0 }); // r0 = *(u32 *)(r1 + off)
const ldxb = (off: number): Instruction => ({ code: 0x71, dst: 0, src: 1, off, imm: 0 });
const ldxdw = (off: number): Instruction => ({ code: 0x79, dst: 0, src: 1, off, imm: 0 });
const stxw = (off: number): Instruction => ({ code: 0x63, dst: 1, src: 2, off, imm: 0 }); // *(u32 *)(r1 + off) = r2
const stw = (off: number, imm: number): Instruction => ({ code: 0x62, dst: 1, src: 0, off, imm }); // *(u32 *)(r1 + off) = imm
const ld64 = (v: bigint): Instruction => {
  const u = BigInt.asUintN(64, v);
  return { code: 0x18, dst: 1, src: 0, off: 0, imm: Number(BigInt.asIntN(32, u)), imm2: Number(BigInt.asIntN(32, u >> 32n)) };
};
const EXIT: Instruction = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const POISON: Instruction = { code: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM };

const relo = (kind: number, typeId: number, accessStr: string): CoreRelo => ({ insnOff: 0, typeId, accessStr, kind });

/** Applies one relocation to a one-instruction program (plus exit) and returns the outcome. */
function one(insn: Instruction, kind: number, typeId: number, accessStr: string, to: Btf = target.btf, from: Btf = local.btf) {
  const { instructions, results } = applyCoreRelocations([insn, EXIT], [{ index: 0, relo: relo(kind, typeId, accessStr) }], from, to);
  assert.equal(results.length, 1);
  return { insn: instructions[0]!, all: instructions, r: results[0]! };
}

/** The CoreRelocationError that applying one relocation throws. */
function error(insn: Instruction, kind: number, typeId: number, accessStr: string, to: Btf = target.btf, index = 0): CoreRelocationError {
  const program = [EXIT, insn, EXIT];
  try {
    applyCoreRelocations(program, [{ index: index === 0 ? 1 : index, relo: relo(kind, typeId, accessStr) }], local.btf, to);
  } catch (err) {
    assert.ok(err instanceof CoreRelocationError, `expected a CoreRelocationError, got ${String(err)}`);
    assert.equal(err.index, index === 0 ? 1 : index);
    assert.equal(err.relo.accessStr, accessStr);
    return err;
  }
  assert.fail(`relocation ${accessStr} of kind ${kind} did not fail`);
}

const L = local.id;
const T = target.id;

// ---- field offsets -------------------------------------------------------------------------

test('FIELD_BYTE_OFFSET: a field moved into an anonymous struct, patched into ALU, LDX, STX and ST', () => {
  const a = one(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0');
  assert.deepEqual(a.insn, mov(44));
  assert.equal(a.r.localValue, 0n);
  assert.equal(a.r.targetValue, 44n);
  assert.equal(a.r.poisoned, false);
  assert.equal(a.r.description, 'struct task_struct::pid (0:2:1): byte offset 0 -> 44');

  assert.deepEqual(one(add(4), K.FIELD_BYTE_OFFSET, L.task!, '0:1').insn, add(40)); // tgid
  assert.deepEqual(one(mov32(4), K.FIELD_BYTE_OFFSET, L.task!, '0:1').insn, mov32(40));
  assert.deepEqual(one(ldxw(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0').insn, ldxw(44));
  assert.deepEqual(one(stxw(4), K.FIELD_BYTE_OFFSET, L.task!, '0:1').insn, stxw(40));
  assert.deepEqual(one(stw(4, 77), K.FIELD_BYTE_OFFSET, L.task!, '0:1').insn, stw(40, 77));
  // a pointer field: same size, LDX DW
  assert.deepEqual(one(ldxdw(8), K.FIELD_BYTE_OFFSET, L.task!, '0:2').insn, ldxdw(48));
  // the same relocation through a typedef of the root: candidates are typedefs named task_t
  assert.deepEqual(one(mov(4), K.FIELD_BYTE_OFFSET, L.task_t!, '0:1').insn, mov(40));
});

test('FIELD_BYTE_OFFSET: a root array index, array elements, a flexible array, a typedef chain in the path', () => {
  // p[2].pid: 2 * 56 + 0 locally, 2 * 96 + 44 on the target
  const r = one(mov(112), K.FIELD_BYTE_OFFSET, L.task!, '2:0');
  assert.deepEqual(r.insn, mov(236));
  assert.equal(r.r.description, 'struct task_struct[2]::pid (2:2:1): byte offset 112 -> 236');
  // comm[5]: the load size is the element's (1 byte)
  const c = one(ldxb(21), K.FIELD_BYTE_OFFSET, L.task!, '0:3:5');
  assert.deepEqual(c.insn, ldxb(13));
  assert.equal(c.r.description, 'struct task_struct::comm[5] (0:1:5): byte offset 21 -> 13');
  // buf.data[100]: a flexible array member takes any index
  assert.deepEqual(one(mov(104), K.FIELD_BYTE_OFFSET, L.buf!, '0:1:100').insn, mov(108));
  // outer.in.v where 'in' is a typedef (inner_t) of a struct that gained a member
  assert.deepEqual(one(mov(4), K.FIELD_BYTE_OFFSET, L.outer!, '0:1:0').insn, mov(12));
});

test('FIELD_BYTE_OFFSET with a size change: unsigned ints resize the load, signed ones are poisoned', () => {
  // nr: u32 -> unsigned long: LDX W becomes LDX DW
  const nr = one(ldxw(36), K.FIELD_BYTE_OFFSET, L.task!, '0:6');
  assert.deepEqual(nr.insn, ldxdw(72));
  assert.equal(nr.r.description, 'struct task_struct::nr (0:6): byte offset 36 -> 72, access size 4 -> 8');
  // the same for a store
  assert.deepEqual(one(stxw(36), K.FIELD_BYTE_OFFSET, L.task!, '0:6').insn, { ...stxw(72), code: 0x7b });
  // weight: int -> long cannot be loaded with another size: poisoned
  const w = one(ldxw(40), K.FIELD_BYTE_OFFSET, L.task!, '0:7');
  assert.deepEqual(w.insn, POISON);
  assert.equal(w.r.poisoned, true);
  assert.equal(w.r.localValue, 40n);
  assert.match(w.r.description, /byte offset 40 -> poisoned \(the field's size changes from 4 to 8 bytes/);
  // an ALU use of the same relocation has no size to adjust
  assert.deepEqual(one(mov(40), K.FIELD_BYTE_OFFSET, L.task!, '0:7').insn, mov(80));
  // the load size must be the one the local field implies
  assert.match(error(ldxdw(36), K.FIELD_BYTE_OFFSET, L.task!, '0:6').reason, /unexpected memory access size: the instruction accesses 8 bytes, the field is 4/);
});

test('field missing on the target: FIELD_EXISTS is 0, the other field kinds poison the instruction', () => {
  // state lives in an anonymous union locally (0:8:0) and is gone on the target
  const gone = one(mov(48), K.FIELD_BYTE_OFFSET, L.task!, '0:8:0');
  assert.deepEqual(gone.insn, POISON);
  assert.deepEqual(gone.r, {
    index: 0, kind: K.FIELD_BYTE_OFFSET, accessStr: '0:8:0', localValue: 48n, targetValue: 0n, poisoned: true,
    description: 'struct task_struct::state (0:8:0): byte offset 48 -> poisoned (field not found in the target)',
  });
  assert.deepEqual(one(mov(1), K.FIELD_EXISTS, L.task!, '0:8:0').insn, mov(0));
  assert.deepEqual(one(ldxdw(48), K.FIELD_BYTE_OFFSET, L.task!, '0:8:0').insn, POISON);
  assert.deepEqual(one(mov(8), K.FIELD_BYTE_SIZE, L.task!, '0:8:0').insn, POISON);
  // __state, the other member of the same anonymous union, exists (at 88)
  assert.deepEqual(one(ldxw(48), K.FIELD_BYTE_OFFSET, L.task!, '0:8:1').insn, ldxw(88));
  assert.deepEqual(one(mov(1), K.FIELD_EXISTS, L.task!, '0:8:1').insn, mov(1));
  // a flavour: task_struct___old matches task_struct, which has no 'state'
  assert.deepEqual(one(mov(1), K.FIELD_EXISTS, L.task_old!, '0:0').insn, mov(0));
  assert.deepEqual(one(mov(0), K.FIELD_BYTE_OFFSET, L.task_old!, '0:0').insn, POISON);
  // an array index beyond the target array's length: no match
  assert.deepEqual(one(mov(12), K.FIELD_BYTE_OFFSET, L.arr!, '0:0:3').insn, mov(12));
  const small = build([
    ['int', int('int', 4, true)],
    ['int2', array(1, 2)],
    ['arr', struct('arr', 8, [m('x', 2, 0)])],
  ]);
  assert.deepEqual(one(mov(12), K.FIELD_BYTE_OFFSET, L.arr!, '0:0:3', small.btf).insn, POISON);
  // a poisoned instruction of any class is replaced, even one that could not be patched
  assert.deepEqual(one(EXIT, K.FIELD_BYTE_OFFSET, L.task!, '0:8:0').insn, POISON);
});

test('FIELD_BYTE_SIZE, FIELD_EXISTS, FIELD_SIGNED on plain fields and arrays', () => {
  assert.deepEqual(one(mov(16), K.FIELD_BYTE_SIZE, L.task!, '0:3').insn, mov(32)); // char[16] -> char[32]
  assert.deepEqual(one(mov(1), K.FIELD_BYTE_SIZE, L.task!, '0:3:2').insn, mov(1)); // an element
  assert.deepEqual(one(mov(4), K.FIELD_BYTE_SIZE, L.task!, '0:6').insn, mov(8)); // u32 -> unsigned long
  assert.deepEqual(one(mov(1), K.FIELD_EXISTS, L.task!, '0:0').insn, mov(1));
  assert.deepEqual(one(mov(1), K.FIELD_SIGNED, L.task!, '0:7').insn, mov(1)); // int -> long
  assert.deepEqual(one(mov(0), K.FIELD_SIGNED, L.task!, '0:6').insn, mov(0)); // unsigned
  // FIELD_SIGNED is checked against the instruction
  assert.match(error(mov(0), K.FIELD_SIGNED, L.task!, '0:7').reason, /unexpected insn value \(ALU\/ALU64 imm\): got 0, expected 1 -> 1/);
  // signedness of an enum-typed field follows the enum's kflag
  const e = build([
    ['int', int('int', 4, true)],
    ['e', enum32('e', [['A', -1]], true)],
    ['u', enum32('u', [['B', 1]])],
    ['s', struct('holds_enum', 8, [m('v', 2, 0), m('w', 3, 32)])],
  ]);
  assert.deepEqual(one(mov(1), K.FIELD_SIGNED, e.id.s!, '0:0', e.btf, e.btf).insn, mov(1));
  assert.deepEqual(one(mov(0), K.FIELD_SIGNED, e.id.s!, '0:1', e.btf, e.btf).insn, mov(0));
});

test('bitfields: offset, size, shifts and signedness follow the target layout, in either byte order', () => {
  // flags: 3 bits, unsigned int at bit 256 locally (byte 32), at bit 520 on the target (byte 65)
  const flags = (kind: number, imm: number, to = target.btf) => one(mov(imm), kind, L.task!, '0:4', to);
  assert.deepEqual(flags(K.FIELD_BYTE_OFFSET, 32).insn, mov(64));
  assert.deepEqual(flags(K.FIELD_BYTE_SIZE, 4).insn, mov(4));
  assert.deepEqual(flags(K.FIELD_LSHIFT_U64, 61).insn, mov(53)); // 64 - (520 + 3 - 512)
  assert.deepEqual(flags(K.FIELD_RSHIFT_U64, 61).insn, mov(61));
  assert.deepEqual(flags(K.FIELD_SIGNED, 0).insn, mov(0));
  // big-endian: (8 - 4) * 8 + (520 - 512)
  assert.deepEqual(flags(K.FIELD_LSHIFT_U64, 61, targetBe.btf).insn, mov(40));
  // the compiler's offset/size/shift for a bitfield is not checked (libbpf's validate=false)
  const unchecked = flags(K.FIELD_BYTE_OFFSET, 31);
  assert.deepEqual(unchecked.insn, mov(64));
  assert.equal(unchecked.r.localValue, 31n, 'localValue is what the instruction held');
  // but the right shift is
  assert.match(error(mov(60), K.FIELD_RSHIFT_U64, L.task!, '0:4').reason, /got 60, expected 61 -> 61/);

  // prio: 7 signed bits at 259 (byte 32) locally; at 540 on the target, where 4 bytes from byte 64
  // cannot hold bits 540..546, so the load doubles to 8 bytes
  const prio = (kind: number, imm: number) => one(mov(imm), kind, L.task!, '0:5');
  assert.deepEqual(prio(K.FIELD_BYTE_OFFSET, 32).insn, mov(64));
  assert.deepEqual(prio(K.FIELD_BYTE_SIZE, 4).insn, mov(8));
  assert.deepEqual(prio(K.FIELD_LSHIFT_U64, 54).insn, mov(29)); // 64 - (540 + 7 - 512)
  assert.deepEqual(prio(K.FIELD_RSHIFT_U64, 57).insn, mov(57));
  assert.deepEqual(prio(K.FIELD_SIGNED, 1).insn, mov(1));
  // a bitfield too wide for any single 64-bit load on the target is an error
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.wide!, '0:0').reason, /cannot be read with one 64-bit load/);
});

// ---- types ---------------------------------------------------------------------------------

test('TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET, TYPE_ID_LOCAL: present, through typedef chains, and missing', () => {
  assert.deepEqual(one(mov(1), K.TYPE_EXISTS, L.task!, '0').insn, mov(1));
  assert.deepEqual(one(mov(56), K.TYPE_SIZE, L.task!, '0').insn, mov(96));
  const id = one(ld64(BigInt(L.task!)), K.TYPE_ID_TARGET, L.task!, '0');
  assert.deepEqual(id.insn, ld64(BigInt(T.task!)));
  assert.equal(id.r.description, `struct task_struct (target [${T.task}]): target type id ${L.task} -> ${T.task}`);
  // typedef task_t: locally -> struct; on the target -> typedef inner_t -> struct
  assert.deepEqual(one(mov(1), K.TYPE_EXISTS, L.task_t!, '0').insn, mov(1));
  assert.deepEqual(one(mov(56), K.TYPE_SIZE, L.task_t!, '0').insn, mov(96));
  assert.deepEqual(one(ld64(BigInt(L.task_t!)), K.TYPE_ID_TARGET, L.task_t!, '0').insn, ld64(BigInt(T.task_t!)));
  // missing types: 0, never poisoned
  for (const [kind, insn] of [[K.TYPE_EXISTS, mov(1)], [K.TYPE_SIZE, mov(4)], [K.TYPE_ID_TARGET, ld64(11n)], [K.TYPE_MATCHES, mov(1)]] as const) {
    const r = one(insn, kind, L.missing!, '0');
    assert.equal(r.r.poisoned, false);
    assert.equal(r.r.targetValue, 0n);
    assert.deepEqual(r.insn, insn.code === 0x18 ? ld64(0n) : mov(0));
  }
  // the target type id is not checked against the instruction (linking renumbers types)
  assert.deepEqual(one(ld64(12345n), K.TYPE_ID_TARGET, L.task!, '0').insn, ld64(BigInt(T.task!)));
  // the local type id is patched in as it is, also unchecked
  const loc = one(ld64(999n), K.TYPE_ID_LOCAL, L.task!, '0');
  assert.deepEqual(loc.insn, ld64(BigInt(L.task!)));
  assert.equal(loc.r.localValue, 999n);
  assert.equal(loc.r.targetValue, BigInt(L.task!));
  assert.deepEqual(one(mov(L.pair!), K.TYPE_ID_LOCAL, L.pair!, '0').insn, mov(L.pair!));
  // a struct whose members differ is still compatible for TYPE_EXISTS (compat ignores members)
  assert.deepEqual(one(mov(1), K.TYPE_EXISTS, L.arr!, '0').insn, mov(1));
});

test('TYPE_MATCHES: libbpf\'s strict type matching', () => {
  const matches = (key: string) => one(mov(1), K.TYPE_MATCHES, L[key]!, '0').insn.imm;
  assert.equal(matches('list_head'), 1, 'identical self-referencing struct');
  assert.equal(matches('pair'), 1, 'pair does not match (member b: unsigned int vs int) but its flavour pair___2 does');
  assert.equal(one(mov(1), K.TYPE_MATCHES, L.pair!, '0').r.description, `struct pair (target [${T.flavoured}]): type matches 1 -> 1`);
  const onlyPair = build([['int', int('int', 4, true)], ['pair', struct('pair', 8, [m('a', 1, 0), m('b', 1, 32)])]]);
  assert.equal(one(mov(1), K.TYPE_MATCHES, L.pair!, '0', onlyPair.btf).insn.imm, 0, 'unsigned int vs int');
  assert.equal(matches('holder'), 1, 'a pointer to a forward declaration matches a pointer to the struct');
  assert.equal(matches('arr'), 0, 'int[4] vs int[8]');
  assert.equal(matches('pid_type'), 0, 'PIDTYPE_GONE has no counterpart');
  assert.equal(matches('small_enum'), 0, 'enum of 4 bytes vs enum64 of 8');
  assert.equal(matches('big'), 1, 'enum64: names match, values are ignored');
  assert.equal(matches('task_t'), 0, 'the struct members differ');
  // directly: enum vs enum64 of the same size, and the name rule
  const a = build([['e', enum32('e', [['X', 1]], false, 8)]]);
  const b = build([['e', enum64('e', [['Y', 0n], ['X', 5n]])], ['f', enum64('f', [['X', 0n]])]]);
  assert.equal(typesMatch(a.btf, 1, b.btf, 1), true);
  assert.equal(typesMatch(a.btf, 1, b.btf, 2), false, 'names must match at the root');
});

// ---- enums ---------------------------------------------------------------------------------

test('ENUMVAL_EXISTS and ENUMVAL_VALUE: moved values, flavoured names, missing enumerators, 64-bit and negative values', () => {
  const sid = one(ld64(1n), K.ENUMVAL_VALUE, L.pid_type!, '0');
  assert.deepEqual(sid.insn, ld64(3n));
  assert.equal(sid.r.description, `enum pid_type::PIDTYPE_SID (target [${T.pid_type}]): enum value 1 -> 3`);
  assert.deepEqual(one(mov(2), K.ENUMVAL_VALUE, L.pid_type!, '1').insn, mov(4));
  assert.deepEqual(one(ld64(1n), K.ENUMVAL_EXISTS, L.pid_type!, '0').insn, ld64(1n));
  // PIDTYPE_NEG___v2 matches PIDTYPE_NEG (flavour), a signed -5: sign-extended to 64 bits
  const neg = one(ld64(9n), K.ENUMVAL_VALUE, L.pid_type!, '3');
  assert.deepEqual(neg.insn, ld64(-5n));
  assert.equal(neg.r.targetValue, 2n ** 64n - 5n);
  // missing enumerator: exists -> 0, value -> poison of both ld_imm64 slots
  assert.deepEqual(one(ld64(1n), K.ENUMVAL_EXISTS, L.pid_type!, '2').insn, ld64(0n));
  const gone = one(ld64(7n), K.ENUMVAL_VALUE, L.pid_type!, '2');
  assert.deepEqual(gone.all, [POISON, POISON, EXIT], 'ld_imm64 keeps its two slots as two poison calls');
  assert.equal(gone.r.poisoned, true);
  assert.equal(gone.r.description, 'enum pid_type::PIDTYPE_GONE: enum value 7 -> poisoned (enumerator not found in the target)');
  // 64-bit enums
  const big = one(ld64(0x100000000n), K.ENUMVAL_VALUE, L.big!, '0');
  assert.deepEqual(big.insn, { code: 0x18, dst: 1, src: 0, off: 0, imm: -512, imm2: -1 });
  assert.equal(big.r.targetValue, 0xfffffffffffffe00n);
  assert.deepEqual(one(ld64(2n), K.ENUMVAL_VALUE, L.big!, '1').insn, ld64(7n));
  // a 32-bit local enum against a target ENUM64
  assert.deepEqual(one(mov(0), K.ENUMVAL_VALUE, L.small_enum!, '0').insn, mov(0));
  // a whole missing enum type
  const other = build([['e', enum32('other', [['Z', 1]])]]);
  assert.deepEqual(one(mov(1), K.ENUMVAL_EXISTS, 1, '0', target.btf, other.btf).insn, mov(0));
});

// ---- candidates ----------------------------------------------------------------------------

test('candidates: essential names, ambiguity, and libbpf\'s pruning of the candidate list', () => {
  assert.equal(essentialName('task_struct___old'), 'task_struct');
  assert.equal(essentialName('a___b___c'), 'a___b');
  assert.equal(essentialName('a____b'), 'a____b');
  assert.equal(essentialName('___x'), '___x');

  // two candidates that disagree on the field's offset
  const two = build([
    ['int', int('int', 4, true)],
    ['foo', struct('foo', 8, [m('a', 1, 0), m('b', 1, 32)])],
    ['foo2', struct('foo___v2', 8, [m('b', 1, 0), m('a', 1, 32)])],
  ]);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.foo!, '0:0', two.btf).reason, /field offset ambiguity/);
  // ...or agree: fine, whatever else differs
  const agree = build([
    ['int', int('int', 4, true)],
    ['foo', struct('foo', 8, [m('a', 1, 0), m('b', 1, 32)])],
    ['foo2', struct('foo___v2', 16, [m('a', 1, 0), m('b', 1, 32), m('c', 1, 64)])],
  ]);
  assert.deepEqual(one(mov(4), K.FIELD_BYTE_OFFSET, L.foo!, '0:1', agree.btf).insn, mov(4));
  // same offset but different values: TYPE_SIZE of two candidates
  assert.match(error(mov(8), K.TYPE_SIZE, L.foo!, '0', agree.btf).reason, /relocation decision ambiguity/);

  // Pruning: bar.y only matches bar___v2, so bar's list shrinks to [bar___v2] and bar.z, which
  // only the pruned-away candidate has, is then not found (libbpf shares one pruned candidate
  // list per local type).
  const relos = [
    { index: 0, relo: relo(K.FIELD_BYTE_OFFSET, L.bar!, '0:1') }, // y
    { index: 1, relo: relo(K.FIELD_BYTE_OFFSET, L.bar!, '0:2') }, // z
  ];
  const { instructions, results } = applyCoreRelocations([mov(4), mov(8), EXIT], relos, local.btf, target.btf);
  assert.deepEqual(instructions, [mov(0), POISON, EXIT]);
  assert.deepEqual(results.map((r) => r.poisoned), [false, true]);
  // in the other order, z matches bar (and prunes to it), then y is not found
  const reversed = applyCoreRelocations([mov(8), mov(4), EXIT], [
    { index: 0, relo: relo(K.FIELD_BYTE_OFFSET, L.bar!, '0:2') },
    { index: 1, relo: relo(K.FIELD_BYTE_OFFSET, L.bar!, '0:1') },
  ], local.btf, target.btf);
  assert.deepEqual(reversed.instructions, [mov(4), POISON, EXIT]);
});

test('split target BTF: base (vmlinux) candidates win over the module\'s', () => {
  const base = build([['int', int('int', 4, true)], ['foo', struct('foo', 8, [m('b', 1, 0), m('a', 1, 32)])]]);
  const mod = new BtfBuilder({ base: base.btf });
  mod.add(struct('foo', 12, [m('x', 1, 0), m('y', 1, 32), m('a', 1, 64)]));
  mod.add(struct('only_in_module', 4, [m('a', 1, 0)]));
  const split = parseBtf(mod.finish(), { base: base.btf });
  assert.deepEqual(one(mov(0), K.FIELD_BYTE_OFFSET, L.foo!, '0:0', split).insn, mov(4), 'base foo.a, not the module\'s');
  const onlyMod = build([['int', int('int', 4, true)], ['s', struct('only_in_module', 4, [m('a', 1, 0)])]]);
  assert.deepEqual(one(mov(1), K.TYPE_ID_TARGET, 2, '0', split, onlyMod.btf).insn, mov(4), 'module types are searched when the base has none');
});

// ---- programs ------------------------------------------------------------------------------

test('several relocations in one program: the input is not modified; a poisoned ld_imm64 adds one element', () => {
  const program = [mov(0), ld64(7n), ldxw(4), EXIT];
  const copy = structuredClone(program);
  const { instructions, results } = applyCoreRelocations(program, [
    { index: 0, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:0') },
    { index: 1, relo: relo(K.ENUMVAL_VALUE, L.pid_type!, '2') },
    { index: 2, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:1') },
  ], local.btf, target.btf);
  assert.deepEqual(program, copy);
  assert.deepEqual(instructions, [mov(44), POISON, POISON, ldxw(40), EXIT]);
  assert.deepEqual(results.map((r) => [r.index, r.poisoned]), [[0, false], [1, true], [2, false]]);
});

// ---- errors --------------------------------------------------------------------------------

test('malformed relocations are CoreRelocationErrors with the instruction index', () => {
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:x').reason, /not colon-separated non-negative numbers/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '').reason, /not colon-separated/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, ':1').reason, /not colon-separated/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:99').reason, /member index 99 \(step 1\) is out of range: struct task_struct has 9 members/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:3:16').reason, /array index 16 \(step 2\) is out of range: the array has 16 elements/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0:1').reason, /indexes into int, which has neither members nor elements/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, Array(65).fill('0').join(':')).reason, /longer than 64 steps/);
  assert.match(error(mov(1), K.TYPE_EXISTS, L.task!, '0:1').reason, /must have access string '0'/);
  assert.match(error(mov(1), K.ENUMVAL_VALUE, L.pid_type!, '4').reason, /enumerator index 4 is out of range/);
  assert.match(error(mov(1), K.ENUMVAL_VALUE, L.task!, '0').reason, /not an enum/);
  assert.match(error(mov(1), 13, L.task!, '0').reason, /unknown relocation kind 13/);
  assert.match(error(mov(1), K.TYPE_EXISTS, 5000, '0').reason, /local type id 5000 does not exist/);
  assert.match(error(mov(0), K.FIELD_BYTE_OFFSET, L.anon!, '0:0').reason, /anonymous types are not supported/);
  const e = error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:99');
  assert.equal(e.name, 'CoreRelocationError');
  assert.match(e.message, /^CO-RE relocation <byte_off> \[7\] '0:99' at instruction 1: member index 99/);
});

test('instructions that cannot take the relocation are CoreRelocationErrors', () => {
  // instruction index outside the program
  assert.throws(
    () => applyCoreRelocations([EXIT], [{ index: 3, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:0') }], local.btf, target.btf),
    (err: unknown) => err instanceof CoreRelocationError && err.index === 3 && /outside the program \(1 instructions\)/.test(err.reason),
  );
  assert.match(error(EXIT, K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /cannot relocate instruction with opcode 0x95 \(class JMP\)/);
  assert.match(error({ code: 0x16, dst: 1, src: 0, off: 2, imm: 0 }, K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /class JMP32/);
  assert.match(error({ code: 0xbf, dst: 1, src: 2, off: 0, imm: 0 }, K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /register source/);
  assert.match(error({ code: 0x20, dst: 0, src: 0, off: 0, imm: 0 }, K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /only a plain ld_imm64/);
  assert.match(error({ ...ld64(0n), src: 2 }, K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /only a plain ld_imm64/);
  // the compiler's value must be the local one
  assert.match(error(mov(5), K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /unexpected insn value \(ALU\/ALU64 imm\): got 5, expected 0 -> 44/);
  assert.match(error(ldxw(8), K.FIELD_BYTE_OFFSET, L.task!, '0:0').reason, /unexpected insn value \(LDX\/ST\/STX off\): got 8, expected 0 -> 44/);
  assert.match(error(ld64(2n), K.ENUMVAL_VALUE, L.pid_type!, '0').reason, /unexpected insn value \(LDIMM64\): got 2, expected 1 -> 3/);
  // an offset the 16-bit field cannot hold
  const huge = build([['int', int('int', 4, true)], ['arr', array(1, 20000)], ['task', struct('task_struct', 80004, [m('pad', 2, 0), m('pid', 1, 640000)])]]);
  assert.match(error(ldxw(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0', huge.btf).reason, /value 80000 is too big for the 16-bit offset/);
  // the same relocation patched into an ALU immediate is fine
  assert.deepEqual(one(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0', huge.btf).insn, mov(80000));
});

test('malformed BTF met while matching is a CoreRelocationError, not a crash', () => {
  // the target's task_struct.pid has a typedef cycle for a type
  const cyclic = build([
    ['int', int('int', 4, true)],
    ['l1', typedef('l1', 3)],
    ['l2', typedef('l2', 2)],
    ['task', struct('task_struct', 4, [m('pid', 2, 0)])],
  ]);
  const err = error(mov(0), K.FIELD_BYTE_OFFSET, L.task!, '0:0', cyclic.btf);
  assert.match(err.reason, /BTF: type \[\d+\]: typedef\/qualifier chain is cyclic/);
  assert.ok(err.cause instanceof Error);
});

test('property: random records and instructions give results or CoreRelocationErrors, never other exceptions', () => {
  const forms = [mov(0), add(8), mov32(1), ldxw(4), ldxdw(8), ldxb(21), stxw(4), stw(4, 1), ld64(1n), ld64(5n), EXIT, { code: 0xbf, dst: 1, src: 2, off: 0, imm: 0 }];
  const index = fc.integer({ min: 0, max: 20 }).map((n) => Array.from({ length: n % 4 }, () => n % 3).concat([n]).join(':'));
  const accessStr = fc.oneof(index, fc.constantFrom('0', '', ':', '0:', '1:2:3', '0:3:15', '0:8:1', '4294967296'));
  const record = fc.record({
    kind: fc.integer({ min: 0, max: 14 }),
    typeId: fc.integer({ min: 0, max: 40 }),
    accessStr,
    at: fc.integer({ min: 0, max: forms.length }),
  });
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.boolean(), (records, big) => {
      const program = forms.map((f) => ({ ...f }));
      const relos = records.map((r) => ({ index: r.at, relo: relo(r.kind, r.typeId, r.accessStr) }));
      try {
        const { instructions, results } = applyCoreRelocations(program, relos, local.btf, big ? targetBe.btf : target.btf);
        assert.equal(results.length, relos.length);
        assert.ok(instructions.length >= program.length);
      } catch (err) {
        if (!(err instanceof CoreRelocationError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: a mutated target BTF gives results or CoreRelocationErrors, never other exceptions', () => {
  const bytes = new BtfBuilder();
  for (const [, t] of targetTypes()) bytes.add(t);
  const good = bytes.finish();
  const program = [mov(0), mov(4), ldxw(36), mov(32), mov(61), ld64(1n), mov(56), ld64(BigInt(L.task!)), mov(1), mov(7), EXIT];
  const relos = [
    { index: 0, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:0') },
    { index: 1, relo: relo(K.FIELD_BYTE_OFFSET, L.outer!, '0:1:0') },
    { index: 2, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:6') },
    { index: 3, relo: relo(K.FIELD_BYTE_OFFSET, L.task!, '0:4') },
    { index: 4, relo: relo(K.FIELD_LSHIFT_U64, L.task!, '0:4') },
    { index: 5, relo: relo(K.ENUMVAL_VALUE, L.pid_type!, '0') },
    { index: 6, relo: relo(K.TYPE_SIZE, L.task_t!, '0') },
    { index: 7, relo: relo(K.TYPE_ID_TARGET, L.task!, '0') },
    { index: 8, relo: relo(K.TYPE_MATCHES, L.list_head!, '0') },
    { index: 9, relo: relo(K.FIELD_BYTE_OFFSET, L.buf!, '0:1:3') },
  ];
  assert.equal(applyCoreRelocations(program, relos, local.btf, parseBtf(good)).results.length, relos.length);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const mutated = new Uint8Array(good);
      for (const [at, v] of edits) mutated[at] = v;
      let btf: Btf;
      try {
        btf = parseBtf(mutated);
      } catch (err) {
        if (err instanceof FormatError) return;
        throw err;
      }
      try {
        applyCoreRelocations(program, relos, local.btf, btf);
      } catch (err) {
        if (!(err instanceof CoreRelocationError)) throw err;
      }
    }),
    { numRuns: 3000 },
  );
});
