/**
 * What the annotator knows about a register at one instruction: a small abstract domain that
 * is enough to say "this is the context", "this points 8 bytes below the frame pointer", "this
 * is the value bpf_map_lookup_elem found in map counts".
 */

export type Value =
  | { k: 'unknown' }
  | { k: 'ctx' }
  /** A pointer into the stack frame, `off` bytes from the frame pointer (r10). */
  | { k: 'fp'; off: number }
  /** A map, as ld_imm64 loads it for helpers. */
  | { k: 'map'; name: string }
  /** A pointer into a map value or a ring buffer record that a helper returned. */
  | { k: 'value'; map: string; via: string; off: number }
  /** The address of a global variable or constant, `off` bytes into it. */
  | { k: 'global'; name: string; off: number }
  /** Whatever a helper returned (not a map value). */
  | { k: 'ret'; helper: string }
  | { k: 'const'; v: bigint }
  /** An argument of a BPF-to-BPF function. */
  | { k: 'arg'; n: number }
  /** A value read from memory the annotator could name (`ctx->minor`, `global target_pid`). */
  | { k: 'loaded'; from: string };

export type RegisterState = Value[];

export const UNKNOWN: Value = { k: 'unknown' };

export function sameValue(a: Value, b: Value): boolean {
  return JSON.stringify(a, bigintJson) === JSON.stringify(b, bigintJson);
}

function bigintJson(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** The state where two paths meet: registers both paths agree on, the rest unknown. */
export function join(a: RegisterState, b: RegisterState): RegisterState {
  return a.map((v, i) => (sameValue(v, b[i]!) ? v : UNKNOWN));
}

/** A value moved by `off` bytes (pointer arithmetic), or unknown where that means nothing. */
export function offsetBy(v: Value, delta: number): Value {
  switch (v.k) {
    case 'fp':
      return { k: 'fp', off: v.off + delta };
    case 'value':
      return { ...v, off: v.off + delta };
    case 'global':
      return { ...v, off: v.off + delta };
    case 'const':
      return { k: 'const', v: BigInt.asIntN(64, v.v + BigInt(delta)) };
    default:
      return UNKNOWN;
  }
}

/** How a value reads in a comment: `fp-8`, `&counts`, `ctx`, `counts value+4`. */
export function describeValue(v: Value): string | undefined {
  switch (v.k) {
    case 'ctx':
      return 'ctx';
    case 'fp':
      return v.off === 0 ? 'fp' : `fp${v.off < 0 ? '' : '+'}${v.off}`;
    case 'map':
      return `&${v.name}`;
    case 'value':
      return `${v.via}${v.off ? `+${v.off}` : ''}`;
    case 'global':
      return `&${v.name}${v.off ? `+${v.off}` : ''}`;
    case 'ret':
      return `${v.helper}()`;
    case 'const':
      return v.v.toString();
    case 'arg':
      return `arg${v.n}`;
    case 'loaded':
      return v.from;
    default:
      return undefined;
  }
}
