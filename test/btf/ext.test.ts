import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.js';
import {
  BtfBuilder,
  BtfExtBuilder,
  BtfKind,
  CoreReloKind,
  coreReloKindName,
  coreReloKindShortName,
  parseAccessString,
  parseBtf,
  parseBtfExt,
} from '../../src/btf/index.js';
import { objectBtf, section } from './fixtures.js';

test('core.o: func_info, line_info with source text, and every CO-RE relocation kind', () => {
  const btf = objectBtf('core.o');
  const ext = parseBtfExt(section('core.o', '.BTF.ext'), btf);
  const sec = 'tp/sched/sched_switch';
  assert.deepEqual([...ext.funcInfo.keys()], [sec]);
  const fi = ext.funcInfo.get(sec)!;
  assert.equal(fi.length, 1);
  assert.equal(btf.nameOf(fi[0]!.typeId), 'handle');
  assert.equal(btf.kindOf(fi[0]!.typeId), BtfKind.FUNC);
  const li = ext.lineInfo.get(sec)!;
  assert.ok(li.length > 10);
  assert.ok(li[0]!.fileName.endsWith('core.bpf.c'));
  assert.match(li[0]!.lineText, /bpf_get_current_task/);
  assert.ok(li[0]!.line > 30 && li[0]!.column > 0);
  const relos = ext.coreRelos.get(sec)!;
  const kinds = new Set(relos.map((r) => r.kind));
  assert.deepEqual([...kinds].sort((a, b) => a - b), Object.values(CoreReloKind), 'all 13 bpf_core_relo_kind values');
  const task = btf.typeByName('task_struct')!.id;
  const exists = relos.find((r) => r.kind === CoreReloKind.FIELD_EXISTS)!;
  assert.deepEqual([exists.typeId, exists.accessStr], [task, '0:1']);
  assert.ok(relos.some((r) => r.accessStr === '0:6:0'), 'access through the anonymous union');
  const enumval = relos.find((r) => r.kind === CoreReloKind.ENUMVAL_VALUE)!;
  assert.equal(btf.nameOf(enumval.typeId), 'task_state');
  assert.equal(enumval.accessStr, '1');
  assert.deepEqual(parseAccessString('0:6:0'), [0, 6, 0]);
});

test('clang 14 and big-endian objects have .BTF.ext too', () => {
  for (const obj of ['core-clang14.o', 'types-be.o', 'types.o']) {
    const ext = parseBtfExt(section(obj, '.BTF.ext'), objectBtf(obj));
    assert.ok(ext.funcInfo.size > 0 && ext.lineInfo.size > 0, obj);
  }
  const be = parseBtfExt(section('types-be.o', '.BTF.ext'), objectBtf('types-be.o'));
  const le = parseBtfExt(section('types.o', '.BTF.ext'), objectBtf('types.o'));
  assert.equal(be.littleEndian, false);
  assert.deepEqual(be.funcInfo, le.funcInfo);
  assert.deepEqual(be.lineInfo, le.lineInfo);
});

test('kind names: UAPI and libbpf spellings', () => {
  assert.equal(coreReloKindName(0), 'FIELD_BYTE_OFFSET');
  assert.equal(coreReloKindName(12), 'TYPE_MATCHES');
  assert.equal(coreReloKindShortName(9), 'type_size');
  assert.equal(coreReloKindShortName(12), 'type_matches');
  assert.equal(coreReloKindName(13), 'UNKNOWN(13)');
});

test('BtfExtBuilder round-trips, in both byte orders', () => {
  for (const littleEndian of [true, false]) {
    const b = new BtfBuilder();
    const int = b.add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
    const proto = b.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: int, params: [] });
    const fn = b.add({ kind: BtfKind.FUNC, name: 'prog', type: proto, linkage: 1 });
    const s = b.add({ kind: BtfKind.STRUCT, name: 's', size: 8, members: [{ name: 'a', type: int, bitOffset: 0, bitfieldSize: 0 }, { name: 'b', type: int, bitOffset: 32, bitfieldSize: 0 }] });
    const e = new BtfExtBuilder(b);
    e.addFuncInfo('xdp', { insnOff: 0, typeId: fn });
    e.addFuncInfo('.text', { insnOff: 16, typeId: fn });
    e.addLineInfo('xdp', { insnOff: 0, fileName: 'prog.c', lineText: 'int prog(void) {', line: 3, column: 0 });
    e.addLineInfo('xdp', { insnOff: 8, fileName: 'prog.c', lineText: '\treturn s->b;', line: 4, column: 12 });
    e.addCoreRelo('xdp', { insnOff: 8, typeId: s, accessStr: '0:1', kind: CoreReloKind.FIELD_BYTE_OFFSET });
    e.addCoreRelo('xdp', { insnOff: 16, typeId: s, accessStr: '0', kind: CoreReloKind.TYPE_SIZE });
    const extBytes = e.finish({ littleEndian });
    const btf = parseBtf(b.finish({ littleEndian }));
    const ext = parseBtfExt(extBytes, btf);
    assert.deepEqual(ext.funcInfo, new Map([['xdp', [{ insnOff: 0, typeId: fn }]], ['.text', [{ insnOff: 16, typeId: fn }]]]));
    const { fileNameOff, lineOff, ...line } = ext.lineInfo.get('xdp')![1]!;
    assert.deepEqual(line, { insnOff: 8, fileName: 'prog.c', lineText: '\treturn s->b;', line: 4, column: 12 });
    assert.equal(btf.str(fileNameOff!), 'prog.c');
    assert.equal(btf.str(lineOff!), '\treturn s->b;');
    assert.deepEqual(ext.coreRelos.get('xdp')!.map((r) => r.accessStr), ['0:1', '0']);
  }
});

test('malformed .BTF.ext: FormatError("BTF.ext") with the offset', () => {
  const btf = objectBtf('core.o');
  const good = section('core.o', '.BTF.ext');
  const expect = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(() => parseBtfExt(bytes, btf), (e: unknown) => e instanceof FormatError && e.format === 'BTF.ext' && re.test(e.detail));
  expect(good.slice(0, 4), /header/);
  expect(Uint8Array.from([0, 0, ...good.slice(2)]), /magic/);
  const recSize = good.slice();
  new DataView(recSize.buffer).setUint32(32, 6, true); // func_info rec_size
  expect(recSize, /record size 6/);
  const count = good.slice();
  new DataView(count.buffer).setUint32(32 + 8, 1000, true); // num_info of the first block
  expect(count, /run past/);
  expect(good.slice(0, good.length - 4), /needs|past/);
});
