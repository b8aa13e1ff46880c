// TypeScript twin of xdp_alu_v4.bpf.c (test/compiler-diff): signed division and modulo (with
// INT_MIN / -1 and division by zero, which the dialect defines as BPF does), sign extension of
// 8/16/32-bit values, byte swaps, on operands from the packet. The compiler emits cpu v4
// instructions (sdiv, smod) for signed division.
import { xdp, ArrayMap, XdpAction, packetAt, be16, be32, be64, license, u32, u64, i8, i16, i32, i64, type u8, type FixedArray } from 'tsbpf/lang';

export interface Results {
  r: FixedArray<i64, 16>;
}

export const out = new ArrayMap<Results>({ maxEntries: 1 });

export const xdp_alu_v4 = xdp((ctx) => {
  const sel = packetAt<u8>(ctx, 33);
  if (sel === undefined) return XdpAction.PASS;
  const pa = packetAt<i64>(ctx, 14);
  const pb = packetAt<i64>(ctx, 22);
  const c = packetAt<i8>(ctx, 30);
  const h = packetAt<i16>(ctx, 31);
  if (pa === undefined || pb === undefined || c === undefined || h === undefined) return XdpAction.PASS;
  let a = i64(pa);
  let b = i64(pb);
  if ((sel & 1) !== 0) a = -0x8000000000000000n;
  if ((sel & 2) !== 0) b = (sel & 4) !== 0 ? -1n : 0n;
  let a32 = i32(a);
  const b32 = i32(b);
  if ((sel & 8) !== 0) a32 = -0x80000000;
  const o = out.lookup(0);
  if (!o) return XdpAction.ABORTED;
  o.r[0] = a / b;
  o.r[1] = a % b;
  o.r[2] = i64(a32 / b32);
  o.r[3] = i64(a32 % b32);
  o.r[4] = i64(c);
  o.r[5] = i64(h);
  o.r[6] = i64(i32(a >> 7n));
  o.r[7] = i64(i8(b));
  o.r[8] = i64(i16(b));
  o.r[9] = i64(be16(u32(b & 0xffffn)));
  o.r[10] = i64(be32(u32(b)));
  o.r[11] = i64(be64(u64(b)));
  o.r[12] = a / 7n;
  o.r[13] = a % 7n;
  o.r[14] = i64(a32 / -3);
  o.r[15] = i64(i32(b) % 5);
  return (o.r[0] & 1n) !== 0n ? XdpAction.DROP : XdpAction.PASS;
});

license('GPL');
