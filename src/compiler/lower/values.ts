/**
 * What lowering an expression gives: a scalar in a register or an immediate, a place in memory
 * (an lvalue, or an aggregate), a maybe-missing reference (`V | undefined` from a map lookup, a
 * ring buffer reservation, a queue pop), or something only the compiler handles (a map, the
 * helpers namespace, a string literal). Local variables are bindings to these.
 */
import type { Base, CoreStep, Value } from '../ir.js';
import type { ConstValue, MapDecl } from '../module.js';
import type { StructType, Type } from '../types.js';

/**
 * Where a place is, which decides how it is read and written: direct loads and stores (stack,
 * map values, ring buffer records, context, packet, globals), probe reads (kernel and user
 * memory behind pointers), or direct loads of BTF pointers (tp_btf, fentry arguments).
 */
export type Space = 'stack' | 'map' | 'ringbuf' | 'ctx' | 'packet' | 'global' | 'rodata' | 'local' | 'kernel' | 'user' | 'btf';

/** The CO-RE access chain from a kernel struct to a member. */
export interface CoreChain {
  root: StructType;
  /** The members and array elements from the root (the access string after its leading 0). */
  access: CoreStep[];
}

/** A memory location of a known type. */
export interface Place {
  base: Base;
  off: number;
  space: Space;
  /** Alignment of base + off that can be relied on (stack accesses must be aligned). */
  align: number;
  core?: CoreChain;
  /** Memory other CPUs may write at the same time (map values, globals): `+=` is atomic. */
  shared?: boolean;
  /** A run-time index into an array at this place: accesses are bounds-checked. */
  dynamic?: { index: { type: Type; v: Value }; length: number; size: number };
}

/** A reference that may be missing. */
export interface NullRef {
  /** Register holding the address (0 when missing, unless `ok` decides). */
  ptr: number;
  /** Register that is 0 when the value is present (pop/peek results). */
  ok?: number;
  space: Space;
  source: 'lookup' | 'reserve' | 'pop' | 'packet';
  /** The map it came from. */
  map?: MapDecl;
  /** Map values other CPUs may write (non-per-CPU maps). */
  shared?: boolean;
}

export type Val =
  | { k: 'scalar'; type: Type; v: Value }
  | { k: 'place'; type: Type; place: Place }
  | { k: 'nullable'; type: Type; ref: NullRef; binding?: NullableBinding }
  | { k: 'string'; text: string }
  | { k: 'void' }
  | { k: 'map'; map: MapDecl }
  | { k: 'helpers' }
  | { k: 'consts'; name: string; members: Map<string, ConstValue> }
  | { k: 'callee'; name: string; what: 'local' | 'lang' | 'int' }
  /** A condition that already branched (strEq, has in an if): the flows of its two edges. */
  | { k: 'branched'; t: import('./flow.js').Flow | undefined; f: import('./flow.js').Flow | undefined };

/** A scalar local variable in a virtual register. */
export interface RegBinding {
  kind: 'reg';
  id: number;
  name: string;
  reg: number;
  type: Type;
  mutable: boolean;
}
/** A local aggregate (on the stack, or an alias of another place). */
export interface PlaceBinding {
  kind: 'place';
  id: number;
  name: string;
  place: Place;
  type: Type;
  mutable: false;
}
/** A local holding `V | undefined`. */
export interface NullableBinding {
  kind: 'nullable';
  id: number;
  name: string;
  ref: NullRef;
  type: Type;
  mutable: boolean;
  /** Source offset of the declaration (for messages). */
  at: number;
}
/** A name bound to a compile-time value (const of a literal, a map, a namespace). */
export interface ValueBinding {
  kind: 'value';
  id: number;
  name: string;
  val: Val;
  mutable: false;
}

export type Binding = RegBinding | PlaceBinding | NullableBinding | ValueBinding;
