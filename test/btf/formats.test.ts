/**
 * Differential tests of the raw and C dumps against bpftool 7.1 (the oracle), on the kernel's
 * BTF, on every clang-built fixture, on split BTF and on hand-built BTF with edge cases clang
 * does not produce. The C dump of vmlinux is compared too: it is byte-identical on this kernel;
 * should a kernel ever show a difference, the test prints the first differing line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfBuilder, BtfKind, parseBtf, writeC, writeRaw, formatRaw, formatC, type BtfType } from '../../src/btf/index.js';
import { OBJECTS, VMLINUX, bpftool, collect, fixture, have, objectBtf } from './fixtures.js';

function firstDiff(a: Buffer, b: Buffer): string {
  const al = a.toString('latin1').split('\n');
  const bl = b.toString('latin1').split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  tsbpf:   ${al[i]}\n  bpftool: ${bl[i]}`;
  }
  return 'equal';
}

function same(ours: Buffer, theirs: Buffer, what: string): void {
  if (!ours.equals(theirs)) assert.fail(`${what} differs from bpftool at ${firstDiff(ours, theirs)}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-btf-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('raw dump of /sys/kernel/btf/vmlinux is byte-identical to bpftool', () => {
  const btf = parseBtf(readFileSync(VMLINUX));
  same(collect((s) => writeRaw(btf, s)), bpftool(['btf', 'dump', 'file', VMLINUX]), 'vmlinux raw dump');
});

test('C dump of /sys/kernel/btf/vmlinux is byte-identical to bpftool', () => {
  const btf = parseBtf(readFileSync(VMLINUX));
  same(collect((s) => writeC(btf, s)), bpftool(['btf', 'dump', 'file', VMLINUX, 'format', 'c']), 'vmlinux C dump');
});

for (const obj of OBJECTS) {
  test(`raw and C dumps of ${obj} are byte-identical to bpftool`, () => {
    const btf = objectBtf(obj);
    same(collect((s) => writeRaw(btf, s)), bpftool(['btf', 'dump', 'file', fixture(obj)]), `${obj} raw`);
    same(collect((s) => writeC(btf, s)), bpftool(['btf', 'dump', 'file', fixture(obj), 'format', 'c']), `${obj} C`);
  });
}

/** Writes hand-built BTF to a file and compares both dumps with bpftool's. */
function againstBpftool(name: string, bytes: Uint8Array, base?: string, c = true): void {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const baseArgs = base ? ['-B', base] : [];
  const btf = parseBtf(bytes, base ? { base: parseBtf(readFileSync(base)) } : {});
  same(Buffer.from(formatRaw(btf), 'latin1'), bpftool(['btf', 'dump', 'file', file, ...baseArgs]), `${name} raw`);
  if (c) same(Buffer.from(formatC(btf)), bpftool(['btf', 'dump', 'file', file, ...baseArgs, 'format', 'c']), `${name} C`);
}

test('split BTF (-B base) dumps like bpftool', () => {
  const basePath = fixture('core.btf');
  const base = parseBtf(readFileSync(basePath));
  const b = new BtfBuilder({ base });
  const int = base.typeByName('int')!.id;
  const task = base.typeByName('task_struct')!.id;
  const ptr = b.add({ kind: BtfKind.PTR, name: '', type: task });
  b.add({ kind: BtfKind.STRUCT, name: 'mod_state', size: 16, members: [{ name: 'owner', type: ptr, bitOffset: 0, bitfieldSize: 0 }, { name: 'pid', type: int, bitOffset: 64, bitfieldSize: 0 }] });
  b.add({ kind: BtfKind.DATASEC, name: '.data', size: 4, vars: [{ type: int, offset: 0, size: 4 }] });
  againstBpftool('split.btf', b.finish(), basePath);
});

test('hand-built edge cases dump like bpftool (raw and C)', () => {
  const b = new BtfBuilder();
  const add = (t: BtfType) => b.add(t);
  const int = add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
  const uchar = add({ kind: BtfKind.INT, name: 'unsigned char', size: 1, encoding: 0, bitsOffset: 0, bits: 8 });
  add({ kind: BtfKind.INT, name: 'weird', size: 4, encoding: 3, bitsOffset: 2, bits: 7 }); // UNKN encoding
  const long = add({ kind: BtfKind.INT, name: 'long int', size: 8, encoding: 1, bitsOffset: 0, bits: 64 });
  // func proto with a single void parameter prints (void); varargs; unnamed params
  const fp1 = add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: int, params: [{ name: '', type: 0 }] });
  const fp2 = add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: 0, params: [{ name: 'fmt', type: uchar }, { name: '', type: 0 }] });
  add({ kind: BtfKind.FUNC, name: 'f1', type: fp1, linkage: 2 });
  add({ kind: BtfKind.FUNC, name: 'f_odd', type: fp1, linkage: 7 }); // (unknown) linkage
  const p1 = add({ kind: BtfKind.PTR, name: '', type: fp1 });
  const p2 = add({ kind: BtfKind.PTR, name: '', type: fp2 });
  // struct with holes, bitfields across units, trailing padding, a union, duplicate names
  add({
    kind: BtfKind.STRUCT, name: 'holes', size: 40, members: [
      { name: 'c', type: uchar, bitOffset: 0, bitfieldSize: 0 },
      { name: 'l', type: long, bitOffset: 64, bitfieldSize: 0 },
      { name: 'b1', type: int, bitOffset: 128, bitfieldSize: 3 },
      { name: 'b2', type: int, bitOffset: 160, bitfieldSize: 9 },
      { name: 'cb', type: p1, bitOffset: 192, bitfieldSize: 0 },
      { name: 'pf', type: p2, bitOffset: 256, bitfieldSize: 0 },
    ],
  });
  add({ kind: BtfKind.STRUCT, name: 'packed', size: 5, members: [{ name: 'c', type: uchar, bitOffset: 0, bitfieldSize: 0 }, { name: 'i', type: int, bitOffset: 8, bitfieldSize: 0 }] });
  add({ kind: BtfKind.UNION, name: 'u', size: 8, members: [{ name: 'i', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'l', type: long, bitOffset: 0, bitfieldSize: 0 }] });
  add({ kind: BtfKind.STRUCT, name: 'dup', size: 4, members: [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 0 }] });
  add({ kind: BtfKind.STRUCT, name: 'dup', size: 8, members: [{ name: 'y', type: long, bitOffset: 0, bitfieldSize: 0 }] });
  add({ kind: BtfKind.ENUM, name: 'e1', size: 4, signed: false, values: [{ name: 'A', value: 1 }, { name: 'B', value: 0xffffffff }] });
  add({ kind: BtfKind.ENUM, name: 'e2', size: 4, signed: true, values: [{ name: 'A', value: -5 }] }); // dup enumerator: A___2
  add({ kind: BtfKind.ENUM, name: '', size: 4, signed: false, values: [{ name: 'TOP_LEVEL_CONST', value: 3 }] });
  add({ kind: BtfKind.ENUM, name: 'empty_enum', size: 4, signed: false, values: [] });
  add({ kind: BtfKind.ENUM64, name: 'e64', size: 8, signed: false, values: [{ name: 'HUGE', value: 0xffffffffffffffffn }] });
  add({ kind: BtfKind.TYPEDEF, name: '__builtin_va_list', type: p1 });
  add({ kind: BtfKind.TYPEDEF, name: '__gnuc_va_list', type: 0 });
  add({ kind: BtfKind.TYPEDEF, name: '__Poly8_t', type: uchar });
  add({ kind: BtfKind.INT, name: '__Poly8_t', size: 1, encoding: 0, bitsOffset: 0, bits: 8 });
  const v = add({ kind: BtfKind.VAR, name: 'odd_var', type: int, linkage: 9 });
  const weird: BtfType = { kind: BtfKind.DATASEC, name: '.weird', size: 8, vars: [{ type: v, offset: 0, size: 4 }, { type: 0, offset: 4, size: 4 }, { type: 9999, offset: 4, size: 4 }] };
  const ds = add(weird);
  add({ kind: BtfKind.DECL_TAG, name: 'tag', type: int, componentIdx: -1, attribute: true });
  add({ kind: BtfKind.TYPE_TAG, name: 'ttag', type: int, attribute: true });
  add({ kind: BtfKind.FLOAT, name: 'double', size: 8 });
  add({ kind: BtfKind.VOLATILE, name: '', type: 0 });
  add({ kind: BtfKind.RESTRICT, name: '', type: p1 });
  add({ kind: BtfKind.ARRAY, name: '', type: p2, indexType: int, nelems: 0 });
  add({ kind: BtfKind.STRUCT, name: 'empty', size: 0, members: [] });
  add({ kind: BtfKind.STRUCT, name: 'pad_only', size: 8, members: [] });
  // a DATASEC var id past the end gets no (KIND 'name') suffix from bpftool; the builder refuses
  // such references, so build with a valid one and patch the bytes
  assert.throws(() => b.finish(), /refers to type id 9999/);
  weird.vars[2]!.type = 1;
  const patch = (bytes: Uint8Array, le: boolean): Uint8Array => {
    new DataView(bytes.buffer).setUint32(parseBtf(bytes).recordOffset(ds) + 12 + 24, 9999, le);
    return bytes;
  };
  againstBpftool('edge.btf', b.finish());
  againstBpftool('edge-be.btf', b.finish({ littleEndian: false }));
  // (the C dump rejects the dangling id with a FormatError where btf_dump.c reads out of bounds)
  againstBpftool('edge-dangling.btf', patch(b.finish(), true), undefined, false);
  againstBpftool('edge-dangling-be.btf', patch(b.finish({ littleEndian: false }), false), undefined, false);
});

test('invalid string offsets print (invalid) like bpftool', () => {
  const b = new BtfBuilder();
  b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
  b.add({ kind: BtfKind.PTR, name: '', type: 1 });
  const bytes = b.finish();
  new DataView(bytes.buffer).setUint32(24 + 16, 0x7fff, true); // PTR name_off past the strings
  const btf = parseBtf(bytes);
  assert.match(formatRaw(btf), /\[2\] PTR '\(invalid\)' type_id=1/);
  const file = join(tmp, 'invalid.btf');
  writeFileSync(file, bytes);
  same(Buffer.from(formatRaw(btf)), bpftool(['btf', 'dump', 'file', file]), 'invalid name raw');
});

test('--type style root ids: raw prints the types, C adds what they need', () => {
  const btf = objectBtf('types.o');
  const holder = btf.typeByName('holder')!.id;
  assert.equal(formatRaw(btf, { ids: [holder] }).split('\n')[0], `[${holder}] STRUCT 'holder' size=368 vlen=8`);
  const c = formatC(btf, { ids: [btf.typeByName('list_node')!.id] });
  assert.match(c, /struct holder;\n\nstruct list_node \{\n\tstruct list_node \*next;/);
  assert.ok(!c.includes('struct quals {'), 'only what list_node needs');
});

test('vmlinux.h from the C dump compiles with clang -target bpf', { skip: !have('clang') && 'clang is not installed' }, () => {
  const header = join(tmp, 'vmlinux.h');
  writeFileSync(header, collect((s) => writeC(parseBtf(readFileSync(VMLINUX)), s)));
  const prog = join(tmp, 'prog.bpf.c');
  writeFileSync(
    prog,
    '#include "vmlinux.h"\n' +
      'int comm_len(struct task_struct *t) { return sizeof(t->comm) + t->pid + (int)sizeof(struct sk_buff); }\n',
  );
  execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-c', prog, '-o', join(tmp, 'prog.o')], { stdio: 'pipe' });
});
