// TypeScript twin of xdp_spinlock.bpf.c (test/compiler-diff): map values with a spin lock.
// Updates under the lock, and update() with UpdateFlags.LOCK, which the kernel allows only for
// maps whose value has a lock (the `plain` map's answer is -EINVAL).
import { xdp, HashMap, ArrayMap, XdpAction, UpdateFlags, packetAt, helpers as bpf, license, u32, u64, zero, type i64, type u8, type SpinLock } from 'tsbpf/lang';

export interface Val {
  lock: SpinLock;
  flags: u32;
  count: u64;
  sum: u64;
}

interface Input {
  key: u8;
  v: u8;
}

export const locked = new HashMap<u32, Val>({ maxEntries: 8 });
export const plain = new HashMap<u32, u64>({ maxEntries: 8 });
export const rets = new ArrayMap<i64>({ maxEntries: 4 });

export const xdp_spinlock = xdp((ctx) => {
  const input = packetAt<Input>(ctx, 14);
  if (!input) return XdpAction.PASS;
  const key = u32(input.key & 7);
  const v = u32(input.v);
  rets.update(0, plain.update(key, u64(v), (v & 1) !== 0 ? UpdateFlags.LOCK : UpdateFlags.ANY));
  const p = locked.lookup(key);
  if (!p) {
    const init: Val = zero();
    init.flags = v;
    init.count = 1n;
    init.sum = u64(v);
    rets.update(1, locked.update(key, init, (v & 2) !== 0 ? UpdateFlags.LOCK : UpdateFlags.NOEXIST));
    return XdpAction.DROP;
  }
  bpf.spinLock(p.lock);
  p.count += 1n;
  p.sum += u64(v);
  bpf.spinUnlock(p.lock);
  if ((v & 4) !== 0) {
    const next: Val = zero();
    next.flags = v;
    next.count = 100n;
    rets.update(2, locked.update(key, next, UpdateFlags.LOCK | UpdateFlags.EXIST));
  }
  return XdpAction.PASS;
});

license('GPL');
