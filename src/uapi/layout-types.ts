/** A field's place: [byte offset, byte size], or [storage offset, storage size, bit shift, bit width]. */
export type FieldPlace = readonly [number, number] | readonly [number, number, number, number];

/** The layout of a kernel struct, as generated into layouts.ts. */
export interface StructLayout {
  size: number;
  fields: Readonly<Record<string, FieldPlace>>;
}
