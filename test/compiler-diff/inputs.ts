/**
 * Inputs of the differential test: Ethernet frames, random or built from headers (IPv4 with
 * TCP/UDP/ICMP, IPv6, ARP, VLAN, 802.3 lengths) and cut at any length from 14 bytes on, so the
 * programs' bounds checks are exercised on both sides; plus the __sk_buff fields a test run
 * accepts (mark, priority, cb).
 */
import fc from 'fast-check';
import type { DiffInput } from './harness.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** IPv4 header (20 bytes, or more with options) + L4 header + payload. */
const ipv4 = fc
  .record({
    version: fc.oneof({ arbitrary: fc.constant(4), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 1 }),
    ihl: fc.oneof({ arbitrary: fc.constant(5), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 1 }),
    tos: fc.integer({ min: 0, max: 255 }),
    ttl: fc.oneof(fc.constantFrom(0, 1, 2, 64, 255), fc.integer({ min: 0, max: 255 })),
    proto: fc.oneof(fc.constantFrom(1, 6, 17), fc.integer({ min: 0, max: 255 })),
    check: fc.integer({ min: 0, max: 0xffff }),
    addrs: bytes(8, 8),
    sport: fc.oneof(fc.constantFrom(22, 53, 80, 443, 8080), fc.integer({ min: 0, max: 0xffff })),
    dport: fc.oneof(fc.constantFrom(22, 53, 80, 443, 8080), fc.integer({ min: 0, max: 0xffff })),
    payload: bytes(0, 64),
  })
  .map((h) => {
    const out = new Uint8Array(20 + 8 + h.payload.length);
    const v = new DataView(out.buffer);
    out[0] = (h.version << 4) | h.ihl;
    out[1] = h.tos;
    v.setUint16(2, out.length);
    out[8] = h.ttl;
    out[9] = h.proto;
    v.setUint16(10, h.check);
    out.set(h.addrs, 12);
    v.setUint16(20, h.sport);
    v.setUint16(22, h.dport);
    out.set(h.payload, 28);
    return out;
  });

const etherType = fc.oneof(
  { arbitrary: fc.constant(0x0800), weight: 6 },
  { arbitrary: fc.constantFrom(0x86dd, 0x0806, 0x8100), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 0x5ff }), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 1 },
);

/** A structured frame: MACs, EtherType, then IPv4 (for 0x0800) or random bytes. */
const structured = fc.record({ macs: bytes(12, 12), type: etherType, ip: ipv4, other: bytes(0, 80), cut: fc.option(fc.integer({ min: 14, max: 120 }), { nil: undefined }) }).map((f) => {
  const body = f.type === 0x0800 ? f.ip : f.other;
  const frame = new Uint8Array(14 + body.length);
  frame.set(f.macs);
  frame[12] = f.type >> 8;
  frame[13] = f.type & 0xff;
  frame.set(body, 14);
  return f.cut !== undefined && f.cut < frame.length ? frame.subarray(0, f.cut) : frame;
});

/** Any frame of 14 to 200 bytes. */
export const frame = fc.oneof({ arbitrary: structured, weight: 3 }, { arbitrary: bytes(14, 200), weight: 1 });

/** One run's input: a frame and the __sk_buff fields tc and socket filters may be given. */
export const input: fc.Arbitrary<DiffInput> = fc.record({
  packet: frame,
  mark: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  priority: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  cb: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 5, maxLength: 5 }),
});

/** A sequence of runs against one program (map state carries over between them). */
export const runs = fc.array(input, { minLength: 1, maxLength: 8 });
