// Every map kind and its operations: a raw tracepoint program on sys_enter, and a TC program
// for the map holding a spin lock.
import {
  rawTracepoint, tc, HashMap, LruHashMap, PerCpuHashMap, LruPerCpuHashMap, ArrayMap, PerCpuArrayMap, LpmTrie,
  RingBuf, PerfEventArray, ProgArray, StackTrace, Queue, Stack, BloomFilter, helpers as bpf, license, zero,
  u32, u64, type u8, type FixedArray, type SpinLock,
} from 'tsbpf/lang';

export interface Locked {
  lock: SpinLock;
  value: u64;
}

export interface Prefix {
  prefixlen: u32;
  addr: FixedArray<u8, 4>;
}

export interface Sample {
  pid: u32;
  nr: u32;
}

export const hash = new HashMap<u32, Locked>({ maxEntries: 64 });
export const lru = new LruHashMap<u32, u64>({ maxEntries: 64 });
export const perCpuHash = new PerCpuHashMap<u32, u64>({ maxEntries: 64 });
export const lruPerCpu = new LruPerCpuHashMap<u32, u64>({ maxEntries: 64 });
export const array = new ArrayMap<u64>({ maxEntries: 8 });
export const perCpuArray = new PerCpuArrayMap<u64>({ maxEntries: 8 });
export const routes = new LpmTrie<Prefix, u32>({ maxEntries: 16 });
export const ring = new RingBuf<Sample>({ size: 4096 });
export const perf = new PerfEventArray<Sample>();
export const jumps = new ProgArray({ maxEntries: 4 });
export const stacks = new StackTrace({ maxEntries: 64 });
export const fifo = new Queue<u64>({ maxEntries: 16 });
export const lifo = new Stack<u64>({ maxEntries: 16 });
export const seen = new BloomFilter<u32>({ maxEntries: 64, hashes: 3 });


export const everything = rawTracepoint('sys_enter', (ctx) => {
  const nr = u32(ctx.args[1]);
  const pid = bpf.pid();
  lru.increment(nr);
  perCpuHash.increment(nr);
  lruPerCpu.increment(nr, 2n);
  array.increment(nr & 7);
  perCpuArray.increment(nr & 7);
  const key: Prefix = { prefixlen: 32, addr: [127, 0, 0, 1] };
  const route = routes.lookup(key);
  if (route === undefined) routes.update(key, 1);
  const s: Sample = { pid, nr };
  ring.output(s);
  perf.output(ctx, s);
  const id = stacks.getStackId(ctx, 0);
  if (id >= 0n) fifo.push(u64(id));
  lifo.push(u64(nr));
  const last = lifo.pop();
  if (last !== undefined && !seen.has(u32(last))) seen.add(u32(last));
  fifo.peek();
  jumps.tailCall(ctx, 0);
  bpf.printk('nr %u pid %u\n', nr, pid);
  return 0;
});

// Tracing programs may not use maps holding spin locks; networking programs may.
export const locking = tc('ingress', (ctx) => {
  const key = ctx.mark;
  const locked = hash.lookup(key);
  if (locked) {
    bpf.spinLock(locked.lock);
    locked.value += 1n;
    bpf.spinUnlock(locked.lock);
  } else {
    const fresh: Locked = zero();
    hash.update(key, fresh);
  }
  return 0;
});

license('GPL');
