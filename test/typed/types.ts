/**
 * Compile-time tests of the typed user side: tsc checks this file in the build (`npx tsc -p .`),
 * so a type that widens or a mistake that stops being an error (each `@ts-expect-error` line)
 * fails the build. Nothing here runs: the functions are never called.
 */
import type * as Typed from './typed.bpf.js';
import type { BpfMap } from '../../src/kernel/map.js';
import type { Collection } from '../../src/kernel/collection.js';
import type { Program } from '../../src/kernel/program.js';
import type { Plain } from '../../src/load-types.js';
import { load } from '../../src/load.js';
import type { CharArray, Comm, FixedArray, u16, u32, u64, i64, u8 } from '../../src/lang/index.js';

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<_ extends true>(): void {}

export async function typedLoad(url: URL): Promise<void> {
  await using obj = await load<typeof Typed>(url);

  // Maps: key and value types come from the declarations.
  same<Equal<ReturnType<typeof obj.maps.counts.lookup>, bigint | undefined>>();
  same<Equal<Parameters<typeof obj.maps.counts.lookup>[0], string>>();
  same<Equal<ReturnType<typeof obj.maps.pairs.lookup>, { a: number; b: bigint } | undefined>>();
  same<Equal<ReturnType<typeof obj.maps.execs.lookup>, bigint[] | undefined>>(); // per CPU
  same<Equal<Parameters<typeof obj.maps.execs.lookup>[0], number>>();
  obj.maps.pairs.update(1, { a: 1, b: 2n });
  for (const [comm, n] of obj.maps.counts) same<Equal<[typeof comm, typeof n], [string, bigint]>>();
  // Keyed maps are still BpfMaps (byte-level code keeps working).
  const raw: BpfMap = obj.maps.counts;
  void raw;
  // @ts-expect-error a Comm key is a string
  obj.maps.counts.lookup(1);
  // @ts-expect-error u64 values are bigints
  obj.maps.pairs.update(1, { a: 1, b: 2 });
  // @ts-expect-error the module declares no map 'nope'
  void obj.maps.nope;
  // @ts-expect-error a ring buffer has no lookup
  obj.maps.events.lookup(0);

  // Constants: the module's constant<T>() exports, as plain values.
  await using _c = await load<typeof Typed>(url, { constants: { pairA: 7 } });
  // @ts-expect-error a u32 constant is a number
  await using _d = await load<typeof Typed>(url, { constants: { pairA: 7n } });
  // @ts-expect-error the module declares no constant 'nope'
  await using _e = await load<typeof Typed>(url, { constants: { nope: 1 } });
  // Untyped loads take any name.
  await using _f = await load(url, { constants: { anything: 1n } });

  // Events: the record type the ring buffer was declared with, in plain JS types.
  for await (const e of obj.events('events')) {
    same<Equal<typeof e, { pid: number; pidTgid: bigint; comm: string; args: number[]; pair: { a: number; b: bigint } }>>();
  }
  // @ts-expect-error 'counts' is not a ring buffer or perf event array
  obj.events('counts');

  // Programs by their exported names.
  same<Equal<typeof obj.programs.onExec, Program>>();
  // @ts-expect-error 'events' is a map, not a program
  void obj.programs.events;
}

export async function untypedLoad(): Promise<void> {
  // Without a module type, load() is what it always was.
  const obj = await load('x.bpf.o');
  same<Equal<typeof obj, Collection>>();
  const m: BpfMap | undefined = obj.maps.anything;
  void m;
  const p: Program | undefined = obj.programs.anything;
  void p;
}

export function plainTypes(): void {
  same<Equal<Plain<u8 | u16 | u32>, number>>();
  same<Equal<Plain<u64>, bigint>>();
  same<Equal<Plain<i64>, bigint>>();
  same<Equal<Plain<Comm>, string>>();
  same<Equal<Plain<CharArray<64>>, string>>();
  same<Equal<Plain<FixedArray<u64, 4>>, bigint[]>>();
  same<Equal<Plain<FixedArray<FixedArray<u8, 2>, 2>>, number[][]>>();
  same<Equal<Plain<{ x: u32; inner: { y: boolean } }>, { x: number; inner: { y: boolean } }>>();
}
