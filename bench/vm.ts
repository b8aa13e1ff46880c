/**
 * VM throughput: BPF instructions per second of the interpreter and of the compiled engine,
 * on a tight 64-bit arithmetic loop (add/xor/shift/sub/compare/branch) and on a map-heavy
 * loop (hash map lookup through the helper, then an atomic add on the value). One JSON object
 * per line; each figure is the median of several runs.
 *
 *   node dist/bench/vm.js [--quick]
 */
import { parseUbpf } from '../src/asm/ubpf.js';
import { createMap, MapType } from '../src/vm/maps/index.js';
import { Engine, Vm } from '../src/vm/vm.js';

const quick = process.argv.includes('--quick');

const ARITH = (n: number): string => `
  mov %r0, 0
  mov %r1, ${n}
  lddw %r2, 0x123456789abcdef
loop:
  add %r0, %r1
  xor %r0, %r2
  lsh %r2, 1
  rsh %r0, 3
  add %r2, %r0
  sub %r1, 1
  jne %r1, 0, loop
  exit`;

const MAPS = (n: number): string => `
  mov %r6, ${n}
  stw [%r10-4], 0
loop:
  mov %r1, %r6
  and %r1, 63
  stxw [%r10-4], %r1
  ldmapfd %r1, 0
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, next
  mov %r1, 1
  lock add [%r0], %r1
next:
  sub %r6, 1
  jne %r6, 0, loop
  mov %r0, 0
  exit`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(name: string, src: (n: number) => string, engine: Engine, n: number, runs: number, maps = false): void {
  const counts = createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64 });
  if (maps) {
    for (let k = 0; k < 64; k++) counts.update(Uint8Array.of(k, 0, 0, 0), new Uint8Array(8));
  }
  const vm = new Vm(parseUbpf(src(n)), { engine, budget: 1e12, maps: [counts] });
  vm.run(); // warm-up (and compile)
  const rates: number[] = [];
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    vm.run();
    const ns = Number(process.hrtime.bigint() - t0);
    steps = vm.steps;
    rates.push((steps / ns) * 1e9);
  }
  const ips = median(rates);
  process.stdout.write(
    JSON.stringify({ bench: `vm.${name}`, engine, instructions: steps, runs, insnPerSec: Math.round(ips), mips: Number((ips / 1e6).toFixed(1)) }) + '\n',
  );
}

const scale = quick ? 0.1 : 1;
measure('arith-loop', ARITH, Engine.JIT, Math.round(10_000_000 * scale), 7);
measure('arith-loop', ARITH, Engine.INTERPRETER, Math.round(300_000 * scale), 5);
measure('map-loop', MAPS, Engine.JIT, Math.round(300_000 * scale), 5, true);
measure('map-loop', MAPS, Engine.INTERPRETER, Math.round(100_000 * scale), 5, true);
