// TypeScript twin of xdp_maps.bpf.c (test/compiler-diff): map operations and the errors they
// return. Each packet is a list of 3-byte commands (op, key, value) run against a 4-entry hash
// map (update with ANY / NOEXIST / EXIST / LOCK / bad flags, delete, lookup), a per-CPU hash, a
// 4-entry queue and a 3-entry stack (push, with EXIST overwriting, pop, peek); every result goes
// into a log array, in order. (The dialect's pop/peek give the value or undefined; the C twin
// logs errno * 0x10000 + the value the kernel left, which is -ENOENT * 0x10000 when empty.)
import { xdp, HashMap, PerCpuHashMap, ArrayMap, Queue, Stack, XdpAction, UpdateFlags, packetAt, license, u16, u32, i64, zero, type u8, type u64 } from 'tsbpf/lang';

export const small = new HashMap<u8, u32>({ maxEntries: 4 });
export const per_op = new PerCpuHashMap<u32, u64>({ maxEntries: 16 });
export const fifo = new Queue<u32>({ maxEntries: 4 });
export const lifo = new Stack<u16>({ maxEntries: 3 });
export const results = new ArrayMap<i64>({ maxEntries: 32 });

export let next_log: u32 = zero();

interface Command {
  op: u8;
  key: u8;
  value: u8;
}

const EMPTY = -2n * 0x10000n;

function record(ret: i64): void {
  const at = next_log & 31;
  next_log += 1;
  results.update(at, ret);
}

export const xdp_maps = xdp((ctx) => {
  let done = 0;
  for (let i = 0; i < 16; i++) {
    const cmd = packetAt<Command>(ctx, 14 + 3 * i);
    if (!cmd) break;
    const op = cmd.op % 12;
    const key = cmd.key & 7;
    const value = u32(cmd.value);
    per_op.increment(u32(op));
    let ret: i64 = 0n;
    switch (op) {
      case 0:
        ret = small.update(key, value, UpdateFlags.ANY);
        break;
      case 1:
        ret = small.update(key, value, UpdateFlags.NOEXIST);
        break;
      case 2:
        ret = small.update(key, value, UpdateFlags.EXIST);
        break;
      case 3:
        ret = small.update(key, value, (value & 15) as UpdateFlags);
        break;
      case 4:
        ret = small.delete(key);
        break;
      case 5: {
        const v = small.lookup(key);
        ret = v !== undefined ? i64(v) : -1n;
        if (v !== undefined) small.update(key, v + value);
        break;
      }
      case 6:
        ret = fifo.push(value);
        break;
      case 7:
        ret = fifo.push(value, 2);
        break;
      case 8: {
        const v = fifo.pop();
        ret = v !== undefined ? i64(v) : EMPTY;
        break;
      }
      case 9:
        ret = lifo.push(u16(value * 257), (value & 1) !== 0 ? 2 : 0);
        break;
      case 10: {
        const v = lifo.pop();
        ret = v !== undefined ? i64(v) : EMPTY;
        break;
      }
      default: {
        const v = fifo.peek();
        ret = v !== undefined ? i64(v) : EMPTY;
      }
    }
    record(ret);
    done++;
  }
  return done > 3 ? XdpAction.DROP : XdpAction.PASS;
});

license('GPL');
