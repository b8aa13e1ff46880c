/**
 * The dialect's value types. On the TypeScript level integers are brands of `number` (8 to 32
 * bits) and `bigint` (64 bits), so that what user space decodes from a map (u64 as bigint, u32
 * as number) and what the kernel side declares are the same types, and mixing widths is an
 * error the editor shows (`const x: u32 = someU8` does not type-check; convert with `u32(x)`).
 * Literals adapt: `0` is a valid u8, u16, u32, i8, i16 or i32; `0n` a valid u64 or i64.
 *
 * In the kernel, arithmetic wraps at the type's width as in C. The conversion functions below
 * do the same in Node, so code shared with user space behaves alike.
 */

declare const INT: unique symbol;
declare const CHARS: unique symbol;
declare const POINTEE: unique symbol;

/** An integer of 8 to 32 bits: a `number` branded with its C type. */
type Int<K extends string> = number & { readonly [INT]?: K };
/** A 64-bit integer: a `bigint` branded with its C type. */
type Int64<K extends string> = bigint & { readonly [INT]?: K };

/** Unsigned 8-bit integer (C `__u8`). */
export type u8 = Int<'u8'>;
/** Unsigned 16-bit integer (C `__u16`). */
export type u16 = Int<'u16'>;
/** Unsigned 32-bit integer (C `__u32`). */
export type u32 = Int<'u32'>;
/** Unsigned 64-bit integer (C `__u64`), a bigint. */
export type u64 = Int64<'u64'>;
/** Signed 8-bit integer (C `__s8`). */
export type i8 = Int<'i8'>;
/** Signed 16-bit integer (C `__s16`). */
export type i16 = Int<'i16'>;
/** Signed 32-bit integer (C `__s32`). */
export type i32 = Int<'i32'>;
/** Signed 64-bit integer (C `__s64`), a bigint. */
export type i64 = Int64<'i64'>;
/** A C `bool` (one byte in memory). */
export type bool = boolean;

/**
 * A C array `T x[N]`: N elements of T inline in a struct, a map value or on the stack. Index
 * with a constant, or with a variable (the compiler adds the bounds check the verifier wants:
 * out-of-range reads give 0, writes are dropped); iterate with `for (const x of a)`.
 */
export type FixedArray<T, N extends number> = T[] & { readonly length: N };

/**
 * A C string buffer `char x[N]`. User space decodes it as a string (up to the first NUL), so it
 * is a branded `string` here; in the kernel it is N bytes usable with helpers
 * (`getCurrentComm`, `probeReadUserStr`), `strEq`, `strCopy` and `byteAt`.
 */
export type CharArray<N extends number> = string & { readonly [CHARS]?: N };

/** A task's command name, `char comm[16]` (TASK_COMM_LEN). */
export type Comm = CharArray<16>;

/**
 * A pointer to kernel (or user) memory holding a T. Property access dereferences it: in the
 * kernel each step is a CO-RE-relocated read (bpf_probe_read_kernel, or a direct load where the
 * verifier allows it, as for tp_btf and fentry arguments), so `task.real_parent.tgid` reads the
 * right offsets on every kernel. Convert to an address with `u64(p)`.
 */
export type Ptr<T> = T & { readonly [POINTEE]?: T };

function wrap(bits: number, signed: boolean, x: number | bigint | boolean): bigint {
  const v = typeof x === 'boolean' ? (x ? 1n : 0n) : typeof x === 'bigint' ? x : BigInt(Math.trunc(Number.isFinite(x) ? x : 0));
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

/** Converts to u8, wrapping like a C cast. */
export function u8(x: number | bigint | boolean): u8 {
  return Number(wrap(8, false, x));
}
/** Converts to u16, wrapping like a C cast. */
export function u16(x: number | bigint | boolean): u16 {
  return Number(wrap(16, false, x));
}
/** Converts to u32, wrapping like a C cast. */
export function u32(x: number | bigint | boolean): u32 {
  return Number(wrap(32, false, x));
}
/** Converts to u64, wrapping like a C cast (a negative i32 becomes 2^64 - |x|). */
export function u64(x: number | bigint | boolean): u64 {
  return wrap(64, false, x);
}
/** Converts to i8, wrapping like a C cast. */
export function i8(x: number | bigint | boolean): i8 {
  return Number(wrap(8, true, x));
}
/** Converts to i16, wrapping like a C cast. */
export function i16(x: number | bigint | boolean): i16 {
  return Number(wrap(16, true, x));
}
/** Converts to i32, wrapping like a C cast. */
export function i32(x: number | bigint | boolean): i32 {
  return Number(wrap(32, true, x));
}
/** Converts to i64, wrapping like a C cast. */
export function i64(x: number | bigint | boolean): i64 {
  return wrap(64, true, x);
}

/**
 * A zero value of any type (all bytes zero): `const key: Key = zero()`, or a zeroed global
 * `let hist: FixedArray<u64, 64> = zero()` (.bss). In Node it returns undefined cast to T:
 * it is meant for kernel code.
 */
export function zero<T>(): T {
  return undefined as T;
}
