// TypeScript twin of xdp_ringbuf.bpf.c (test/compiler-diff): a ring buffer filled from XDP.
// The packet says how many records to reserve (up to 255: a 4 KiB ring holds 170, so
// reservations fail when it is full) and which of them to discard; one more may be copied in
// with output(). Failures and the last output's result are counted in globals.
import { xdp, RingBuf, XdpAction, packetAt, packetLength, license, zero, type u8, type u32, type i64, type FixedArray } from 'tsbpf/lang';

export interface Rec {
  len: u32;
  seq: u32;
  head: FixedArray<u8, 8>;
}

interface Control {
  n: u8;
  mode: u8;
}

interface Head {
  b: FixedArray<u8, 8>;
}

export const events = new RingBuf<Rec>({ size: 4096 });

export let seq: u32 = zero();
export let failed: u32 = zero();
export let last_output: i64 = zero();

export const xdp_ringbuf = xdp((ctx) => {
  const ctl = packetAt<Control>(ctx, 14);
  const head = packetAt<Head>(ctx, 0);
  if (!ctl || !head) return XdpAction.PASS;
  const n = ctl.n;
  const mode = ctl.mode;
  const len = packetLength(ctx);
  for (let i = 0; i < 255; i++) {
    if (i >= n) break;
    const r = events.reserve();
    if (r) {
      r.len = len;
      r.seq = seq;
      seq += 1;
      for (let j = 0; j < 8; j++) r.head[j] = head.b[j];
      if (((mode >> (i & 7)) & 1) !== 0) events.discard(r);
      else events.submit(r);
    } else {
      failed += 1;
    }
  }
  if ((mode & 0x80) !== 0) {
    const o: Rec = zero();
    o.len = len;
    o.seq = seq;
    last_output = events.output(o);
  }
  return XdpAction.PASS;
});

license('GPL');
