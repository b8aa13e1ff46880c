/**
 * The seam to the CO-RE engine (src/btf/core): relocating a program's field offsets, type ids
 * and enum values against the running kernel's BTF before it is loaded.
 */
import type { Instruction } from '../asm/instruction.js';
import { applyCoreRelocations } from '../btf/core/index.js';
import type { Btf, CoreRelo } from '../btf/index.js';

/**
 * Applies a program's CO-RE relocations (a copy; the input is untouched). A relocation that
 * cannot be satisfied poisons its instruction, as libbpf does, so the verifier rejects the
 * program only if that code is reachable; a malformed one throws CoreRelocationError.
 *
 * Relocations are counted in instructions of `instructions`; poisoning an ld_imm64 turns it into
 * two one-slot instructions, so indices after it shift while slots stay (see Collection's
 * reindexing of func_info and line_info).
 */
export function relocateCore(
  instructions: readonly Instruction[],
  relos: ReadonlyArray<{ index: number; relo: CoreRelo }>,
  localBtf: Btf,
  targetBtf: Btf,
): Instruction[] {
  if (relos.length === 0) return [...instructions];
  return applyCoreRelocations(instructions, relos, localBtf, targetBtf).instructions;
}
