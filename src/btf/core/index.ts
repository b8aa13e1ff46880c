/**
 * BPF CO-RE ("Compile Once - Run Everywhere") relocations resolved in userspace as libbpf does
 * (tools/lib/bpf/relo_core.c and the candidate search in libbpf.c): each `.BTF.ext` core_relo
 * record names an instruction, a local BTF type and an access path; the path is resolved in the
 * local BTF (what the compiler assumed) and in the target BTF (the running kernel's), and the
 * instruction's immediate, offset or 64-bit constant is rewritten from the one to the other.
 *
 * Modules: spec.ts (access strings), candidates.ts (same-named target types), compat.ts and
 * type-match.ts (type relations), match.ts (local spec -> target spec), calc.ts (values),
 * patch.ts (instructions), describe.ts (messages).
 */
import type { Instruction } from '../../asm/instruction.js';
import { FormatError } from '../../errors.js';
import { CoreReloKind, type CoreRelo } from '../ext.js';
import type { Btf } from '../parser.js';
import { calcRelo, type CoreReloRes } from './calc.js';
import { findCandidates } from './candidates.js';
import { describeResult } from './describe.js';
import { CoreFailure, CoreRelocationError, fail } from './errors.js';
import { matchSpec } from './match.js';
import { patchInstruction, poisonInstruction } from './patch.js';
import { parseLocalSpec, type CoreSpec } from './spec.js';

export { CoreRelocationError } from './errors.js';
export { essentialName, essentialNameLength, findCandidates } from './candidates.js';
export { typesAreCompat, fieldsAreCompat } from './compat.js';
export { typesMatch } from './type-match.js';
export { CORE_POISON_IMM, poisonInstruction } from './patch.js';

/** The outcome of one relocation. */
export interface CoreRelocationResult {
  /** Index of the relocated instruction in the input program. */
  index: number;
  /** bpf_core_relo_kind (CoreReloKind). */
  kind: number;
  accessStr: string;
  /**
   * The value the compiler assumed: what the instruction held (as an unsigned 64-bit number).
   * Whenever libbpf checks it, it equals the value computed from the local BTF.
   */
  localValue: bigint;
  /** The value for the target; 0n and meaningless when `poisoned`. */
  targetValue: bigint;
  /** The relocation could not be satisfied and the instruction was replaced by libbpf's poison. */
  poisoned: boolean;
  /** e.g. "struct task_struct::real_parent (0:96): byte offset 40 -> 1280". */
  description: string;
}

/** Resolved values plus the specs they came from. */
interface Resolved {
  res: CoreReloRes;
  local: CoreSpec;
  target: CoreSpec | undefined;
}

/**
 * bpf_core_calc_relo_insn(): resolves one relocation against the candidates of its local type.
 * `cache` holds each local type's candidate list and is pruned, as libbpf prunes it, to the
 * candidates that matched whenever at least one did.
 */
function resolve(relo: CoreRelo, localBtf: Btf, targetBtf: Btf, cache: Map<number, number[]>): Resolved {
  const local = parseLocalSpec(localBtf, relo);
  const littleEndian = targetBtf.littleEndian;

  // the local type id needs no target: it is patched in as it is, never checked (linking may
  // renumber types)
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const id = BigInt(relo.typeId);
    return {
      res: { origVal: id, newVal: id, poison: false, validate: false, failMemszAdjust: false, origSz: 0, newSz: 0, origTypeId: 0, newTypeId: 0 },
      local,
      target: undefined,
    };
  }
  if (localBtf.nameOf(relo.typeId) === '') fail(`relocations against anonymous types are not supported (local type [${relo.typeId}] has no name)`);

  let cands = cache.get(relo.typeId);
  if (!cands) cache.set(relo.typeId, (cands = findCandidates(localBtf, relo.typeId, targetBtf)));

  let first: Resolved | undefined;
  const matched: number[] = [];
  for (const cand of cands) {
    const target = matchSpec(local, targetBtf, cand);
    if (!target) continue;
    const res = calcRelo(relo.kind, local, target, littleEndian);
    if (!first) {
      first = { res, local, target };
    } else if (target.bitOffset !== first.target!.bitOffset) {
      // every matching candidate must agree on the field's place...
      fail(`field offset ambiguity: candidates [${first.target!.rootTypeId}] and [${cand}] put the field at bit ${first.target!.bitOffset} and ${target.bitOffset}`);
    } else if (res.poison !== first.res.poison || res.newVal !== first.res.newVal) {
      // ...and on the value
      fail(
        `relocation decision ambiguity: candidate [${first.target!.rootTypeId}] gives ${first.res.poison ? 'failure' : first.res.newVal}, candidate [${cand}] gives ${res.poison ? 'failure' : res.newVal}`,
      );
    }
    matched.push(cand);
  }
  if (first) {
    cache.set(relo.typeId, matched);
    return first;
  }
  // no candidate matched: existence checks become 0, other relocations poison the instruction
  return { res: calcRelo(relo.kind, local, undefined, littleEndian), local, target: undefined };
}

/**
 * Applies a program's CO-RE relocations: resolves each record against `targetBtf` (usually the
 * kernel's /sys/kernel/btf/vmlinux) and patches the instruction it names, as libbpf does when
 * it loads an object.
 *
 * - Field relocations find the field by name in same-named (modulo `___flavour`) target types,
 *   through anonymous structs/unions; offsets, sizes, signedness and bitfield shifts are patched
 *   into ALU immediates, load/store offsets (adjusting the access size when an unsigned int or
 *   pointer field changed size) or ld_imm64 constants.
 * - Type relocations give the target type's existence, size, id or TYPE_MATCHES verdict (0 when
 *   there is no such type); enum relocations the enumerator's existence or value.
 * - A relocation that cannot be satisfied (field or enumerator missing, a load of a field that
 *   changed size and signedness) replaces the instruction with libbpf's poison, `call 0xbad2310`,
 *   which the verifier only rejects if it is reachable. A poisoned ld_imm64 becomes two such
 *   calls, as in libbpf: the returned array is then one element longer and the indices of later
 *   instructions shift by one (slot offsets, hence jumps, are unchanged).
 *
 * Relocations are applied in the order given; a local type's candidate list is shared and
 * pruned across them as libbpf prunes it. The input array is not modified.
 *
 * @throws CoreRelocationError (with the instruction index) for anything libbpf fails the load
 * for: malformed records, an instruction that cannot hold the value or holds an unexpected
 * value, ambiguous candidates.
 *
 * @example
 * const spec = readObject(readFileSync('probe.bpf.o'));
 * const kernel = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'));
 * const prog = spec.programs[0];
 * const { instructions, results } = applyCoreRelocations(prog.instructions, prog.coreRelos, spec.btf!, kernel);
 * for (const r of results) console.log(r.description);
 */
export function applyCoreRelocations(
  instructions: readonly Instruction[],
  relos: ReadonlyArray<{ index: number; relo: CoreRelo }>,
  localBtf: Btf,
  targetBtf: Btf,
): { instructions: Instruction[]; results: CoreRelocationResult[] } {
  const work = instructions.map((i) => ({ ...i }));
  const wide = new Set<number>();
  const cache = new Map<number, number[]>();
  const results: CoreRelocationResult[] = [];
  for (const { index, relo } of relos) {
    if (!(Number.isInteger(index) && index >= 0 && index < work.length)) {
      throw new CoreRelocationError(index, relo, `instruction index ${index} is outside the program (${work.length} instructions)`);
    }
    try {
      const { res, local, target } = resolve(relo, localBtf, targetBtf, cache);
      const out = patchInstruction(work[index]!, res);
      work[index] = out.insn;
      if (out.wide) wide.add(index);
      // what the compiler put in the instruction; equal to the local BTF's value whenever it is
      // checked (bitfield offsets/sizes/shifts and target type ids are not)
      const localValue = out.current ?? res.origVal;
      results.push({
        index,
        kind: relo.kind,
        accessStr: relo.accessStr,
        localValue,
        targetValue: out.poisoned ? 0n : res.newVal,
        poisoned: out.poisoned,
        description: describeResult(localBtf, local, target, localValue, res.newVal, out.poisoned ? (out.poisonReason ?? 'not found in the target') : undefined, out.resized),
      });
    } catch (err) {
      if (err instanceof CoreFailure) throw new CoreRelocationError(index, relo, err.reason);
      // malformed BTF (a cyclic typedef chain, a bad type id inside a type) met while resolving
      if (err instanceof FormatError) throw new CoreRelocationError(index, relo, err.message, { cause: err });
      throw err;
    }
  }
  if (wide.size === 0) return { instructions: work, results };
  // a poisoned ld_imm64 keeps its two slots: two poison calls
  const expanded: Instruction[] = [];
  work.forEach((insn, i) => {
    expanded.push(insn);
    if (wide.has(i)) expanded.push(poisonInstruction());
  });
  return { instructions: expanded, results };
}
