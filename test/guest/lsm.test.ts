// BPF LSM in the guest (booted with lsm=...,bpf; the host refuses LSM programs): a program on
// the file_open hook denies opening a file this test creates — open() fails with EPERM — while
// other files open, and the file opens again once the link is closed. fmod_ret on the
// security_file_open function does the same (fmod_ret may change security_* functions without
// error injection); on a function only error injection would allow, 6.1 (no
// CONFIG_FUNCTION_ERROR_INJECTION) refuses fmod_ret with a NotSupportedError.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotSupportedError } from '../../src/errors.js';
import { probeAttach, readKernelConfig } from '../../src/kernel/index.js';
import { lsm, tracing } from '../../src/link/index.js';
import { load } from '../../src/load.js';
import { openFds } from '../../src/sys/index.js';
import { FIXTURES, guestTest } from './support.js';

const OBJECT = join(FIXTURES, 'lsm.bpf.o');

/** The errno code of opening `path` for reading, or 'ok'. */
function tryOpen(path: string): string {
  try {
    closeSync(openSync(path, 'r'));
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

/** Two files in /tmp: the one to deny (its device as the kernel encodes it, and inode) and another. */
function files(tag: string): { denied: string; other: string; ino: bigint; dev: number } {
  const denied = `/tmp/tsbpf-${tag}-denied-${process.pid}`;
  const other = `/tmp/tsbpf-${tag}-other-${process.pid}`;
  writeFileSync(denied, 'secret');
  writeFileSync(other, 'public');
  const st = statSync(denied, { bigint: true });
  // st_dev is user space's encoding (new_encode_dev); super_block.s_dev is MKDEV: major << 20 | minor
  const dev = Number(st.dev);
  const major = (dev >> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return { denied, other, ino: st.ino, dev: (major << 20) | minor };
}

guestTest('LSM file_open: opening the denied file fails with EPERM, others open, and it opens again after detach', async () => {
  assert.match(readFileSync('/sys/kernel/security/lsm', 'utf8'), /\bbpf\b/, 'the guest runs the BPF LSM');
  assert.equal(probeAttach('lsm').available, true, probeAttach('lsm').reason);
  const f = files('lsm');
  const fds = openFds();
  {
    await using coll = await load(OBJECT, { programs: ['deny_open'] });
    coll.variables.deny_ino!.set(f.ino);
    coll.variables.deny_dev!.set(f.dev);
    assert.equal(tryOpen(f.denied), 'ok', 'loaded but not attached: no effect');
    {
      using link = lsm(coll.programs.deny_open!, { target: 'file_open' });
      assert.equal(link.info().type, 'TRACING');
      assert.equal(tryOpen(f.denied), 'EPERM');
      assert.throws(() => readFileSync(f.denied), (e: NodeJS.ErrnoException) => e.code === 'EPERM');
      assert.equal(tryOpen(f.other), 'ok');
      assert.equal(readFileSync(f.other, 'utf8'), 'public');
      assert.equal(coll.variables.lsm_denied!.get(), 2n, 'the program counted both denials');
    }
    assert.equal(tryOpen(f.denied), 'ok', 'detached: the file opens again');
    assert.equal(readFileSync(f.denied, 'utf8'), 'secret');
    assert.equal(coll.variables.lsm_denied!.get(), 2n);
  }
  assert.equal(openFds(), fds);
});

guestTest('fmod_ret on security_file_open denies the same open, until detached', async () => {
  const f = files('fmod');
  await using coll = await load(OBJECT, { programs: ['fmod_deny_open'] });
  coll.variables.deny_ino!.set(f.ino);
  coll.variables.deny_dev!.set(f.dev);
  {
    using link = tracing(coll.programs.fmod_deny_open!, { target: 'security_file_open' });
    assert.equal(link.kind, 'tracing');
    assert.equal(tryOpen(f.denied), 'EPERM');
    assert.equal(tryOpen(f.other), 'ok');
    assert.equal(coll.variables.fmod_denied!.get(), 1n);
  }
  assert.equal(tryOpen(f.denied), 'ok');
});

guestTest('fmod_ret on a function only error injection allows: a NotSupportedError naming CONFIG_FUNCTION_ERROR_INJECTION', async () => {
  assert.equal(readKernelConfig()?.map.has('CONFIG_FUNCTION_ERROR_INJECTION'), false, 'Debian 6.1 is built without error injection');
  const fds = openFds();
  await assert.rejects(
    load(OBJECT, { programs: ['fmod_inject'] }),
    (e: unknown) => e instanceof NotSupportedError && e.feature === 'fmod_ret' && /bpf_modify_return_test\(\) is not modifiable/.test(e.message) && /CONFIG_FUNCTION_ERROR_INJECTION/.test(e.message),
  );
  assert.equal(openFds(), fds, 'the failed load closed what it made');
  // The feature probe tries fmod_ret on bpf_modify_return_test too: unavailable here.
  const probe = probeAttach('fmod_ret');
  assert.equal(probe.available, false);
  assert.match(probe.reason, /EINVAL/);
});
