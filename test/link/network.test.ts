import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { R0 } from '../../src/asm/index.js';
import { AttachTargetNotFoundError, InvalidAttachError, tcx, xdp } from '../../src/link/index.js';
import { openFds } from '../../src/sys/index.js';
import { TCX } from '../support/features.js';
import { kernelTest } from '../support/kernel.js';
import { CHILDREN, counter } from './support.js';

interface NetnsResult {
  sent: number;
  received: number;
  count: number;
  info: { type: string; ifindex: number; attachType?: string };
}

/**
 * Runs children/netns.js in a fresh network namespace (unshare -n): it attaches to that
 * namespace's lo only, and the namespace disappears with the process, whatever happens.
 */
function inNetns(mode: string, packets = 5): NetnsResult {
  const r = spawnSync('unshare', ['-n', process.execPath, join(CHILDREN, 'netns.js'), mode, String(packets)], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`netns child ${mode} failed (${r.status} ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as NetnsResult;
}

kernelTest('XDP on lo in a new network namespace: counts the datagrams, and XDP_DROP drops them', () => {
  const pass = inNetns('xdp-pass');
  assert.equal(pass.received, pass.sent);
  assert.ok(pass.count >= pass.sent, `counted ${pass.count}`);
  assert.deepEqual(pass.info, { type: 'XDP', ifindex: 1 });
  const drop = inNetns('xdp-drop');
  assert.equal(drop.received, 0, 'every datagram dropped');
  assert.ok(drop.count >= drop.sent);
});

kernelTest('tcx ingress on lo in a new network namespace: counts packets, and TCX_DROP drops them', () => {
  const pass = inNetns('tcx-pass');
  assert.equal(pass.received, pass.sent);
  assert.ok(pass.count >= pass.sent, `counted ${pass.count}`);
  assert.deepEqual(pass.info, { type: 'TCX', ifindex: 1, attachType: 'TCX_INGRESS' });
  const drop = inNetns('tcx-drop');
  assert.equal(drop.received, 0);
  assert.ok(drop.count >= drop.sent);
}, { requires: [TCX] });

kernelTest('xdp and tcx check their inputs before touching an interface', () => {
  // keyed by 0: before 6.x, networking programs may not call bpf_get_current_pid_tgid
  using x = counter({ type: 'XDP', ret: 2, key: (b) => b.mov(R0, 0) });
  using t = counter({ type: 'SCHED_CLS', key: (b) => b.mov(R0, 0) });
  const fds = openFds();
  assert.throws(() => xdp(x.prog, 'tsbpf-nope0'), AttachTargetNotFoundError);
  assert.throws(() => xdp(x.prog, '../../etc'), InvalidAttachError);
  assert.throws(() => xdp(x.prog, 0), InvalidAttachError);
  assert.throws(() => xdp(x.prog, 1, { mode: 'turbo' as never }), InvalidAttachError);
  assert.throws(() => xdp(t.prog, 1), (e: unknown) => e instanceof InvalidAttachError && /BPF_PROG_TYPE_XDP/.test(e.message));
  assert.throws(() => tcx(t.prog, 'tsbpf-nope0', 'ingress'), AttachTargetNotFoundError);
  assert.throws(() => tcx(t.prog, 1, 'sideways' as never), InvalidAttachError);
  assert.throws(() => tcx(x.prog, 1, 'ingress'), InvalidAttachError);
  assert.equal(openFds(), fds);
});
