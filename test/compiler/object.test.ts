/**
 * What the emitted objects contain: BTF types with C layouts and names user space decodes by,
 * map definitions, FUNCs and func_info per function, line_info pointing at the TypeScript lines,
 * CO-RE relocations, global data sections with their variables, the license; and the
 * `tsbpf build` command that writes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfKind, findMember } from '../../src/btf/index.js';
import { btfCodec } from '../../src/kernel/codec-btf.js';
import { readObject } from '../../src/object/index.js';
import { RingBuffer } from '../../src/vm/index.js';
import { argsContext, build, runObject, wrap } from './support.js';

const DECLS = `export interface Event { pid: u32; flag: u8; wide: u64; comm: Comm; vals: FixedArray<u16, 3>; ok: bool }
export const events = new RingBuf<Event>({ size: 4096 });
export const counts = new HashMap<Comm, u64>({ maxEntries: 64 });
export const limit = constant<u32>(100);
let total: u64 = 0n;`;
const BODY = `const e = events.reserve();
if (!e) return 0;
e.pid = bpf.pid();
e.flag = 7;
e.wide = 1n << 40n;
bpf.getCurrentComm(e.comm);
e.vals[1] = 513;
e.ok = true;
total += 1n;
events.submit(e);
return limit > 0 ? 1 : 0;`;

test('structs are laid out as C lays them out, under their TypeScript names', () => {
  const { spec } = build(wrap(BODY, DECLS));
  const btf = spec.btf!;
  const ev = btf.typeByName('Event', BtfKind.STRUCT)!;
  assert.equal((ev.type as { size: number }).size, 40);
  const offsets = Object.fromEntries(['pid', 'flag', 'wide', 'comm', 'vals', 'ok'].map((n) => [n, findMember(btf, ev.id, n)!.bitOffset / 8]));
  assert.deepEqual(offsets, { pid: 0, flag: 4, wide: 8, comm: 16, vals: 32, ok: 38 });
  const counts = spec.maps.find((m) => m.name === 'counts')!;
  assert.equal(counts.type, 'HASH');
  assert.equal(btf.type(counts.keyType!).kind, BtfKind.ARRAY, 'Comm keys are char[16]');
  assert.equal((btf.type(counts.valueType!) as { name: string }).name, 'unsigned long long');
});

test('user space decodes what the program wrote with the BTF the compiler emitted', () => {
  const out = build(wrap(BODY, DECLS));
  const run = runObject(out, 'prog', argsContext([]), { env: { tgid: 4242, comm: 'cat' } });
  const [rec] = (run.maps.get('events') as RingBuffer).consume();
  const btf = out.spec.btf!;
  const decode = btfCodec<{ pid: number; flag: number; wide: bigint; comm: string; vals: number[]; ok: boolean }>(btf, btf.typeByName('Event')!.id);
  assert.deepEqual(decode.decode(rec!), { pid: 4242, flag: 7, wide: 1n << 40n, comm: 'cat', vals: [0, 513, 0], ok: true });
});

test('func_info and line_info: a FUNC per function, lines of the TypeScript source', () => {
  const decls = 'function twice(x: u32): u32 { const y = x * 2;\n  return y; }';
  const source = wrap('const a = u32(ctx.args[0]);\nreturn twice(a);', decls);
  const { object, spec } = build(source, 'lines.bpf.ts');
  const p = spec.programs[0]!;
  assert.deepEqual(p.functions.map((f) => f.name), ['prog', 'twice']);
  assert.equal(p.funcInfos.length, 2);
  const btf = spec.btf!;
  const funcs = p.funcInfos.map((f) => btf.type(f.typeId) as { kind: number; name: string; linkage: number });
  assert.deepEqual(funcs.map((f) => [f.kind, f.name, f.linkage]), [[BtfKind.FUNC, 'prog', 1], [BtfKind.FUNC, 'twice', 0]]);
  const lines = source.split('\n');
  for (const li of p.lineInfos) {
    assert.equal(li.fileName, 'lines.bpf.ts');
    assert.equal(li.lineText, lines[li.line - 1]);
  }
  assert.ok(p.lineInfos.some((li) => li.lineText.includes('return twice(a)')));
  assert.ok(p.lineInfos.some((li) => li.lineText.includes('const y = x * 2')));
  // The section layout libbpf expects: the subprogram in .text.
  assert.deepEqual(readObject(object).programs.map((x) => x.section), ['raw_tracepoint/test']);
});

test('global data: .rodata constants are const volatile, .bss/.data variables are named', () => {
  const { spec } = build(wrap(BODY, `${DECLS}\nlet seen: u32 = 3;`));
  const rodata = spec.maps.find((m) => m.name === '.rodata')!;
  assert.ok(rodata.readOnly);
  const limit = rodata.variables.find((v) => v.name === 'limit')!;
  const btf = spec.btf!;
  assert.equal(btf.type(limit.typeId!).kind, BtfKind.CONST);
  assert.equal(btf.type((btf.type(limit.typeId!) as { type: number }).type).kind, BtfKind.VOLATILE);
  assert.equal(new DataView(rodata.data!.buffer, rodata.data!.byteOffset).getUint32(limit.offset, true), 100);
  assert.deepEqual(spec.maps.find((m) => m.name === '.bss')!.variables.map((v) => v.name), ['total']);
  assert.deepEqual(spec.maps.find((m) => m.name === '.data')!.variables.map((v) => v.name), ['seen']);
  assert.equal(spec.license, 'GPL');
});

test('CO-RE: each kernel field access has a FIELD_BYTE_OFFSET relocation against a local copy of the struct', () => {
  const { spec } = build(`import { rawTracepoint, helpers as bpf, license, u32 } from 'tsbpf/lang';
export const prog = rawTracepoint('x', () => {
  const t = bpf.getCurrentTask();
  return u32(t.real_parent.tgid) + u32(t.pid);
});
license('GPL');
`);
  const p = spec.programs[0]!;
  const btf = spec.btf!;
  const task = btf.typeByName('task_struct', BtfKind.STRUCT)!;
  const members = (task.type as { members: Array<{ name: string; bitOffset: number }> }).members;
  assert.deepEqual(members.map((m) => m.name).sort(), ['pid', 'real_parent', 'tgid']);
  assert.deepEqual([...members].sort((a, b) => a.bitOffset - b.bitOffset), members, 'members in offset order, as the kernel requires');
  const strings = p.coreRelos.map((r) => `${btf.nameOf(r.relo.typeId)}:${r.relo.accessStr}:${r.relo.kind}`);
  const index = (n: string) => members.findIndex((m) => m.name === n);
  assert.deepEqual(strings.sort(), [`task_struct:0:${index('pid')}:0`, `task_struct:0:${index('real_parent')}:0`, `task_struct:0:${index('tgid')}:0`].sort());
});

test('tsbpf build writes the object; compile errors print file:line:column and the hint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-build-'));
  try {
    const out = join(dir, 'exec.o');
    const ok = spawnSync(process.execPath, ['dist/src/cli/main.js', 'build', 'testdata/compiler/exec.bpf.ts', '-o', out], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /1 program \(onExec \d+ instructions\), 2 maps/);
    assert.deepEqual(readObject(readFileSync(out)).programs.map((p) => p.name), ['onExec']);
    const ir = spawnSync(process.execPath, ['dist/src/cli/main.js', 'build', 'testdata/compiler/exec.bpf.ts', '-o', out, '--explain-ir'], { encoding: 'utf8' });
    assert.match(ir.stdout, /after register allocation/);
    const bad = join(dir, 'bad.bpf.ts');
    spawnSync('sh', ['-c', `printf "import { rawTracepoint } from 'tsbpf/lang';\\nexport const p = rawTracepoint('x', () => { throw 1; });\\n" > ${bad}`]);
    const err = spawnSync(process.execPath, ['dist/src/cli/main.js', 'build', bad, '-o', join(dir, 'bad.o')], { encoding: 'utf8' });
    assert.equal(err.status, 1);
    assert.match(err.stderr, /^bad\.bpf\.ts:2:45: error: exceptions are not part of the dialect/m);
    assert.match(err.stderr, /hint: return an error code instead/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
