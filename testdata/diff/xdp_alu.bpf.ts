// TypeScript twin of xdp_alu.bpf.c (test/compiler-diff): the ALU on operands taken from the
// packet — 64- and 32-bit arithmetic, shifts by the register width or more, division and
// modulo by zero (the C twin forces those instructions with inline assembly; here they are the
// dialect's own operators), byte swaps, signed and unsigned compares, read-modify-write of a
// map value.
import { xdp, ArrayMap, XdpAction, packetAt, be16, be32, be64, license, u32, u64, i8, i32, i64, type u8, type FixedArray } from 'tsbpf/lang';

export interface Results {
  r: FixedArray<u64, 40>;
}

interface Operands {
  a: u64;
  b: u64;
  s: u8;
  sel: u8;
}

export const out = new ArrayMap<Results>({ maxEntries: 1 });

export const xdp_alu = xdp((ctx) => {
  const op = packetAt<Operands>(ctx, 14);
  if (!op) return XdpAction.PASS;
  const a = op.a;
  let b = op.b;
  const s = op.s;
  const sel = op.sel;
  const a32 = u32(a);
  let b32 = u32(b >> 32n);
  const o = out.lookup(0);
  if (!o) return XdpAction.ABORTED;
  if ((sel & 1) !== 0) b = (sel & 2) !== 0 ? 0n : 0xffffffffffffffffn;
  if ((sel & 4) !== 0) b32 = (sel & 8) !== 0 ? 0 : 0xffffffff;
  const s64 = u64(s);
  o.r[0] = a + b;
  o.r[1] = a - b;
  o.r[2] = a * b;
  o.r[3] = a / b;
  o.r[4] = a % b;
  o.r[5] = a << s64;
  o.r[6] = a >> s64;
  o.r[7] = u64(i64(a) >> i64(s64));
  o.r[8] = a & b;
  o.r[9] = a | b;
  o.r[10] = a ^ b;
  o.r[11] = 0n - a;
  o.r[12] = u64(a32 + b32);
  o.r[13] = u64(a32 - b32);
  o.r[14] = u64(a32 * b32);
  o.r[15] = u64(a32 / b32);
  o.r[16] = u64(a32 % b32);
  o.r[17] = u64(a32 << s);
  o.r[18] = u64(a32 >>> s);
  o.r[19] = u64(u32(i32(a32) >> i32(s)));
  o.r[20] = u64(be16(u32(a & 0xffffn)));
  o.r[21] = u64(be32(u32(a)));
  o.r[22] = be64(a);
  o.r[23] = i64(a) < i64(b) ? 1n : 0n;
  o.r[24] = i32(a32) >= i32(b32) ? 1n : 0n;
  o.r[25] = a > b ? 1n : 0n;
  o.r[26] = a32 <= b32 ? 1n : 0n;
  o.r[27] = (a & b) !== 0n ? 1n : 0n;
  o.r[28] = u64(i64(a) >> 63n);
  o.r[29] = u64(a32 / 3);
  o.r[30] = u64(i32(a32));
  o.r[31] = u64(i8(s));
  o.r[32] += a;
  o.r[33] = o.r[34];
  o.r[34] += b;
  o.r[35] |= a;
  o.r[36] &= b | 0xffn;
  o.r[37] ^= a;
  const old39 = o.r[39];
  o.r[39] = a;
  o.r[38] = old39;
  const old38 = o.r[38];
  if (old38 === b) o.r[38] = a;
  o.r[39] = old38;
  return u32((o.r[2] ^ o.r[14]) & 3n);
});

license('GPL');
