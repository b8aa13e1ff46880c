import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bpf, Errno, FakeKernel, PermissionError, setExplain, SyscallError, useSyscalls, newPerfAttr, openFds, Fd } from '../../src/sys/index.js';
import { MapType, ProgType } from '../../src/uapi/enums.js';
import { BPF_ATTR } from '../../src/uapi/layouts.js';
import { kernelTest } from '../support/kernel.js';

function withFake<T>(fn: (k: FakeKernel) => T): T {
  const k = new FakeKernel();
  const restore = useSyscalls(k);
  try {
    return fn(k);
  } finally {
    restore();
  }
}

test('attrs are laid out as the kernel BTF says', () => {
  withFake(() => {
    const { attr } = bpf('MAP_CREATE', { map_type: MapType.HASH, key_size: 4, value_size: 8, max_entries: 64, map_name: 'counts' });
    const b = attr.bytes;
    const u32 = (off: number) => new DataView(b.buffer).getUint32(off, true);
    assert.equal(u32(BPF_ATTR.map_create.map_type[0]), MapType.HASH);
    assert.equal(u32(BPF_ATTR.map_create.max_entries[0]), 64);
    assert.equal(new TextDecoder().decode(b.subarray(BPF_ATTR.map_create.map_name[0], BPF_ATTR.map_create.map_name[0] + 6)), 'counts');
    assert.equal(attr.str('map_name'), 'counts');
  });
});

test('perf_event_attr bitfields are set in place', () => {
  withFake(() => {
    const attr = newPerfAttr({ type: 2, config: 862, sample_period: 1, disabled: 1, exclude_kernel: 1, wakeup_events: 1 });
    assert.equal(attr.get('size'), 136);
    assert.equal(attr.get('disabled'), 1);
    assert.equal(attr.get('exclude_kernel'), 1);
    assert.equal(attr.get('inherit'), 0);
    assert.equal(new DataView(attr.bytes.buffer).getBigUint64(40, true), 0b100001n);
  });
});

test('errnos become typed errors with the operation and a remedy', () => {
  withFake((k) => {
    k.bpf = () => -Errno.EPERM;
    const err = (() => {
      try {
        bpf('PROG_LOAD', { prog_type: ProgType.KPROBE }, { subject: "program 'x'" });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof PermissionError);
    assert.equal(err.op, 'BPF_PROG_LOAD');
    assert.equal(err.code, 'EPERM');
    assert.match(err.message, /program 'x'/);
    assert.match(err.remedy!, /root|CAP_BPF/);
  });
  withFake(() => {
    const { ret } = bpf('MAP_CREATE', { map_type: MapType.HASH, key_size: 4, value_size: 4, max_entries: 1 });
    const key = new Uint8Array(4);
    const value = new Uint8Array(4);
    const miss = bpf('MAP_LOOKUP_ELEM', { map_fd: ret, key, value }, { allow: [Errno.ENOENT] });
    assert.equal(miss.ret, -Errno.ENOENT);
    assert.throws(() => bpf('MAP_LOOKUP_ELEM', { map_fd: ret, key, value }), (e) => e instanceof SyscallError && e.code === 'ENOENT');
  });
});

test('the explain mode prints each call like strace', () => {
  const lines: string[] = [];
  const old = setExplain((l) => lines.push(l));
  try {
    withFake(() => {
      bpf('MAP_CREATE', { map_type: MapType.RINGBUF, max_entries: 4096, map_name: 'events' });
      bpf('PROG_LOAD', { prog_type: ProgType.TRACEPOINT, insns: new Uint8Array(16), insn_cnt: 2, license: 'GPL' }, { hints: { insns: '[2 instructions]' } });
    });
  } finally {
    setExplain(old);
  }
  assert.equal(lines[0], 'bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_RINGBUF, max_entries=4096, map_name="events"}, 168) = 100');
  assert.equal(lines[1], 'bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_TRACEPOINT, insn_cnt=2, insns=[2 instructions], license="GPL"}, 168) = 101');
});

test('fds close once and are counted', () => {
  withFake(() => {
    const before = openFds();
    const fd = new Fd(bpf('MAP_CREATE', { map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1 }).ret);
    assert.equal(openFds(), before + 1);
    fd.close();
    fd.close();
    assert.equal(openFds(), before);
    assert.throws(() => fd.value, /after close/);
  });
});

kernelTest('real bpf(): a map created, written, read back and closed', () => {
  const { ret: fd } = bpf('MAP_CREATE', { map_type: MapType.HASH, key_size: 4, value_size: 8, max_entries: 8, map_name: 'tsbpf_test' });
  try {
    const key = new Uint8Array([7, 0, 0, 0]);
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, 0x1122334455667788n, true);
    bpf('MAP_UPDATE_ELEM', { map_fd: fd, key, value, flags: 0 });
    const out = new Uint8Array(8);
    bpf('MAP_LOOKUP_ELEM', { map_fd: fd, key, value: out });
    assert.deepEqual(out, value);
    assert.throws(() => bpf('MAP_UPDATE_ELEM', { map_fd: fd, key, value, flags: 1 }), (e) => e instanceof SyscallError && e.code === 'EEXIST');
  } finally {
    new Fd(fd).close();
  }
});
