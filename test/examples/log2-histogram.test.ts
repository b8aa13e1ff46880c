/** The readlat example's histogram printer, against bpftrace's format. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { log2Histogram } from '../../examples/ts/readlat/log2-histogram.js';

test('log2Histogram prints bpftrace hist() lines from the first to the last used slot', () => {
  const slots = [0n, 0n, 2n, 4n, 0n, ...new Array<bigint>(5).fill(0n), 1n];
  assert.equal(
    log2Histogram(slots),
    [
      '[4, 8)                  2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
      '[8, 16)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
      '[16, 32)                0 |                                                    |',
      ...['[32, 64)', '[64, 128)', '[128, 256)', '[256, 512)', '[512, 1K)'].map((l) => `${l.padEnd(16)}        0 |${' '.repeat(52)}|`),
      '[1K, 2K)                1 |@@@@@@@@@@@@@                                       |',
    ].join('\n'),
  );
  assert.equal(log2Histogram([0n, 0n]), '');
});
