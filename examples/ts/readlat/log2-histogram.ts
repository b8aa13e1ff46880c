/**
 * A log2 histogram printed the way bpftrace prints `hist()`: one line per power-of-two bucket
 * from the first non-empty one to the last, `[lo, hi)` with K/M/G suffixes (powers of 1024),
 * the count, and a bar scaled to the largest count.
 *
 *   [4K, 8K)             120 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
 */

/** Bar width bpftrace uses. */
const WIDTH = 52;

/** 2^power with bpftrace's suffixes: 512, 1K, 2M. */
function bound(power: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const unit = Math.min(Math.floor(power / 10), units.length - 1);
  return `${2n ** BigInt(power - unit * 10)}${units[unit]}`;
}

/** The lines of a histogram whose slot `s` counts values in [2^s, 2^(s+1)); '' when all are zero. */
export function log2Histogram(slots: readonly bigint[]): string {
  const used = slots.map((n, s) => (n > 0n ? s : -1)).filter((s) => s >= 0);
  if (used.length === 0) return '';
  const max = slots.reduce((a, b) => (b > a ? b : a), 0n);
  const lines: string[] = [];
  for (let s = used[0]!; s <= used[used.length - 1]!; s++) {
    const n = slots[s] ?? 0n;
    const bar = '@'.repeat(Number((n * BigInt(WIDTH)) / max));
    lines.push(`${`[${bound(s)}, ${bound(s + 1)})`.padEnd(16)} ${String(n).padStart(8)} |${bar.padEnd(WIDTH)}|`);
  }
  return lines.join('\n');
}
