/** The error the object writer throws for a spec it cannot turn into a loadable object. */
import { TsbpfError } from '../errors.js';

/** What is wrong with a spec given to `writeObject`. */
export type ObjectWriteProblem =
  /** A reference, slot or instruction names a map the spec does not have. */
  | 'unknown-map'
  /** A slot, call or function address names a program or function the spec does not have. */
  | 'unknown-function'
  /** A global data reference or a variable lies (partly) outside its section. */
  | 'out-of-range'
  /** Two things that share a namespace (programs, maps, global symbols, variables) share a name. */
  | 'duplicate-name'
  /** A reference does not fit its instruction (a map reference on a call, a pseudo source without one). */
  | 'bad-reference'
  /** An instruction no BPF encoding has (reserved fields set, an unknown opcode...). */
  | 'invalid-instruction'
  /** `ProgramSpec.functions` does not partition the instructions, entry first. */
  | 'bad-layout'
  /** Two programs carry different code under one subprogram name. */
  | 'conflicting-function'
  /** A type id is not in the spec's BTF, or something needs BTF the spec does not give. */
  | 'missing-btf'
  /** A kernel function must be declared in BTF and is not; line info lacks a function start... */
  | 'incomplete'
  /** Something ELF objects (or libbpf) cannot express. */
  | 'unsupported';

/**
 * A spec that cannot be written: names what (`subject`), where (`where`: a program and
 * instruction index, a map, a section) and why (`detail`). Nothing is written when it is thrown.
 *
 * @example
 * try {
 *   writeObject(spec);
 * } catch (err) {
 *   if (err instanceof ObjectWriteError && err.problem === 'unknown-map') console.error(`no map ${err.subject}`);
 * }
 */
export class ObjectWriteError extends TsbpfError {
  override name = 'ObjectWriteError';
  constructor(
    /** The kind of problem, for callers that react to it. */
    readonly problem: ObjectWriteProblem,
    /** The name at fault: a map, program, function, variable or symbol name. */
    readonly subject: string,
    /** Where it was found, e.g. "program 'on_exec' instruction 12" or "map 'jumps' slot 3". */
    readonly where: string,
    /** What is wrong and, when there is one, how to fix it. */
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}
