// What the loader resolves against the running kernel: .kconfig values, kernel symbols (kfuncs
// by BTF id, typeless ksyms by address, __weak ones that are missing), CO-RE relocations against
// /sys/kernel/btf/vmlinux, attach targets of tp_btf programs, and BTF sanitised for older
// kernels (which this kernel must still accept).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { BtfKind } from '../../src/btf/index.js';
import { AttachTargetError } from '../../src/kernel/attach-target.js';
import { ALL_BTF_FEATURES, prepareObjectBtf } from '../../src/kernel/btf-fixup.js';
import { loadBtf } from '../../src/kernel/btf-load.js';
import { Collection } from '../../src/kernel/collection.js';
import { KconfigError } from '../../src/kernel/kconfig.js';
import { kallsymsAddress, KsymResolver } from '../../src/kernel/ksym.js';
import type { Program } from '../../src/kernel/program.js';
import { kernelBtf } from '../../src/kernel/vmlinux.js';
import { load, weakExternsOf } from '../../src/load.js';
import { readObject } from '../../src/object/index.js';
import { bpf, Fd } from '../../src/sys/index.js';
import { has, TASK_KFUNCS } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';

const packet = new Uint8Array(64);

/** Attaches a raw tracepoint (or, without a name, a tp_btf program) the way libbpf does; the link module will own this. */
function attachRawTp(prog: Program, name?: string): Fd {
  return new Fd(bpf('RAW_TRACEPOINT_OPEN', { name, prog_fd: prog.fd.value }, { subject: `attach ${prog.name}` }).ret);
}

/** The kernel's configuration: /proc/config.gz, or where Debian keeps it (/boot/config-RELEASE). */
function kernelConfig(): Map<string, string> {
  const text = existsSync('/proc/config.gz') ? gunzipSync(readFileSync('/proc/config.gz')).toString() : readFileSync(`/boot/config-${release()}`, 'utf8');
  return new Map(text.split('\n').filter((l) => l.startsWith('CONFIG_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

kernelTest('.kconfig externs: kernel version from uname, CONFIG_* from the kernel configuration, weak ones 0', async () => {
  await using c = await load('testdata/loader/kconfig.bpf.o');
  assert.equal(c.programs.read_kconfig!.testRun({ data: packet }).retval, 0);
  const [a, b, p] = release().split(/[.-]/).map(Number) as [number, number, number];
  const v = c.variables;
  assert.equal(v.out_version!.get(), (a << 16) + (b << 8) + Math.min(p, 255), 'LINUX_KERNEL_VERSION as the program saw it');
  const config = kernelConfig();
  assert.equal(v.out_syscall!.get(), config.get('CONFIG_BPF_SYSCALL') === 'y' ? 1 : 0);
  assert.equal(v.out_hz!.get(), Number(config.get('CONFIG_HZ')));
  assert.equal(v.out_jit!.get(), { y: 1, m: 2 }[config.get('CONFIG_BPF_JIT') ?? ''] ?? 0);
  assert.equal(v.out_local!.get(), JSON.parse(config.get('CONFIG_LOCALVERSION') ?? '""'));
  assert.equal(v.out_missing!.get(), 0, 'a __weak extern the kernel lacks is 0');
  assert.equal(v.out_cookie!.get(), 1, 'LINUX_HAS_BPF_COOKIE on a 5.15+ kernel');
  assert.equal(v.LINUX_KERNEL_VERSION!.get(), v.out_version!.get(), 'the .kconfig map is readable too');
  assert.equal(v.LINUX_KERNEL_VERSION!.readOnly, true);
  await assert.rejects(load('testdata/loader/kconfig_strong.bpf.o'), (e: unknown) => e instanceof KconfigError && e.variable === 'CONFIG_TSBPF_DOES_NOT_EXIST');
});

kernelTest('ksyms: kfuncs from a tp_btf program, a typeless symbol from kallsyms, a missing __weak kfunc', async () => {
  await using c = await load('testdata/loader/ksym.bpf.o');
  const prog = c.programs.on_exec!;
  assert.ok(prog.info().attachBtfId > 0, 'loaded against btf_trace_sched_process_exec');
  const btf = kernelBtf();
  assert.equal(btf.nameOf(prog.info().attachBtfId), 'btf_trace_sched_process_exec');
  {
    using link = attachRawTp(prog);
    assert.ok(link.value > 0);
    const child = spawnSync('/bin/true');
    assert.equal(child.status, 0);
  }
  assert.ok((c.variables.acquired!.get() as number) >= 1, 'bpf_task_acquire returned the task and bpf_task_release took it back');
  assert.equal(c.variables.stext_addr!.get(), kallsymsAddress('_stext'), 'the typeless ksym is the kallsyms address');
  assert.equal(c.variables.missing_called!.get(), 0, 'the missing weak kfunc resolved to 0');
}, { requires: [TASK_KFUNCS] });

kernelTest('ksyms: a typed kernel variable resolves to its VAR in vmlinux; a strong missing one is a KsymError', (t) => {
  const spec = readObject(readFileSync('testdata/object/features.bpf.o'));
  const r = new KsymResolver(spec.btf, kernelBtf, (n) => n === 'bpf_task_acquire');
  const v = r.resolve('bpf_prog_active', 'load');
  assert.ok(v.kind === 'btf' && v.btfKind === 'var');
  assert.equal(kernelBtf().kindOf(v.btfId), BtfKind.VAR);
  assert.equal(kernelBtf().nameOf(v.btfId), 'bpf_prog_active');
  if (has(TASK_KFUNCS)) {
    const f = r.resolve('bpf_task_acquire', 'call');
    assert.ok(f.kind === 'btf' && f.btfKind === 'func' && kernelBtf().nameOf(f.btfId) === 'bpf_task_acquire');
  } else {
    // the resolver was told bpf_task_acquire is __weak: a kernel without it resolves it to nothing
    assert.deepEqual(r.resolve('bpf_task_acquire', 'call'), { kind: 'missing', name: 'bpf_task_acquire' });
    t.diagnostic('the kfunc bpf_task_acquire needs Linux 6.2: resolved as a missing weak kfunc instead');
  }
  const strict = new KsymResolver(undefined, kernelBtf, () => false);
  assert.throws(() => strict.resolve('tsbpf_no_such_symbol', 'load'), /no kernel variable of that name/);
  assert.deepEqual(new KsymResolver(undefined, kernelBtf, () => true).resolve('tsbpf_no_such_symbol', 'call'), { kind: 'missing', name: 'tsbpf_no_such_symbol' });
});

kernelTest('CO-RE: a raw tracepoint reads task->pid through relocated offsets; the value is the spawned child\'s pid', async () => {
  await using c = await load('testdata/loader/core_pid.bpf.o', { constants: { parent_tgid: process.pid } });
  let child: number | undefined;
  {
    using link = attachRawTp(c.programs.on_exec!, 'sched_process_exec');
    assert.ok(link.value > 0);
    child = spawnSync('/bin/true').pid;
  }
  assert.ok((c.variables.exec_count!.get() as number) >= 1, 'the program saw an exec by a child of this process');
  assert.equal(c.variables.exec_pid!.get(), child, 'task->pid read at the kernel\'s offset');
});

kernelTest('a tp_btf program whose tracepoint does not exist is an AttachTargetError naming it and where to look', () => {
  const bytes = readFileSync('testdata/loader/ksym.bpf.o');
  const spec = readObject(bytes);
  const p = spec.programs[0]!;
  p.attachTo = 'tsbpf_no_such_tracepoint';
  assert.throws(
    () => Collection.load(spec, { weakExterns: weakExternsOf(bytes) }),
    (e: unknown) => e instanceof AttachTargetError && e.target === 'tsbpf_no_such_tracepoint' && e.btfName === 'btf_trace_tsbpf_no_such_tracepoint' && /available_events/.test(e.message),
  );
}, { requires: [TASK_KFUNCS] }); // ksym.bpf.o calls it; without it the load fails on the kfunc first

kernelTest('sanitised BTF (as for kernels without DECL_TAG, TYPE_TAG, FLOAT, ENUM64, or even FUNC and DATASEC) is accepted', () => {
  const spec = readObject(readFileSync('testdata/loader/btf_kinds.bpf.o'));
  const variants = [
    ALL_BTF_FEATURES,
    { ...ALL_BTF_FEATURES, declTag: false, typeTag: false, float: false, enum64: false },
    { ...ALL_BTF_FEATURES, funcGlobal: false },
    { ...ALL_BTF_FEATURES, datasec: false, func: false, funcGlobal: false, declTag: false, typeTag: false, float: false, enum64: false },
  ];
  for (const f of variants) {
    using fd = loadBtf(prepareObjectBtf(spec.btf!, spec, f).bytes, 'sanitised');
    assert.ok(fd.value > 0);
  }
  // And a whole load with the BTF sanitised for a 5.15 kernel (no TYPE_TAG, no ENUM64).
  using c = Collection.load(spec, { btfFeatures: { typeTag: false, enum64: false, declTag: true } });
  assert.equal(c.programs.kinds!.testRun({ data: packet }).retval, 7 + 1 + 0 + 1, 'helper(g.a) + (g.e == BIG) + (ratio != 0)');
  assert.deepEqual(c.warnings, []);
});
