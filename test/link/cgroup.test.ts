import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProgramBuilder, R0, R1, R2 } from '../../src/asm/index.js';
import { Program } from '../../src/kernel/index.js';
import { AttachTargetNotFoundError, BpfLink, cgroup, InvalidAttachError, openCgroup, ProgAttachLink } from '../../src/link/index.js';
import { bpf, openFds } from '../../src/sys/index.js';
import { AttachType } from '../../src/uapi/enums.js';
import { kernelTest } from '../support/kernel.js';
import { counter } from './support.js';

const UNIFIED = '/sys/fs/cgroup/unified';
let serial = 0;

/** Makes a fresh cgroup under the unified hierarchy and removes it afterwards, also on failure. */
function withCgroup(fn: (dir: string) => void): void {
  const dir = join(UNIFIED, `tsbpf-link-${process.pid}-${serial++}`);
  mkdirSync(dir);
  try {
    fn(dir);
  } finally {
    rmdirSync(dir);
  }
}

/** Runs a shell command as a process inside cgroup `dir`. */
function inCgroup(dir: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const READ_BOTH = 'head -c 4 /dev/urandom > /dev/null && echo urandom-ok; head -c 4 /dev/random > /dev/null && echo random-ok';

/** A device program denying /dev/urandom (char 1:9), allowing everything else. */
function denyUrandom(): Program {
  // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
  const b = new ProgramBuilder()
    .load(32, R2, R1, 4)
    .jump('jne', R2, 1, 'allow')
    .load(32, R2, R1, 8)
    .jump('jne', R2, 9, 'allow')
    .mov(R0, 0)
    .exit()
    .label('allow')
    .mov(R0, 1)
    .exit();
  return Program.load({ type: 'CGROUP_DEVICE', expectedAttachType: 'CGROUP_DEVICE', license: 'GPL', name: 'deny_urandom', instructions: b.build().instructions });
}

function allowAll(): Program {
  return Program.load({ type: 'CGROUP_DEVICE', expectedAttachType: 'CGROUP_DEVICE', license: 'GPL', name: 'allow_all', instructions: new ProgramBuilder().mov(R0, 1).exit().build().instructions });
}

/** Program ids attached to a cgroup hook (BPF_PROG_QUERY). */
function attached(dir: string, attachType: keyof typeof AttachType): number {
  using fd = openCgroup(dir);
  const ids = new Uint8Array(64);
  const { attr } = bpf('PROG_QUERY', { target_fd: fd.value, attach_type: AttachType[attachType], prog_ids: ids, prog_cnt: 16 });
  return attr.num('prog_cnt');
}

kernelTest('cgroup/dev: a link makes /dev/urandom fail with EPERM in a new cgroup while /dev/random works, until closed', () => {
  using prog = denyUrandom();
  withCgroup((dir) => {
    const fds = openFds();
    const link = cgroup(prog, dir);
    try {
      assert.ok(link instanceof BpfLink, 'a bpf_link on this kernel');
      const r = inCgroup(dir, READ_BOTH);
      assert.equal(r.stdout.trim(), 'random-ok');
      assert.match(r.stderr, /Operation not permitted/);
      const info = link.info();
      assert.equal(info.type, 'CGROUP');
      assert.equal(info.attachType, 'CGROUP_DEVICE');
      assert.ok(typeof info.cgroupId === 'bigint' && info.cgroupId > 0n);
      assert.equal(attached(dir, 'CGROUP_DEVICE'), 1);
    } finally {
      link.close();
    }
    assert.equal(openFds(), fds);
    assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'urandom-ok\nrandom-ok');
    assert.equal(attached(dir, 'CGROUP_DEVICE'), 0);
  });
});

kernelTest('cgroup/dev through BPF_PROG_ATTACH: same effect, detached on close, update by BPF_F_REPLACE', () => {
  using deny = denyUrandom();
  using allow = allowAll();
  withCgroup((dir) => {
    const link = cgroup(allow, dir, { mode: 'attach' });
    try {
      assert.ok(link instanceof ProgAttachLink);
      assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'urandom-ok\nrandom-ok');
      link.update(deny);
      assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'random-ok');
      assert.throws(() => link.pin('/sys/fs/bpf/x'), /BPF_PROG_ATTACH/);
      assert.throws(() => link.info(), /BPF_PROG_ATTACH/);
      assert.equal(attached(dir, 'CGROUP_DEVICE'), 1);
    } finally {
      link.close();
    }
    assert.equal(attached(dir, 'CGROUP_DEVICE'), 0, 'PROG_DETACH on close');
    assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'urandom-ok\nrandom-ok');
  });
});

kernelTest('cgroup links: BPF_LINK_UPDATE swaps the program, BPF_LINK_DETACH detaches but keeps the link', () => {
  using deny = denyUrandom();
  using allow = allowAll();
  withCgroup((dir) => {
    using link = cgroup(allow, dir);
    assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'urandom-ok\nrandom-ok');
    link.update(deny, { expected: allow });
    assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'random-ok');
    assert.throws(() => link.update(allow, { expected: allow }), /BPF_LINK_UPDATE/, 'the expected program is no longer attached');
    link.detach();
    assert.equal(inCgroup(dir, READ_BOTH).stdout.trim(), 'urandom-ok\nrandom-ok');
    assert.equal(attached(dir, 'CGROUP_DEVICE'), 0);
  });
});

kernelTest('cgroup_skb/egress counts the packets a process in the cgroup sends; sock_create can refuse sockets', () => {
  // CGROUP_SKB: count every egress packet (key 0), return 1 (allow).
  using skb = counter({ type: 'CGROUP_SKB', expectedAttachType: 'CGROUP_INET_EGRESS', ret: 1, key: (b) => b.mov(R0, 0), name: 'skb_egress' });
  using ingress = counter({ type: 'CGROUP_SKB', expectedAttachType: 'CGROUP_INET_INGRESS', ret: 1, key: (b) => b.mov(R0, 0), name: 'skb_ingress' });
  using noSockets = Program.load({ type: 'CGROUP_SOCK', expectedAttachType: 'CGROUP_INET_SOCK_CREATE', license: 'GPL', name: 'no_sockets', instructions: new ProgramBuilder().mov(R0, 0).exit().build().instructions });
  withCgroup((dir) => {
    {
      using out = cgroup(skb.prog, dir);
      using inn = cgroup(ingress.prog, dir, { attachType: 'CGROUP_INET_INGRESS' });
      const r = inCgroup(dir, 'for i in 1 2 3; do echo hi > /dev/udp/127.0.0.1/9; done; echo sent');
      assert.equal(r.stdout.trim(), 'sent', r.stderr);
      assert.ok(skb.count(0) >= 3, `egress count ${skb.count(0)}`);
      assert.equal(out.info().attachType, 'CGROUP_INET_EGRESS');
      assert.equal(inn.info().attachType, 'CGROUP_INET_INGRESS');
    }
    {
      using refuse = cgroup(noSockets, dir);
      const r = inCgroup(dir, 'echo hi > /dev/udp/127.0.0.1/9 && echo sent');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /not permitted/i);
      assert.equal(refuse.info().attachType, 'CGROUP_INET_SOCK_CREATE');
    }
    assert.equal(inCgroup(dir, 'echo hi > /dev/udp/127.0.0.1/9 && echo sent').stdout.trim(), 'sent');
  });
});

kernelTest('cgroup: inputs are checked first', () => {
  using allow = allowAll();
  using skb = counter({ type: 'CGROUP_SKB', key: (b) => b.mov(R0, 0), ret: 1 });
  using tp = counter({ type: 'TRACEPOINT' });
  const fds = openFds();
  assert.throws(() => cgroup(allow, '/sys/fs/cgroup/unified/no-such-group-here'), AttachTargetNotFoundError);
  assert.throws(() => cgroup(allow, '/tmp'), (e: unknown) => e instanceof InvalidAttachError && /cgroup v2/.test(e.message));
  withCgroup((dir) => assert.throws(() => cgroup(skb.prog, dir), /attachType/));
  assert.throws(() => cgroup(tp.prog, UNIFIED), InvalidAttachError);
  assert.equal(openFds(), fds);
});
