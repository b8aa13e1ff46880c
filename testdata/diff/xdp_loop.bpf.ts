// TypeScript twin of xdp_loop.bpf.c (test/compiler-diff): bounded loops over the packet
// (FNV-1a over up to 64 payload bytes, bounds-checked every iteration; a nested loop counting
// set bits), a per-CPU array histogram of byte values by high nibble, and globals (.bss).
import { xdp, PerCpuArrayMap, XdpAction, packetAt, license, u32, u64, zero, type u8 } from 'tsbpf/lang';

export const nibbles = new PerCpuArrayMap<u64>({ maxEntries: 16 });

export let last_hash: u32 = zero();
export let total_bits: u64 = zero();

export const xdp_loop = xdp((ctx) => {
  let hash: u32 = 2166136261;
  let bits: u32 = 0;
  for (let i = 0; i < 64; i++) {
    const b = packetAt<u8>(ctx, 14 + i);
    if (b === undefined) break;
    hash = (hash ^ b) * 16777619;
    for (let j = 0; j < 8; j++) bits += (b >> j) & 1;
    nibbles.increment(u32(b >> 4));
  }
  last_hash = hash;
  total_bits += u64(bits);
  return (hash & 1) !== 0 ? XdpAction.DROP : XdpAction.PASS;
});

license('GPL');
