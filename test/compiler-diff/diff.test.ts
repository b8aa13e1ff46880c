/**
 * VM-vs-kernel differential test (issue 4, item 6): each program of testdata/diff runs in the
 * kernel (BPF_PROG_TEST_RUN) and in the VM (both engines) on the same fast-check inputs —
 * sequences of frames and __sk_buff fields — and must give the same return values, packets,
 * context writes, ring buffer records and map contents after every run (harness.ts says how
 * the VM is given what the test run gives a program). The clang-built objects prove the
 * harness; the same programs compiled from TypeScript (testdata/diff/*.bpf.ts) run through it
 * as soon as the compiler can build them.
 *
 * Seeded and bounded: TSBPF_DIFF_SEED (default 0x7eb9f) and TSBPF_DIFF_RUNS (default 60
 * sequences of up to 8 runs per program) reproduce or widen a run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { readObject, type ObjectSpec } from '../../src/object/index.js';
import { Engine } from '../../src/vm/index.js';
import { kernelTest } from '../support/kernel.js';
import { compiledFixture } from './compiled.js';
import { FIXTURES } from './fixtures.js';
import { globalsByName, KernelSide, VmSide, type DiffInput } from './harness.js';
import { runs } from './inputs.js';

const SEED = Number(process.env.TSBPF_DIFF_SEED ?? 0x7eb9f);
const NUM_RUNS = Number(process.env.TSBPF_DIFF_RUNS ?? 60);

/** Only maps both sides have: the VM makes models of the maps the program uses. */
function common(a: Record<string, string[]>, b: Record<string, string[]>): [Record<string, string[]>, Record<string, string[]>] {
  const names = Object.keys(a).filter((n) => n in b);
  return [Object.fromEntries(names.map((n) => [n, a[n]!])), Object.fromEntries(names.map((n) => [n, b[n]!]))];
}

const show = (x: DiffInput): string =>
  `frame ${Buffer.from(x.packet).toString('hex')} mark=${x.mark ?? 0} priority=${x.priority ?? 0} cb=${(x.cb ?? []).join(',')}`;

/**
 * Runs the property for one program of one object. With `twin` (the clang-built object of a
 * TypeScript program's C twin) the twin runs in the kernel too and must agree as well: the
 * compiler's semantics checked against clang's on the same inputs.
 */
function differential(spec: ObjectSpec, program: string, twin?: ObjectSpec): void {
  using kernel = new KernelSide(spec, program);
  using twinKernel = twin ? new KernelSide(twin, program) : undefined;
  const vms = [new VmSide(spec, program, Engine.JIT), new VmSide(spec, program, Engine.INTERPRETER)];
  let runsDone = 0;
  try {
    fc.assert(
    fc.property(runs, (sequence) => {
      kernel.reset();
      twinKernel?.reset();
      for (const vm of vms) vm.reset();
      sequence.forEach((input, i) => {
        const want = kernel.run(input);
        if (want === undefined) return; // a frame the kernel's test run refuses (harness.ts)
        const wantMaps = kernel.snapshot();
        if (twinKernel) {
          const where = `run ${i + 1} of ${sequence.length} on ${show(input)}`;
          assert.deepEqual(twinKernel.run(input), want, `the C twin (clang) differs from the TypeScript program (tsbpf) at ${where}`);
          const twinMaps = globalsByName(twinKernel.snapshot(), twin!);
          assert.deepEqual(Object.keys(twinMaps).sort(), Object.keys(wantMaps).sort(), 'the twins declare different maps');
          assert.deepEqual(twinMaps, globalsByName(wantMaps, spec), `the C twin's maps (clang) differ from the TypeScript program's (tsbpf) after ${where}`);
        }
        for (const vm of vms) {
          const where = `run ${i + 1} of ${sequence.length} (${vm.engine}) on ${show(input)}`;
          assert.deepEqual(vm.run(input), want, `result differs at ${where}`);
          const [k, v] = common(wantMaps, vm.snapshot());
          assert.deepEqual(v, k, `maps differ after ${where}`);
        }
        runsDone++;
      });
      const left = kernel.popAll();
      if (twinKernel) {
        const [k, c] = common(left, twinKernel.popAll());
        assert.deepEqual(c, k, 'queues/stacks of the C twin differ at the end');
      }
      for (const vm of vms) {
        const [k, v] = common(left, vm.popAll());
        assert.deepEqual(v, k, `queues/stacks differ at the end (${vm.engine})`);
      }
    }),
    { seed: SEED, numRuns: NUM_RUNS },
  );
  } catch (e) {
    // fast-check's message has the seed and the shrunk input; the assertion's has the diff.
    const cause = (e as Error).cause;
    throw new Error(`${(e as Error).message}\n${cause instanceof Error ? cause.message : String(cause)}`);
  }
  assert.ok(runsDone >= NUM_RUNS, `only ${runsDone} runs`);
}

for (const f of FIXTURES) {
  const clang = readObject(readFileSync(`testdata/diff/${f.file}.bpf.o`));
  kernelTest(`${f.file}.bpf.o (clang) ${f.program}: the VM and the kernel agree on ${f.covers}`, () => {
    differential(clang, f.program);
  });
  if (!existsSync(`testdata/diff/${f.file}.bpf.ts`)) continue;
  const compiled = await compiledFixture(`testdata/diff/${f.file}.bpf.ts`);
  const name = `${f.file}.bpf.ts (tsbpf) ${f.program}: the VM, the kernel and the C twin agree on ${f.covers}`;
  // Without the compiler the case is a todo (not a skip: CI fails on skipped kernel tests).
  const run = (): void => {
    if ('error' in compiled) throw compiled.error;
    if ('spec' in compiled) differential(compiled.spec, f.program, clang);
  };
  if ('missing' in compiled) test(name, { todo: compiled.missing }, () => {});
  else kernelTest(name, run, { timeout: 120_000 });
}
