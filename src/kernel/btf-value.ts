/**
 * Values of global variables as JavaScript values, typed by their BTF: integers up to 32 bits
 * as numbers, 64-bit (and 128-bit) integers and pointers as bigints, bool as boolean, char
 * arrays as strings, other arrays as arrays, structs and unions as objects, floats as numbers.
 * Used for `constants` (set before load) and `collection.variables` (read and written after).
 * Values are in the host's byte order, as the kernel stores them.
 */
import { BtfIntEncoding, BtfKind, resolveType, sizeOf, type Btf, type BtfMember } from '../btf/index.js';
import { TsbpfError } from '../errors.js';

/** A variable's value in JavaScript. */
export type BtfValue = number | bigint | boolean | string | Uint8Array | BtfValue[] | { [member: string]: BtfValue };

/** A value that cannot be stored in a variable: wrong type, out of range, wrong size. */
export class VariableError extends TsbpfError {
  override name = 'VariableError';
  constructor(
    /** The variable, e.g. 'target_pid'. */
    readonly variable: string,
    readonly detail: string,
  ) {
    super(`variable '${variable}': ${detail}`);
  }
}

const LE = true;
const MAX_DEPTH = 32;

function isCharArrayElement(btf: Btf, id: number): boolean {
  const e = btf.type(resolveType(btf, id));
  return e.kind === BtfKind.INT && e.size === 1 && ((e.encoding & BtfIntEncoding.CHAR) !== 0 || /^(unsigned |signed )?char$/.test(e.name));
}

function readUint(view: DataView, at: number, size: number): bigint {
  switch (size) {
    case 1:
      return BigInt(view.getUint8(at));
    case 2:
      return BigInt(view.getUint16(at, LE));
    case 4:
      return BigInt(view.getUint32(at, LE));
    case 8:
      return view.getBigUint64(at, LE);
    default: {
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(at + i));
      return v;
    }
  }
}

function writeUint(view: DataView, at: number, size: number, v: bigint): void {
  const u = BigInt.asUintN(size * 8, v);
  switch (size) {
    case 1:
      view.setUint8(at, Number(u));
      break;
    case 2:
      view.setUint16(at, Number(u), LE);
      break;
    case 4:
      view.setUint32(at, Number(u), LE);
      break;
    case 8:
      view.setBigUint64(at, u, LE);
      break;
    default:
      for (let i = 0; i < size; i++) view.setUint8(at + i, Number((u >> BigInt(8 * i)) & 0xffn));
  }
}

/** An integer of `size` bytes (or `bits` bits) as JS: number up to 32 bits, bigint above. */
function intValue(raw: bigint, bits: number, signed: boolean): number | bigint {
  const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
  return bits <= 32 ? Number(v) : v;
}

/**
 * Decodes the bytes of a value of BTF type `typeId`.
 *
 * @example
 * decodeBtfValue(btf, counterTypeId, new Uint8Array(8)); // 0n for a __u64
 */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array): BtfValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeAt(btf, typeId, view, 0, bytes.byteLength, 0);
}

function decodeAt(btf: Btf, typeId: number, view: DataView, at: number, size: number, depth: number): BtfValue {
  const id = resolveType(btf, typeId);
  if (id === 0 || depth > MAX_DEPTH) return new Uint8Array(view.buffer, view.byteOffset + at, size).slice();
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.INT: {
      const raw = readUint(view, at, t.size);
      if (t.encoding & BtfIntEncoding.BOOL) return raw !== 0n;
      const bits = t.bits || t.size * 8;
      return intValue(raw >> BigInt(t.bitsOffset), bits, (t.encoding & BtfIntEncoding.SIGNED) !== 0);
    }
    case BtfKind.ENUM:
      return intValue(readUint(view, at, t.size), t.size * 8, t.signed);
    case BtfKind.ENUM64:
      return t.signed ? BigInt.asIntN(64, readUint(view, at, 8)) : readUint(view, at, 8);
    case BtfKind.PTR:
      return readUint(view, at, btf.pointerSize);
    case BtfKind.FLOAT:
      if (t.size === 4) return view.getFloat32(at, LE);
      if (t.size === 8) return view.getFloat64(at, LE);
      return new Uint8Array(view.buffer, view.byteOffset + at, t.size).slice();
    case BtfKind.ARRAY: {
      const elemSize = sizeOf(btf, t.type) ?? 0;
      if (isCharArrayElement(btf, t.type)) {
        const chars = new Uint8Array(view.buffer, view.byteOffset + at, t.nelems);
        const end = chars.indexOf(0);
        return new TextDecoder().decode(end < 0 ? chars : chars.subarray(0, end));
      }
      const out: BtfValue[] = [];
      for (let i = 0; i < t.nelems; i++) out.push(decodeAt(btf, t.type, view, at + i * elemSize, elemSize, depth + 1));
      return out;
    }
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      const out: { [m: string]: BtfValue } = {};
      decodeMembers(btf, t.members, view, at, depth, out);
      return out;
    }
    case BtfKind.DATASEC: {
      const out: { [m: string]: BtfValue } = {};
      for (const v of t.vars) {
        const vt = btf.type(v.type);
        if (vt.kind === BtfKind.VAR) out[vt.name] = decodeAt(btf, vt.type, view, at + v.offset, v.size, depth + 1);
      }
      return out;
    }
    default:
      return new Uint8Array(view.buffer, view.byteOffset + at, size).slice();
  }
}

function decodeMembers(btf: Btf, members: readonly BtfMember[], view: DataView, at: number, depth: number, out: { [m: string]: BtfValue }): void {
  for (const m of members) {
    const byte = at + Math.floor(m.bitOffset / 8);
    if (m.bitfieldSize > 0) {
      const mt = btf.type(resolveType(btf, m.type));
      const signed = (mt.kind === BtfKind.INT && (mt.encoding & BtfIntEncoding.SIGNED) !== 0) || (mt.kind === BtfKind.ENUM && mt.signed);
      const span = Math.ceil(((m.bitOffset % 8) + m.bitfieldSize) / 8);
      const raw = readUint(view, byte, span) >> BigInt(m.bitOffset % 8);
      out[m.name] = intValue(raw, m.bitfieldSize, signed);
      continue;
    }
    const size = sizeOf(btf, m.type) ?? 0;
    const value = decodeAt(btf, m.type, view, byte, size, depth + 1);
    // Anonymous struct/union members are reached by their members' names, as in C.
    if (m.name === '' && typeof value === 'object' && !(value instanceof Uint8Array) && !Array.isArray(value)) Object.assign(out, value);
    else out[m.name] = value;
  }
}

/**
 * Encodes `value` as BTF type `typeId` into `bytes` (which holds the current value: members an
 * object leaves out keep theirs). Throws a VariableError naming `name` for a value of the wrong
 * kind, out of range or of the wrong size.
 *
 * @example
 * encodeBtfValue(btf, typeId, 42, bytes, 'target_pid');
 */
export function encodeBtfValue(btf: Btf, typeId: number, value: BtfValue, bytes: Uint8Array, name: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  encodeAt(btf, typeId, value, view, 0, bytes.byteLength, name, 0);
}

function describe(v: BtfValue): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
}

function toBigInt(value: BtfValue, name: string, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw new VariableError(name, `${what} needs an integer, got ${describe(value)}`);
}

function checkRange(v: bigint, bits: number, signed: boolean, name: string, what: string): void {
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  // Unsigned types also take negative values that fit the signed range (-1 for all ones), as C does.
  const lo = signed ? min : -(1n << BigInt(bits - 1));
  if (v < lo || v > max) throw new VariableError(name, `${what}: ${v} does not fit in ${bits} ${signed ? 'signed' : 'unsigned'} bits`);
}

function encodeAt(btf: Btf, typeId: number, value: BtfValue, view: DataView, at: number, size: number, name: string, depth: number): void {
  if (value instanceof Uint8Array) {
    if (value.byteLength !== size) throw new VariableError(name, `${value.byteLength} bytes given, the variable has ${size}`);
    new Uint8Array(view.buffer, view.byteOffset + at, size).set(value);
    return;
  }
  const id = resolveType(btf, typeId);
  if (id === 0 || depth > MAX_DEPTH) throw new VariableError(name, `its type has no layout to encode ${describe(value)} into: pass ${size} bytes as a Uint8Array`);
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.INT: {
      if (t.encoding & BtfIntEncoding.BOOL && typeof value !== 'boolean' && value !== 0 && value !== 1) throw new VariableError(name, `bool needs true or false, got ${describe(value)}`);
      const v = typeof value === 'string' && value.length === 1 && t.size === 1 ? BigInt(value.charCodeAt(0)) : toBigInt(value, name, `a ${t.size}-byte integer`);
      const bits = t.bits || t.size * 8;
      checkRange(v, bits, (t.encoding & BtfIntEncoding.SIGNED) !== 0, name, `a ${t.name || 'integer'}`);
      writeUint(view, at, t.size, BigInt.asUintN(bits, v) << BigInt(t.bitsOffset));
      return;
    }
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      let v: bigint;
      if (typeof value === 'string') {
        const e = (t.values as Array<{ name: string; value: number | bigint }>).find((x) => x.name === value);
        if (!e) throw new VariableError(name, `enum ${t.name || '(anonymous)'} has no value named '${value}'`);
        v = BigInt(e.value);
      } else v = toBigInt(value, name, `enum ${t.name}`);
      checkRange(v, t.size * 8, t.signed, name, `enum ${t.name || '(anonymous)'}`);
      writeUint(view, at, t.size, v);
      return;
    }
    case BtfKind.PTR:
      writeUint(view, at, btf.pointerSize, toBigInt(value, name, 'a pointer'));
      return;
    case BtfKind.FLOAT:
      if (typeof value !== 'number') throw new VariableError(name, `a float needs a number, got ${describe(value)}`);
      if (t.size === 4) view.setFloat32(at, value, LE);
      else if (t.size === 8) view.setFloat64(at, value, LE);
      else throw new VariableError(name, `a ${t.size}-byte float needs a Uint8Array`);
      return;
    case BtfKind.ARRAY: {
      const elemSize = sizeOf(btf, t.type) ?? 0;
      if (typeof value === 'string') {
        if (!isCharArrayElement(btf, t.type)) throw new VariableError(name, `a string fits only a char array`);
        const text = new TextEncoder().encode(value);
        if (text.byteLength > t.nelems) throw new VariableError(name, `string of ${text.byteLength} bytes does not fit char[${t.nelems}]`);
        const dst = new Uint8Array(view.buffer, view.byteOffset + at, t.nelems);
        dst.fill(0);
        dst.set(text);
        return;
      }
      if (!Array.isArray(value)) throw new VariableError(name, `an array needs an array, got ${describe(value)}`);
      if (value.length > t.nelems) throw new VariableError(name, `${value.length} elements do not fit [${t.nelems}]`);
      value.forEach((v, i) => encodeAt(btf, t.type, v, view, at + i * elemSize, elemSize, `${name}[${i}]`, depth + 1));
      return;
    }
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      if (typeof value !== 'object' || Array.isArray(value)) throw new VariableError(name, `a ${t.kind === BtfKind.STRUCT ? 'struct' : 'union'} needs an object, got ${describe(value)}`);
      const known = new Set<string>();
      encodeMembers(btf, t.members, value, view, at, name, depth, known);
      const unknown = Object.keys(value).filter((k) => !known.has(k));
      if (unknown.length) throw new VariableError(name, `${t.name || 'the struct'} has no member ${unknown.map((k) => `'${k}'`).join(', ')}`);
      return;
    }
    default:
      throw new VariableError(name, `cannot encode ${describe(value)} into a ${t.kind} type: pass ${size} bytes as a Uint8Array`);
  }
}

function encodeMembers(btf: Btf, members: readonly BtfMember[], value: { [m: string]: BtfValue }, view: DataView, at: number, name: string, depth: number, known: Set<string>): void {
  for (const m of members) {
    const byte = at + Math.floor(m.bitOffset / 8);
    if (m.name === '') {
      const inner = btf.type(resolveType(btf, m.type));
      if (inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION) encodeMembers(btf, inner.members, value, view, byte, name, depth + 1, known);
      continue;
    }
    known.add(m.name);
    if (!(m.name in value)) continue;
    const v = value[m.name]!;
    if (m.bitfieldSize > 0) {
      const mt = btf.type(resolveType(btf, m.type));
      const signed = (mt.kind === BtfKind.INT && (mt.encoding & BtfIntEncoding.SIGNED) !== 0) || (mt.kind === BtfKind.ENUM && mt.signed);
      const n = toBigInt(v, `${name}.${m.name}`, `a ${m.bitfieldSize}-bit field`);
      checkRange(n, m.bitfieldSize, signed, `${name}.${m.name}`, 'bitfield');
      const shift = BigInt(m.bitOffset % 8);
      const span = Math.ceil(((m.bitOffset % 8) + m.bitfieldSize) / 8);
      const mask = ((1n << BigInt(m.bitfieldSize)) - 1n) << shift;
      const old = readUint(view, byte, span);
      writeUint(view, byte, span, (old & ~mask) | ((BigInt.asUintN(m.bitfieldSize, n) << shift) & mask));
      continue;
    }
    encodeAt(btf, m.type, v, view, byte, sizeOf(btf, m.type) ?? 0, `${name}.${m.name}`, depth + 1);
  }
}
