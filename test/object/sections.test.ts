import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchSection } from '../../src/object/sections.js';

test('section names resolve as libbpf resolves them', () => {
  const tp = matchSection('tracepoint/syscalls/sys_enter_execve')!;
  assert.equal(tp.def.progType, 'TRACEPOINT');
  assert.equal(tp.extras, 'syscalls/sys_enter_execve');
  assert.equal(matchSection('tp/sched/sched_switch')!.def.autoAttach, 'tracepoint');
  // More specific definitions come first: uprobe.s is sleepable, kretprobe.multi is a multi-link.
  assert.equal(matchSection('uprobe.s/bin:func')!.def.sleepable, true);
  assert.equal(matchSection('kretprobe.multi/vfs_*')!.def.attachType, 'TRACE_KPROBE_MULTI');
  assert.equal(matchSection('fentry/do_unlinkat')!.def.attachBtf, true);
  assert.equal(matchSection('cgroup/dev')!.def.attachType, 'CGROUP_DEVICE');
  assert.equal(matchSection('xdp.frags')!.def.xdpFrags, true);
  assert.equal(matchSection('tc/ingress')!.def.attachType, 'TCX_INGRESS');
  assert.equal(matchSection('socket')!.def.progType, 'SOCKET_FILTER');
});

test('names libbpf 1.x rejects do not match', () => {
  assert.equal(matchSection('xdp_prog'), undefined); // legacy loose prefix
  assert.equal(matchSection('socket/extra'), undefined); // exact-only definition
  assert.equal(matchSection('tracepointx'), undefined);
  assert.equal(matchSection('.text'), undefined);
});
