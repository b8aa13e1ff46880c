/**
 * Errors of CO-RE relocation. A relocation that libbpf would refuse (and so fail the whole
 * object load) is a CoreRelocationError; a relocation that merely cannot be satisfied on the
 * target is not an error but a poisoned instruction (see patch.ts).
 */
import { TsbpfError } from '../../errors.js';
import { coreReloKindShortName, type CoreRelo } from '../ext.js';

/**
 * A CO-RE relocation that cannot be applied: a malformed record (bad access string, member or
 * array index out of range, unknown kind, local type id that does not exist), an instruction
 * that cannot carry the relocated value (wrong class, register source, value does not match what
 * the compiler assumed), or a target that makes the result ambiguous. libbpf fails the load in
 * all these cases.
 */
export class CoreRelocationError extends TsbpfError {
  override name = 'CoreRelocationError';
  constructor(
    /** Index of the relocated instruction in the program's instruction array. */
    readonly index: number,
    /** The relocation record. */
    readonly relo: CoreRelo,
    /** What is wrong, in libbpf's terms where it has one. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `CO-RE relocation <${coreReloKindShortName(relo.kind)}> [${relo.typeId}] '${relo.accessStr}' at instruction ${index}: ${reason}`,
      options,
    );
  }
}

/**
 * Thrown inside the CO-RE modules, which do not know the instruction index; applyCoreRelocations
 * turns it into a CoreRelocationError. Internal: never escapes the public API.
 */
export class CoreFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Throws a CoreFailure (libbpf's -EINVAL/-E2BIG/-ERANGE paths). */
export function fail(reason: string): never {
  throw new CoreFailure(reason);
}
