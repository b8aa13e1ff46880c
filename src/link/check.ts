/** Input checks every attach kind starts with, before any system call. */
import type { Program, ProgTypeName } from '../kernel/program.js';
import { InvalidAttachError } from './errors.js';

/** Throws unless `program` is open and of one of `types` (and, if given, one of `attachTypes`). */
export function expectProgram(kind: string, program: Program, types: readonly ProgTypeName[], attachTypes?: readonly string[]): void {
  if (program.fd.closed) throw new InvalidAttachError(kind, `program '${program.name}' is closed`);
  if (!types.includes(program.type)) {
    throw new InvalidAttachError(kind, `program '${program.name}' is a ${program.type} program; ${kind} needs ${types.map((t) => `BPF_PROG_TYPE_${t}`).join(' or ')}`);
  }
  if (attachTypes && !attachTypes.includes(program.attachType ?? '')) {
    throw new InvalidAttachError(
      kind,
      `program '${program.name}' was loaded with expected attach type ${program.attachType ? `BPF_${program.attachType}` : 'none'}; ${kind} needs ${attachTypes.map((t) => `BPF_${t}`).join(' or ')}`,
    );
  }
}

/** Throws unless `value` is a non-negative integer (a pid, an offset, an ifindex). */
export function expectInteger(kind: string, what: string, value: number | bigint, min = 0): void {
  const ok = typeof value === 'bigint' ? value >= BigInt(min) : Number.isSafeInteger(value) && value >= min;
  if (!ok) throw new InvalidAttachError(kind, `${what} must be an integer >= ${min}, not ${String(value)}`);
}
