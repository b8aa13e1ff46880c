/**
 * The seam to the CO-RE engine (src/btf/core): relocating a program's field offsets, type ids
 * and enum values against the running kernel's BTF. The engine is imported when this module is
 * first loaded, guarded, so that programs without CO-RE relocations load in builds that lack it;
 * a program that needs it then fails with a NotSupportedError naming why.
 */
import type { Instruction } from '../asm/instruction.js';
import type { Btf, CoreRelo } from '../btf/index.js';
import { NotSupportedError } from '../errors.js';

/** What the loader calls: src/btf/core's applyCoreRelocations. */
export type ApplyCoreRelocations = (
  instructions: readonly Instruction[],
  relos: ReadonlyArray<{ index: number; relo: CoreRelo }>,
  localBtf: Btf,
  targetBtf: Btf,
) => { instructions: Instruction[]; results: unknown[] };

let engine: ApplyCoreRelocations | undefined;
let unavailable = 'src/btf/core did not load';

// A computed specifier keeps the build independent of whether the engine is there yet.
const ENGINE = '../btf/core/index.js';
try {
  const mod = (await import(ENGINE)) as { applyCoreRelocations?: ApplyCoreRelocations };
  if (typeof mod.applyCoreRelocations === 'function') engine = mod.applyCoreRelocations;
  else unavailable = 'src/btf/core has no applyCoreRelocations';
} catch (err) {
  unavailable = `src/btf/core could not be loaded (${(err as Error).message.split('\n')[0]})`;
}

/** Whether the CO-RE engine is available in this build. */
export function haveCoreEngine(): boolean {
  return engine !== undefined;
}

/**
 * Applies a program's CO-RE relocations. Throws NotSupportedError when the engine is missing,
 * and whatever the engine throws (CoreRelocationError) when a relocation cannot be resolved.
 */
export function relocateCore(
  program: string,
  instructions: readonly Instruction[],
  relos: ReadonlyArray<{ index: number; relo: CoreRelo }>,
  localBtf: Btf,
  targetBtf: Btf,
): Instruction[] {
  if (relos.length === 0) return [...instructions];
  if (!engine) throw new NotSupportedError(`CO-RE relocation of program '${program}'`, unavailable);
  return engine(instructions, relos, localBtf, targetBtf).instructions;
}
