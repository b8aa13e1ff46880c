import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { R0 } from '../../src/asm/index.js';
import { parseElf } from '../../src/elf/index.js';
import { AttachTargetNotFoundError, attach, InvalidAttachError, resolveSymbol, uprobe, uprobeMulti, uprobeSite, uretprobe } from '../../src/link/index.js';
import { openFds } from '../../src/sys/index.js';
import { readFileSync, realpathSync } from 'node:fs';
import { expectPerfLinkInfo, UPROBE_MULTI } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { counter, runTarget, TARGET, TARGET_LIB } from './support.js';
import { test } from 'node:test';

/** struct pt_regs (x86_64): ax, the return value of a uretprobe. */
const PT_REGS_AX = 80;

test('symbols resolve to file offsets in the executable (PIE) and the shared library', () => {
  const exe = parseElf(new Uint8Array(readFileSync(TARGET)));
  const add = resolveSymbol(exe, 'tsbpf_target_add', TARGET);
  assert.equal(add.offset, exe.addressToOffset(add.address));
  // In these binaries the text segment maps the file 1:1, so offset == address.
  assert.equal(BigInt(add.offset), add.address);
  const lib = parseElf(new Uint8Array(readFileSync(TARGET_LIB)));
  const mul = resolveSymbol(lib, 'tsbpf_lib_mul', TARGET_LIB);
  assert.ok(mul.offset > 0);
  assert.throws(() => resolveSymbol(exe, 'no_such_function', TARGET), (e: unknown) => e instanceof AttachTargetNotFoundError && /nm -D|readelf/.test(e.message));
  // A bare library name is found in the library directories; an executable in PATH.
  assert.match(uprobeSite('sh', undefined, { offset: 0x10 }).path, /\/(sh|dash|bash)$/);
  assert.throws(() => uprobeSite(TARGET, 'tsbpf_target_add', { address: 0x1000n }), InvalidAttachError);
});

kernelTest('uprobe: counts the calls of a function of the test binary exactly; uretprobe sees return values', (t) => {
  using calls = counter({ type: 'KPROBE', name: 'up_add' });
  // The uretprobe counts returns whose value (a + b with b = 1) is 5: exactly one of 0..9.
  using five = counter({ type: 'KPROBE', name: 'uret_add', prelude: (b) => b.load(64, R0, 6, PT_REGS_AX).jump('jne', R0, 5, 'out') });
  using mul = counter({ type: 'KPROBE', name: 'up_mul' });
  const fds = openFds();
  {
    using l1 = uprobe(calls.prog, TARGET, 'tsbpf_target_add');
    using l2 = uretprobe(five.prog, TARGET, 'tsbpf_target_add');
    using l3 = uprobe(mul.prog, TARGET_LIB, 'tsbpf_lib_mul');
    const { pid, stdout } = runTarget(['call', '10']);
    assert.equal(stdout.split(' ')[0], String(55 + 90));
    assert.equal(calls.count(pid), 10);
    assert.equal(five.count(pid), 1);
    assert.equal(mul.count(pid), 10, 'uprobe in a shared library');
    expectPerfLinkInfo(t, l1.info(), { perfEvent: 'uprobe', file: realpathSync(TARGET) });
    expectPerfLinkInfo(t, l2.info(), { perfEvent: 'uretprobe' });
    assert.match(l3.target, /libtsbpf_target\.so:tsbpf_lib_mul/);
  }
  assert.equal(openFds(), fds, 'every fd closed');
  const again = runTarget(['call', '3']);
  assert.equal(calls.count(again.pid), 0, 'detached on close');
});

kernelTest('uprobe with a pid fires only in that process; raw offsets work too', async () => {
  using c = counter({ type: 'KPROBE' });
  const child = spawn(TARGET, ['call', '6', 'wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const site = uprobeSite(TARGET, 'tsbpf_target_add');
    using link = uprobe(c.prog, TARGET, undefined, { offset: site.offset, pid: child.pid });
    assert.match(link.target, /pid \d+/);
    const other = runTarget(['call', '4']);
    child.stdin!.end('go\n');
    await once(child, 'exit');
    assert.equal(c.count(child.pid!), 6);
    assert.equal(c.count(other.pid), 0, 'another process running the binary is not counted');
  } finally {
    child.kill();
  }
});

kernelTest('uprobe.multi: one link for every function matching a pattern', () => {
  using c = counter({ type: 'KPROBE', expectedAttachType: 'TRACE_UPROBE_MULTI', name: 'up_multi' });
  using link = uprobeMulti(c.prog, TARGET, { pattern: 'tsbpf_*' });
  const { pid } = runTarget(['call', '5']);
  // tsbpf_target_add and tsbpf_guarded_fire, 5 calls each
  assert.equal(c.count(pid), 10);
  const info = link.info();
  assert.equal(info.type, 'UPROBE_MULTI');
  assert.equal(info.count, 2);
  assert.equal(info.file, realpathSync(TARGET));
}, { requires: [UPROBE_MULTI] });

kernelTest('auto-attach: uprobe and uretprobe sections with BINARY:FUNCTION', () => {
  using c = counter({ type: 'KPROBE' });
  using r = counter({ type: 'KPROBE' });
  using l1 = attach(c.prog, `uprobe/${TARGET}:tsbpf_target_add`);
  using l2 = attach(r.prog, `uretprobe/${TARGET}:tsbpf_target_add`);
  const { pid } = runTarget(['call', '3']);
  assert.equal(c.count(pid), 3);
  assert.equal(r.count(pid), 3);
  assert.throws(() => attach(c.prog, 'uprobe/nocolon'), InvalidAttachError);
  assert.throws(() => attach(c.prog, `uprobe/${TARGET}:missing_fn`), AttachTargetNotFoundError);
  void l1;
  void l2;
});
