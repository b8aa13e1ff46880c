import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  AttachTargetNotFoundError,
  attach,
  CLASSIC_USDT_SPEC_LAYOUT,
  LIBBPF_1_7_USDT_SPEC_LAYOUT,
  encodeUsdtSpec,
  InvalidAttachError,
  parseUsdtArgs,
  usdt,
  usdtProbes,
  usdtSpecLayoutFromBtf,
  UsdtArgType,
} from '../../src/link/index.js';
import { readObject } from '../../src/object/index.js';
import { openFds } from '../../src/sys/index.js';
import { UPROBE_MULTI } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { FIXTURES, i64s, loadObject, runTarget, TARGET, TARGET_LIB, type LoadedObject } from './support.js';

test('USDT notes: provider, name, arguments, semaphore and file offsets of the test binary', () => {
  const probes = usdtProbes(TARGET);
  const hit = probes.find((p) => p.name === 'hit')!;
  assert.equal(hit.provider, 'tsbpf');
  assert.equal(parseUsdtArgs(hit.args).length, 3);
  assert.match(hit.args, /-4@\$7$/);
  assert.equal(hit.semaphore, 0n);
  assert.equal(hit.semaphoreOffset, undefined);
  assert.ok(hit.fileOffset > 0);
  const guarded = probes.find((p) => p.name === 'guarded')!;
  assert.ok(guarded.semaphore > 0n && guarded.semaphoreOffset! > 0);
  const lib = usdtProbes(TARGET_LIB);
  assert.deepEqual(lib.map((p) => `${p.provider}:${p.name}`), ['tsbpf_lib:mul']);
});

test('USDT argument specs: constants, registers of every width, memory, scale-index-base', () => {
  const [a, b, c, d, e, f] = parseUsdtArgs('-4@$-9 8@%rax 2@%r10w -4@-1204(%rbp) 1@(%rdi) -1@-96(%rbp,%rax,8)', 'x64');
  assert.deepEqual([a!.type, a!.size, a!.signed, a!.valOff], [UsdtArgType.CONST, 4, true, -9n]);
  assert.deepEqual([b!.type, b!.regOff], [UsdtArgType.REG, 80]);
  assert.deepEqual([c!.regOff, c!.size], [56, 2]);
  assert.deepEqual([d!.type, d!.valOff, d!.regOff], [UsdtArgType.REG_DEREF, -1204n, 32]);
  assert.deepEqual([e!.type, e!.valOff, e!.regOff], [UsdtArgType.REG_DEREF, 0n, 112]);
  assert.deepEqual([f!.type, f!.valOff, f!.regOff, f!.idxRegOff, f!.scaleShift], [UsdtArgType.SIB, -96n, 32, 80, 3]);
  assert.deepEqual(parseUsdtArgs('8@x0 -4@[sp, 12] 8@5', 'arm64').map((x) => [x.type, x.regOff, x.valOff]), [
    [UsdtArgType.REG, 0, 0n],
    [UsdtArgType.REG_DEREF, 248, 12n],
    [UsdtArgType.CONST, 0, 5n],
  ]);
  assert.throws(() => parseUsdtArgs('-4@counter(%rip)', 'x64'), InvalidAttachError);
  assert.throws(() => parseUsdtArgs('3@%rax', 'x64'), /size 3/);
  assert.throws(() => parseUsdtArgs('8@%xyz', 'x64'), /unknown register/);
  assert.deepEqual(parseUsdtArgs('', 'x64'), []);
});

test('USDT spec encoding follows struct __bpf_usdt_spec, and its layout comes from the object BTF', () => {
  const bytes = encodeUsdtSpec(parseUsdtArgs('-4@%esi 8@-24(%rbp)', 'x64'), 0x1234n);
  assert.equal(bytes.byteLength, 208);
  const v = new DataView(bytes.buffer);
  // args[0]: val_off 0, arg_type REG, reg_off si (104), signed, bitshift 32
  assert.deepEqual([v.getBigUint64(0, true), v.getUint32(8, true), v.getInt16(12, true), v.getUint8(14), v.getInt8(15)], [0n, 1, 104, 1, 32]);
  // args[1]: val_off -24, REG_DEREF, bp (32), unsigned, bitshift 0
  assert.deepEqual([v.getBigInt64(16, true), v.getUint32(24, true), v.getInt16(28, true), v.getUint8(30), v.getInt8(31)], [-24n, 2, 32, 0, 0]);
  assert.equal(v.getBigUint64(192, true), 0x1234n);
  assert.equal(v.getInt16(200, true), 2);
  assert.throws(() => encodeUsdtSpec(parseUsdtArgs('1@(%rbp,%rax,8)', 'x64'), 0n), /libbpf 1.7/);

  const spec = readObject(new Uint8Array(readFileSync(join(FIXTURES, 'usdt.bpf.o'))));
  const specs = spec.maps.find((m) => m.name === '__bpf_usdt_specs')!;
  assert.deepEqual(usdtSpecLayoutFromBtf(spec.btf!, specs.valueType!), CLASSIC_USDT_SPEC_LAYOUT);

  // libbpf 1.7 packs the SIB index register and scale into bitfields.
  const v17 = readObject(new Uint8Array(readFileSync(join(FIXTURES, 'usdt-spec-v17.bpf.o'))));
  const m17 = v17.maps.find((m) => m.name === '__bpf_usdt_specs')!;
  const layout = usdtSpecLayoutFromBtf(v17.btf!, m17.valueType!);
  assert.equal(layout.size, m17.valueSize);
  assert.deepEqual(layout, LIBBPF_1_7_USDT_SPEC_LAYOUT, 'the built-in 1.7 layout matches what clang laid out');
  assert.deepEqual(layout.arg.argType, { bit: 64, bits: 8 });
  assert.ok(layout.arg.idxRegOff && layout.arg.scaleBitshift);
  const sib = encodeUsdtSpec(parseUsdtArgs('-1@-96(%rbp,%rax,8)', 'x64'), 0n, layout);
  const sv = new DataView(sib.buffer);
  assert.equal(sv.getBigInt64(0, true), -96n);
  assert.equal(sv.getUint8(8), UsdtArgType.SIB);
  const idxWord = sv.getUint16(layout.arg.idxRegOff!.bit / 8 - ((layout.arg.idxRegOff!.bit / 8) % 2), true);
  assert.equal(idxWord & 0xfff, 80, 'index register ax');
  assert.equal(idxWord >> 12, 3, 'scale 8');
  assert.equal(sv.getInt16(layout.arg.regOff.bit / 8, true), 32, 'base register bp');
});

interface Hit {
  count: bigint;
  sum0: bigint;
  sum1: bigint;
  last2: bigint;
  argCnt: bigint;
  cookie: bigint;
}

function hitOf(obj: LoadedObject, pid: number, probe: number): Hit {
  const key = new Uint8Array(Uint32Array.of(pid, probe).buffer);
  const [count, sum0, sum1, last2, argCnt, cookie] = i64s(obj.maps.hits!.lookupBytes(key), 6);
  return { count: count!, sum0: sum0!, sum1: sum1!, last2: last2!, argCnt: argCnt!, cookie: cookie! };
}

kernelTest('USDT: bpf_usdt_arg() reads the arguments, the semaphore is set while attached, spec ids travel as BPF cookies', () => {
  using obj = loadObject('usdt.bpf.o', ['on_hit', 'on_guarded', 'on_mul'], { LINUX_HAS_BPF_COOKIE: 1 });
  const maps = { specs: obj.maps.__bpf_usdt_specs!, ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id! };
  const before = runTarget(['call', '10']);
  assert.equal(before.stdout.split(' ')[1], '0', 'the guarded probe does not fire without a tracer');
  const fds = openFds();
  {
    using hit = usdt(obj.programs.on_hit!, TARGET, 'tsbpf', 'hit', { ...maps, cookie: 77n });
    // Without maps given, the program's own usdt.bpf.h maps are found through the kernel.
    using guarded = usdt(obj.programs.on_guarded!, TARGET, 'tsbpf', 'guarded');
    using mul = attach(obj.programs.on_mul!, `usdt/${TARGET_LIB}:tsbpf_lib:mul`, { usdt: maps });
    assert.equal(hit.kind, 'usdt');
    assert.equal(mul.kind, 'usdt');
    const { pid, stdout } = runTarget(['call', '10']);
    assert.equal(stdout.split(' ')[1], '10', 'the kernel incremented the semaphore (ref_ctr_offset)');
    assert.deepEqual(hitOf(obj, pid, 1), { count: 10n, sum0: 45n, sum1: 450n, last2: 7n, argCnt: 3n, cookie: 77n });
    assert.deepEqual(hitOf(obj, pid, 2), { count: 10n, sum0: 45n, sum1: 0n, last2: 0n, argCnt: 1n, cookie: 0n });
    assert.deepEqual(hitOf(obj, pid, 3), { count: 10n, sum0: 45n, sum1: 20n, last2: 0n, argCnt: 2n, cookie: 0n });
    void guarded;
  }
  assert.equal(openFds(), fds, 'every fd closed');
  const after = runTarget(['call', '4']);
  assert.equal(after.stdout.split(' ')[1], '0', 'the semaphore is released when detached');
  assert.equal(hitOf(obj, after.pid, 1).count, 0n);
  assert.throws(() => usdt(obj.programs.on_hit!, TARGET, 'tsbpf', 'nope', maps), (e: unknown) => e instanceof AttachTargetNotFoundError && /tsbpf:hit/.test(e.message));
});

kernelTest('USDT without BPF cookies: the ip -> spec id map, filled from /proc/PID/maps for a PIE', async () => {
  using obj = loadObject('usdt.bpf.o', ['on_hit'], { LINUX_HAS_BPF_COOKIE: 0 });
  const child = spawn(TARGET, ['call', '8', 'wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise((r) => setTimeout(r, 100)); // let it map the binary
    using link = usdt(obj.programs.on_hit!, TARGET, 'tsbpf', 'hit', { specs: obj.maps.__bpf_usdt_specs!, ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id!, pid: child.pid, cookie: 5n });
    assert.equal([...obj.maps.__bpf_usdt_ip_to_spec_id!.keysBytes()].length, 1);
    child.stdin!.end('go\n');
    await once(child, 'exit');
    assert.deepEqual(hitOf(obj, child.pid!, 1), { count: 8n, sum0: 28n, sum1: 280n, last2: 7n, argCnt: 3n, cookie: 5n });
    link.close();
    assert.equal([...obj.maps.__bpf_usdt_ip_to_spec_id!.keysBytes()].length, 0, 'entries removed on close');
  } finally {
    child.kill();
  }
});

kernelTest('USDT through one uprobe.multi link when the program is loaded for it', () => {
  using obj = loadObject('usdt.bpf.o', ['on_hit'], { LINUX_HAS_BPF_COOKIE: 1 }, { on_hit: 'TRACE_UPROBE_MULTI' });
  using link = usdt(obj.programs.on_hit!, TARGET, 'tsbpf', 'hit', { specs: obj.maps.__bpf_usdt_specs!, cookie: 9n });
  const info = link.info();
  assert.equal(info.type, 'UPROBE_MULTI');
  const { pid } = runTarget(['call', '3']);
  assert.deepEqual(hitOf(obj, pid, 1), { count: 3n, sum0: 3n, sum1: 30n, last2: 7n, argCnt: 3n, cookie: 9n });
}, { requires: [UPROBE_MULTI] });
