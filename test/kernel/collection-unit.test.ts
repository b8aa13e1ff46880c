// Root-less tests of the loader's logic: BTF fixups and sanitisation, kconfig values, BTF-typed
// globals, and — against the fake kernel — the order of system calls and the cleanup when a
// step fails part-way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BtfFuncLinkage, BtfKind, BtfVarLinkage, parseBtf, type Btf } from '../../src/btf/index.js';
import { ALL_BTF_FEATURES, prepareObjectBtf, type BtfFeatures } from '../../src/kernel/btf-fixup.js';
import { decodeBtfValue, encodeBtfValue, VariableError } from '../../src/kernel/globals.js';
import { Collection, registerAutoAttacher } from '../../src/kernel/collection.js';
import { NotSupportedError } from '../../src/errors.js';
import { applyConstants } from '../../src/kernel/globals.js';
import { KconfigError, kconfigData, kernelVersionCode, parseKernelConfig } from '../../src/kernel/kconfig.js';
import { VerifierError } from '../../src/kernel/program.js';
import { objectNameOf, weakExternsOf } from '../../src/load.js';
import { readObject, type ObjectSpec } from '../../src/object/index.js';
import { Errno, FakeKernel, useSyscalls } from '../../src/sys/index.js';
import { BpfCmd, MapType } from '../../src/uapi/enums.js';

const object = (path: string): ObjectSpec => readObject(readFileSync(path));
const NONE: BtfFeatures = { datasec: false, func: false, funcGlobal: false, float: false, declTag: false, typeTag: false, enum64: false, qmarkDatasec: false };

function kinds(btf: Btf): Set<number> {
  const out = new Set<number>();
  for (let id = 1; id < btf.typeCount; id++) out.add(btf.kindOf(id));
  return out;
}

test('BTF fixups: DATASEC sizes and offsets from the data maps, extern linkage, .ksyms entries become VARs', () => {
  const spec = object('testdata/object/features.bpf.o');
  const fixed = parseBtf(prepareObjectBtf(spec.btf!, spec, ALL_BTF_FEATURES).bytes);
  for (const m of spec.maps.filter((x) => x.data !== undefined)) {
    const sec = fixed.typeByName(m.section, BtfKind.DATASEC)!;
    assert.ok(sec.type.kind === BtfKind.DATASEC);
    assert.equal(sec.type.size, m.valueSize, `${m.section} size`);
    for (const v of sec.type.vars) {
      const name = fixed.nameOf(v.type);
      const expected = m.variables.find((x) => x.name === name)!;
      assert.equal(v.offset, expected.offset, `${m.section}.${name} offset`);
    }
  }
  const ksyms = fixed.typeByName('.ksyms', BtfKind.DATASEC)!;
  assert.ok(ksyms.type.kind === BtfKind.DATASEC);
  assert.deepEqual(ksyms.type.vars.map((v) => [fixed.kindOf(v.type), v.offset, v.size]), [
    [BtfKind.VAR, 0, 4],
    [BtfKind.VAR, 4, 4],
  ]);
  for (let id = 1; id < fixed.typeCount; id++) {
    const t = fixed.type(id);
    if (t.kind === BtfKind.VAR) assert.notEqual(t.linkage, BtfVarLinkage.GLOBAL_EXTERN, `VAR ${t.name}`);
    if (t.kind === BtfKind.FUNC) assert.notEqual(t.linkage, BtfFuncLinkage.EXTERN, `FUNC ${t.name}`);
  }
  // .maps (no data map): offsets increasing, inside the section
  const maps = fixed.typeByName('.maps', BtfKind.DATASEC)!;
  assert.ok(maps.type.kind === BtfKind.DATASEC);
  let end = 0;
  for (const v of maps.type.vars) {
    assert.ok(v.offset >= end);
    end = v.offset + v.size;
  }
  assert.ok(end <= maps.type.size);
});

test('BTF sanitisation rewrites kinds an old kernel lacks, keeping ids and string offsets', () => {
  const spec = object('testdata/loader/btf_kinds.bpf.o');
  const original = spec.btf!;
  assert.ok([BtfKind.DECL_TAG, BtfKind.TYPE_TAG, BtfKind.FLOAT, BtfKind.ENUM64].every((k) => kinds(original).has(k)), 'the fixture has every kind');
  const { bytes, sanitised } = prepareObjectBtf(original, spec, { ...ALL_BTF_FEATURES, declTag: false, typeTag: false, float: false, enum64: false });
  const out = parseBtf(bytes);
  const left = kinds(out);
  for (const k of [BtfKind.DECL_TAG, BtfKind.TYPE_TAG, BtfKind.FLOAT, BtfKind.ENUM64]) assert.ok(!left.has(k), `kind ${k} left`);
  assert.ok(sanitised.some((s) => s.startsWith('ENUM64')) && sanitised.some((s) => s.startsWith('DECL_TAG')));
  // ids unchanged: FUNCs keep their ids and names (func_info refers to them)
  for (let id = 1; id < original.typeCount; id++) {
    if (original.kindOf(id) === BtfKind.FUNC) assert.equal(out.nameOf(id), original.nameOf(id));
  }
  assert.equal(out.typeCount, original.typeCount + 1, 'one placeholder INT appended for ENUM64');
  // the original strings are a prefix of the new string section (line_info offsets still valid)
  const before = original.bytes.subarray(original.strStart, original.strEnd);
  assert.deepEqual(out.bytes.subarray(out.strStart, out.strStart + before.byteLength), before);
  for (const l of spec.programs[0]!.lineInfos) assert.equal(out.str(l.lineOff), l.lineText);

  const ancient = parseBtf(prepareObjectBtf(original, spec, NONE).bytes);
  const k = kinds(ancient);
  for (const gone of [BtfKind.VAR, BtfKind.DATASEC, BtfKind.FUNC, BtfKind.FUNC_PROTO]) assert.ok(!k.has(gone), `kind ${gone} left for a pre-5.0 kernel`);
});

test('kconfig: parsing, every extern type, weak defaults, strong misses', () => {
  const spec = object('testdata/loader/kconfig.bpf.o');
  const map = spec.maps.find((m) => m.section === '.kconfig')!;
  const config = parseKernelConfig('CONFIG_BPF_SYSCALL=y\n# CONFIG_FOO is not set\nCONFIG_HZ=0x100\nCONFIG_BPF_JIT=m\nCONFIG_LOCALVERSION="-a-very-long-local-version"\n');
  assert.equal(config.get('CONFIG_FOO'), undefined);
  const data = kconfigData(map, spec.btf!, (n) => n === 'CONFIG_TSBPF_DOES_NOT_EXIST', { config, release: '6.1.300-x', hasBpfCookie: () => true });
  const at = (name: string) => map.variables.find((v) => v.name === name)!;
  const view = new DataView(data.buffer);
  assert.equal(view.getUint32(at('LINUX_KERNEL_VERSION').offset, true), (6 << 16) + (1 << 8) + 255, 'sublevel clamped to 255');
  assert.equal(data[at('CONFIG_BPF_SYSCALL').offset], 1);
  assert.equal(view.getInt32(at('CONFIG_HZ').offset, true), 256);
  assert.equal(view.getUint32(at('CONFIG_BPF_JIT').offset, true), 2, "tristate 'm' is TRI_MODULE");
  const local = data.subarray(at('CONFIG_LOCALVERSION').offset, at('CONFIG_LOCALVERSION').offset + 16);
  assert.equal(new TextDecoder().decode(local.subarray(0, local.indexOf(0))), '-a-very-long-lo', 'cut to fit with its NUL');
  assert.equal(data[at('LINUX_HAS_BPF_COOKIE').offset], 1);
  assert.equal(view.getInt32(at('CONFIG_TSBPF_DOES_NOT_EXIST').offset, true), 0);
  assert.throws(() => kconfigData(map, spec.btf!, () => false, { config }), (e: unknown) => e instanceof KconfigError && e.variable === 'CONFIG_TSBPF_DOES_NOT_EXIST');
  const boolM = new Map(config).set('CONFIG_BPF_SYSCALL', 'm');
  assert.throws(() => kconfigData(map, spec.btf!, () => true, { config: boolM }), /cannot hold m/);
  assert.equal(kernelVersionCode('5.15.0-91-generic'), 0x050f00);
});

test('weak externs come from the ELF symbol table; object names as libbpf makes them', () => {
  assert.deepEqual([...weakExternsOf(readFileSync('testdata/object/features.bpf.o'))].sort(), ['CONFIG_BPF_SYSCALL', 'bpf_task_acquire']);
  assert.deepEqual([...weakExternsOf(readFileSync('testdata/loader/ksym.bpf.o'))], ['bpf_tsbpf_no_such_kfunc']);
  assert.equal(objectNameOf('/x/y/exec.bpf.o'), 'exec');
});

test('BTF-typed values: structs, char arrays, enums by name, bitfield-free round trips and range errors', () => {
  const spec = object('testdata/loader/globals.bpf.o');
  const btf = spec.btf!;
  const data = spec.maps.find((m) => m.name === '.data')!;
  const v = (name: string) => data.variables.find((x) => x.name === name)!;
  const bytes = new Uint8Array(data.data!);
  const slice = (name: string) => bytes.subarray(v(name).offset, v(name).offset + v(name).size);
  assert.deepEqual(decodeBtfValue(btf, v('where').typeId!, slice('where')), { x: 3, y: 4 });
  assert.equal(decodeBtfValue(btf, v('label').typeId!, slice('label')), 'start');
  assert.equal(decodeBtfValue(btf, v('color').typeId!, slice('color')), 5);
  encodeBtfValue(btf, v('where').typeId!, { y: -9 }, slice('where'), 'where');
  assert.deepEqual(decodeBtfValue(btf, v('where').typeId!, slice('where')), { x: 3, y: -9 }, 'members left out keep their values');
  encodeBtfValue(btf, v('color').typeId!, 'BLUE', slice('color'), 'color');
  assert.equal(decodeBtfValue(btf, v('color').typeId!, slice('color')), 6);
  assert.throws(() => encodeBtfValue(btf, v('last_len').typeId!, 2 ** 33, slice('last_len'), 'last_len'), (e: unknown) => e instanceof VariableError && e.variable === 'last_len');
  assert.throws(() => encodeBtfValue(btf, v('label').typeId!, 'much too long a label', slice('label'), 'label'), /does not fit char\[12\]/);
  assert.throws(() => encodeBtfValue(btf, v('where').typeId!, { z: 1 }, slice('where'), 'where'), /no member 'z'/);
});

test('constants: set by name with BTF types; unknown names and wrong sizes name the variable', () => {
  const spec = object('testdata/loader/globals.bpf.o');
  const out = applyConstants(spec.maps, spec.btf, { verdict: 1, magic: 0xdeadbeefcafen, tag: 'xyz', pair: { a: 2, b: -3 }, strict: true });
  const ro = out.get('.rodata')!;
  const at = (n: string) => spec.maps.find((m) => m.name === '.rodata')!.variables.find((v) => v.name === n)!.offset;
  const view = new DataView(ro.buffer);
  assert.equal(view.getUint32(at('verdict'), true), 1);
  assert.equal(view.getBigUint64(at('magic'), true), 0xdeadbeefcafen);
  assert.equal(new TextDecoder().decode(ro.subarray(at('tag'), at('tag') + 3)), 'xyz');
  assert.equal(view.getInt8(at('pair') + 2), -3);
  assert.equal(ro[at('strict')], 1);
  assert.deepEqual(spec.maps.find((m) => m.name === '.rodata')!.data, new Uint8Array(spec.maps.find((m) => m.name === '.rodata')!.data!), 'the spec itself is untouched');
  assert.throws(() => applyConstants(spec.maps, spec.btf, { verdikt: 1 }), (e: unknown) => e instanceof VariableError && e.variable === 'verdikt' && /verdict/.test(e.message));
  assert.throws(() => applyConstants(spec.maps, spec.btf, { magic: new Uint8Array(4) }), (e: unknown) => e instanceof VariableError && e.variable === 'magic' && /4 bytes given, the variable has 8/.test(e.message));
  assert.throws(() => applyConstants(spec.maps, spec.btf, { verdict: -(2 ** 40) }), (e: unknown) => e instanceof VariableError && e.variable === 'verdict');
});

/** A fake kernel that can fail the Nth call of a command. */
class FailingKernel extends FakeKernel {
  private seen = new Map<string, number>();
  constructor(private readonly failAt: { cmd: string; nth: number; errno: number } | undefined) {
    super();
  }
  override bpf(cmd: number, attr: Uint8Array): number {
    const name = Object.entries(BpfCmd).find(([, v]) => v === cmd)?.[0] ?? '';
    const n = (this.seen.get(name) ?? 0) + 1;
    this.seen.set(name, n);
    if (this.failAt && this.failAt.cmd === name && this.failAt.nth === n) {
      this.calls.push({ cmd: name, ret: -this.failAt.errno });
      return -this.failAt.errno;
    }
    return super.bpf(cmd, attr);
  }
}

function withFake<T>(kernel: FakeKernel, fn: () => T): T {
  const restore = useSyscalls(kernel);
  try {
    return fn();
  } finally {
    restore();
  }
}

test('fake kernel: BTF, then maps with data written and .rodata frozen, then programs, then prog array slots', () => {
  const spec = object('testdata/loader/tailcall.bpf.o');
  const fake = new FailingKernel(undefined);
  withFake(fake, () => {
    using coll = Collection.load(spec, { btfFeatures: {} });
    assert.deepEqual(Object.keys(coll.programs).sort(), ['entry', 'slot_one', 'slot_three']);
    const from = fake.calls.findIndex((c) => c.cmd === 'BTF_LOAD');
    const seq = fake.calls.slice(from).map((c) => c.cmd);
    assert.deepEqual(seq, ['BTF_LOAD', 'MAP_CREATE', 'MAP_CREATE', 'MAP_UPDATE_ELEM', 'MAP_FREEZE', 'PROG_LOAD', 'PROG_LOAD', 'PROG_LOAD', 'MAP_UPDATE_ELEM', 'MAP_UPDATE_ELEM']);
    const maps = [...fake.objects.values()].filter((o) => o.kind === 'map');
    const jumps = maps.find((m) => m.kind === 'map' && m.name === 'jumps');
    assert.ok(jumps && jumps.kind === 'map' && jumps.type === MapType.PROG_ARRAY && jumps.entries.size === 2);
    const rodata = maps.find((m) => m.kind === 'map' && m.name === '.rodata');
    assert.ok(rodata && rodata.kind === 'map' && rodata.frozen);
  });
  assert.equal(fake.objects.size, 0, 'closing the collection closed everything');
});

test('fake kernel: a failure at map N closes maps 0..N-1 and the BTF object; a verifier rejection closes everything too', () => {
  const spec = object('testdata/loader/mim.bpf.o');
  // mim.bpf.o creates inner_a, inner_b, then outer (with an inner template first): fail each in turn.
  for (let n = 1; n <= 5; n++) {
    const fake = new FailingKernel({ cmd: 'MAP_CREATE', nth: n + 1, errno: Errno.ENOMEM }); // +1: the mmapable probe
    withFake(fake, () => {
      assert.throws(() => Collection.load(spec, { btfFeatures: {} }), /ENOMEM/);
    });
    assert.equal(fake.calls.filter((c) => c.cmd === 'MAP_CREATE' && c.ret >= 0).length, n - 1 + 1, `${n - 1} maps were created before the failure`);
    assert.equal(fake.objects.size, 0, `failure at map ${n}: everything closed`);
  }
  const fake = new FailingKernel(undefined);
  fake.verify = (p) => (p.name === 'read_inner' ? '0: (b7) r0 = 0\nR0 !read_ok\n' : undefined);
  withFake(fake, () => {
    assert.throws(() => Collection.load(spec, { btfFeatures: {} }), (e: unknown) => e instanceof VerifierError && e.program === 'read_inner');
  });
  assert.equal(fake.objects.size, 0, 'verifier rejection: everything closed');
});

test('fake kernel: constants errors and unknown sections fail before anything is created', () => {
  const fake = new FailingKernel(undefined);
  withFake(fake, () => {
    assert.throws(() => Collection.load(object('testdata/loader/globals.bpf.o'), { constants: { nope: 1 }, btfFeatures: {} }), VariableError);
  });
  const unknown = object('testdata/loader/tailcall.bpf.o');
  unknown.programs[0]!.progType = 'UNSPEC';
  unknown.programs[0]!.section = 'my_section';
  withFake(fake, () => {
    assert.throws(() => Collection.load(unknown, { btfFeatures: {} }), (e: unknown) => e instanceof NotSupportedError && /my_section/.test(e.message));
  });
  assert.equal(fake.calls.filter((c) => c.cmd === 'MAP_CREATE' || c.cmd === 'PROG_LOAD').length, 0);
  assert.equal(fake.objects.size, 0);
});

test('fake kernel: a program type the kernel does not know is a NotSupportedError naming it', () => {
  /** Refuses every program load with EINVAL and no log, as kernels do for unknown types. */
  class OldKernel extends FakeKernel {
    override bpf(cmd: number, attr: Uint8Array): number {
      if (cmd === BpfCmd.PROG_LOAD) return -Errno.EINVAL;
      return super.bpf(cmd, attr);
    }
  }
  const fake = new OldKernel();
  withFake(fake, () => {
    assert.throws(() => Collection.load(object('testdata/loader/tailcall.bpf.o'), { btfFeatures: {} }), (e: unknown) => e instanceof NotSupportedError && /BPF_PROG_TYPE_SOCKET_FILTER/.test(e.message));
  });
  assert.equal(fake.objects.size, 0);
});

test('attachAll: uses the attacher given (or registered), skips programs without an auto-attach kind, closes links with the collection', () => {
  const fake = new FakeKernel();
  withFake(fake, () => {
    const c = Collection.load(object('testdata/loader/core_pid.bpf.o'), { btfFeatures: {}, programs: [] });
    assert.throws(() => c.attachAll(), NotSupportedError, 'no link layer registered');
    c.close();
    const spec = object('testdata/loader/tailcall.bpf.o');
    const coll = Collection.load(spec, { btfFeatures: {} });
    assert.deepEqual(coll.attachAll(() => assert.fail('socket programs have no auto-attach kind')), []);
    coll.close();
  });
  const kernel = new FakeKernel();
  withFake(kernel, () => {
    const coll = Collection.load(object('testdata/objdump/loops.bpf.o'), { btfFeatures: {} });
    const closed: string[] = [];
    registerAutoAttacher((prog, spec) => {
      assert.equal(spec.sectionDef?.autoAttach, 'raw_tracepoint');
      assert.equal(spec.attachTo, 'sys_enter');
      return { [Symbol.dispose]: () => void closed.push(prog.name) };
    });
    try {
      assert.equal(coll.attachAll().length, 1);
    } finally {
      registerAutoAttacher(undefined);
    }
    coll.close();
    assert.deepEqual(closed, ['count_loop']);
  });
});
