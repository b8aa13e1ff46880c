/** Shared bits of the VM tests. */
import assert from 'node:assert/strict';
import { parseUbpf } from '../../src/asm/ubpf.js';
import { VmError, type VmErrorKind } from '../../src/vm/errors.js';
import { Engine, type RunOptions, Vm, type VmOptions } from '../../src/vm/vm.js';

/** Both engines, for tests that run once per engine. */
export const ENGINES = [Engine.INTERPRETER, Engine.JIT] as const;

/** Assembles ubpf source and runs it once on `engine`. */
export function run(src: string, engine: Engine, options: VmOptions = {}, runOptions: RunOptions = {}): bigint {
  return new Vm(parseUbpf(src), { ...options, engine }).run(runOptions);
}

/** Asserts that `fn` throws a VmError of `kind` at `pc`; returns it. */
export function throwsVm(fn: () => unknown, kind: VmErrorKind, pc: number): VmError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof VmError, `expected a VmError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.equal(caught.pc, pc, caught.message);
  return caught;
}

/** Little-endian u32/u64 bytes. */
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
export function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}
export function readU64(b: Uint8Array, at = 0): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}
