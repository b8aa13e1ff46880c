/**
 * The .maps section: one symbol per BTF-defined map and the BTF libbpf reads them from, in
 * bpf_helpers.h's conventions: a VAR of an anonymous struct whose members are
 * `int (*name)[N]` for numbers (__uint), `T *name` for types (__type) and `T *values[]`
 * (__array) for the inner map template or program slots, which .rel.maps fills.
 */
import { BtfKind, BtfVarLinkage, type BtfMember, type BtfVarSecinfo } from '../btf/kinds.js';
import { resolveType, sizeOf, skipModifiers } from '../btf/layout.js';
import type { Btf } from '../btf/parser.js';
import { R_BPF_64_ABS64, SHF, SHT, STB, STT } from '../elf/constants.js';
import type { ElfDataSectionSpec } from '../elf/spec.js';
import { MapType } from '../uapi/enums.js';
import type { MapSpec } from './spec.js';
import type { TypeTable } from './write-btf.js';
import { ObjectWriteError } from './write-error.js';
import type { PendingRelocation, SymbolTable } from './write-symbols.js';

/** LIBBPF_PIN_BY_NAME in bpf_helpers.h. */
const PIN_BY_NAME = 1;
const PTR_SIZE = 8;

/** A map definition as libbpf reads it from BTF (what the reader would make of it). */
interface DefInfo {
  type: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: number;
  keySize: number;
  valueSize: number;
  keyType: number | undefined;
  valueType: number | undefined;
  inner: DefInfo | undefined;
  /** What `values` points at: inner map definitions or program prototypes. */
  values: 'map' | 'prog' | undefined;
  valuesOffset: number | undefined;
  size: number;
}

/** A definition struct in the output BTF. */
interface Def {
  id: number;
  size: number;
  valuesOffset: number | undefined;
}

/** `int (*)[N]` -> N, or undefined when the member is not a __uint(). */
function uintOf(btf: Btf, id: number): number | undefined {
  const ptr = resolveType(btf, id);
  if (ptr === 0 || btf.kindOf(ptr) !== BtfKind.PTR) return undefined;
  const arr = resolveType(btf, btf.sizeOrType(ptr));
  const t = arr === 0 ? undefined : btf.type(arr);
  return t?.kind === BtfKind.ARRAY ? t.nelems : undefined;
}

/** Decodes a definition of the spec's BTF; undefined when it is anything but plain. */
function decodeDef(btf: Btf, id: number, inner: boolean): DefInfo | undefined {
  try {
    const def = btf.type(resolveType(btf, id));
    if (def.kind !== BtfKind.STRUCT) return undefined;
    const info: DefInfo = {
      type: -1, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n, pinning: 0, keySize: 0, valueSize: 0,
      keyType: undefined, valueType: undefined, inner: undefined, values: undefined, valuesOffset: undefined, size: def.size,
    };
    for (const [i, m] of def.members.entries()) {
      if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) return undefined;
      if (m.name === 'key' || m.name === 'value') {
        const ptr = resolveType(btf, m.type);
        if (ptr === 0 || btf.kindOf(ptr) !== BtfKind.PTR) return undefined;
        const target = btf.sizeOrType(ptr);
        const size = sizeOf(btf, target);
        if (size === undefined) return undefined;
        if (m.name === 'key') [info.keyType, info.keySize] = [target, size];
        else [info.valueType, info.valueSize] = [target, size];
      } else if (m.name === 'values') {
        if (inner || i !== def.members.length - 1) return undefined;
        const arr = btf.type(resolveType(btf, m.type));
        if (arr.kind !== BtfKind.ARRAY) return undefined;
        const elem = resolveType(btf, arr.type);
        if (elem === 0 || btf.kindOf(elem) !== BtfKind.PTR) return undefined;
        const target = skipModifiers(btf, btf.sizeOrType(elem));
        const kind = target === 0 ? 0 : btf.kindOf(resolveType(btf, target));
        if (kind === BtfKind.STRUCT) {
          info.inner = decodeDef(btf, target, true);
          if (!info.inner) return undefined;
          info.values = 'map';
        } else if (kind === BtfKind.FUNC_PROTO) info.values = 'prog';
        else return undefined;
        info.valuesOffset = m.bitOffset / 8;
      } else {
        const n = uintOf(btf, m.type);
        if (n === undefined) return undefined;
        switch (m.name) {
          case 'type': info.type = n; break;
          case 'max_entries': info.maxEntries = n; break;
          case 'map_flags': info.flags = n; break;
          case 'numa_node': info.numaNode = n; break;
          case 'map_extra': info.mapExtra = BigInt(n); break;
          case 'pinning': info.pinning = n; break;
          case 'key_size': if (info.keyType === undefined) info.keySize = n; else if (info.keySize !== n) return undefined; break;
          case 'value_size': if (info.valueType === undefined) info.valueSize = n; else if (info.valueSize !== n) return undefined; break;
          default: return undefined;
        }
      }
    }
    if (info.valueSize === 0 && (info.inner || info.type === MapType.PROG_ARRAY)) info.valueSize = 4;
    return info;
  } catch {
    return undefined;
  }
}

function mapTypeNumber(spec: MapSpec, where: string): number {
  const n = (MapType as Record<string, number>)[spec.type];
  if (n === undefined || spec.type === 'UNSPEC') throw new ObjectWriteError('unsupported', spec.name, where, `unknown map type '${spec.type}' (use a MapType name such as 'HASH')`);
  return n;
}

/** Whether an existing definition says exactly what `spec` says. */
function matches(spec: MapSpec, info: DefInfo, where: string): boolean {
  const same =
    mapTypeNumber(spec, where) === info.type &&
    spec.maxEntries === info.maxEntries &&
    spec.flags === info.flags &&
    spec.numaNode === info.numaNode &&
    spec.mapExtra === info.mapExtra &&
    (spec.pinning === 'by_name' ? PIN_BY_NAME : 0) === info.pinning &&
    spec.keySize === info.keySize &&
    spec.valueSize === info.valueSize &&
    spec.keyType === info.keyType &&
    spec.valueType === info.valueType;
  if (!same) return false;
  if (spec.innerMap) return info.inner !== undefined && matches(spec.innerMap, info.inner, `${where} inner map`);
  if (info.inner) return false;
  return spec.slots.length === 0 || info.values === 'prog';
}

function u32(v: number, field: string, spec: MapSpec, where: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ObjectWriteError('unsupported', spec.name, where, `${field} ${v} is not an unsigned 32-bit number`);
  return v;
}

/** Checks a declared key/value type against the declared size. */
function checkTyped(table: TypeTable, spec: MapSpec, id: number, size: number, what: string, where: string): void {
  table.check(id, false, spec.name, `${where} ${what} type`);
  const actual = table.sourceSize(id);
  if (actual === undefined) throw new ObjectWriteError('missing-btf', spec.name, where, `${what} type [${id}] has no size (void, a function or a forward declaration)`);
  if (size !== 0 && actual !== size) {
    throw new ObjectWriteError('missing-btf', spec.name, where, `${what} type [${id}] is ${actual} bytes, but ${what}Size is ${size}`);
  }
}

/** Builds a definition struct for `spec` in the output BTF. */
function generateDef(table: TypeTable, spec: MapSpec, inner: boolean, where: string): Def {
  const members: Array<[string, number]> = [];
  const uint = (name: string, v: number): void => {
    members.push([name, table.pointer(table.array(table.intType(), u32(v, name, spec, where)))]);
  };
  uint('type', mapTypeNumber(spec, where));
  if (spec.maxEntries !== 0) uint('max_entries', spec.maxEntries);
  if (spec.flags !== 0) uint('map_flags', spec.flags);
  if (spec.numaNode !== 0) uint('numa_node', spec.numaNode);
  if (spec.mapExtra !== 0n) {
    if (spec.mapExtra < 0n || spec.mapExtra > 0xffffffffn) throw new ObjectWriteError('unsupported', spec.name, where, `map_extra ${spec.mapExtra} does not fit __uint() (32 bits)`);
    uint('map_extra', Number(spec.mapExtra));
  }
  if (spec.keyType !== undefined) {
    checkTyped(table, spec, spec.keyType, spec.keySize, 'key', where);
    members.push(['key', table.pointer(spec.keyType)]);
  } else if (spec.keySize !== 0) uint('key_size', spec.keySize);
  const progSlots = spec.type === 'PROG_ARRAY' && spec.slots.length > 0;
  const impliedValue = spec.innerMap !== undefined || progSlots;
  if (impliedValue && spec.valueSize !== 4 && spec.valueSize !== 0) {
    throw new ObjectWriteError('unsupported', spec.name, where, `value size ${spec.valueSize}: maps of maps and prog arrays hold 4-byte ids`);
  }
  if (!impliedValue && spec.valueType !== undefined) {
    checkTyped(table, spec, spec.valueType, spec.valueSize, 'value', where);
    members.push(['value', table.pointer(spec.valueType)]);
  } else if (!impliedValue && spec.valueSize !== 0) uint('value_size', spec.valueSize);
  if (spec.pinning === 'by_name') {
    if (inner) throw new ObjectWriteError('unsupported', spec.name, where, 'an inner map template cannot be pinned');
    uint('pinning', PIN_BY_NAME);
  }
  let values: number | undefined;
  if (spec.innerMap) {
    if (inner) throw new ObjectWriteError('unsupported', spec.name, where, 'maps of maps of maps cannot be described');
    const innerDef = generateDef(table, spec.innerMap, true, `${where} inner map`);
    values = table.array(table.pointer(innerDef.id), 0);
  } else if (progSlots) {
    values = table.array(table.pointer(table.proto([{ name: '', type: table.pointer(0) }])), 0);
  }
  const btfMembers: BtfMember[] = members.map(([name, type], i) => ({ name, type, bitOffset: i * PTR_SIZE * 8, bitfieldSize: 0 }));
  const size = members.length * PTR_SIZE;
  if (values !== undefined) btfMembers.push({ name: 'values', type: values, bitOffset: size * 8, bitfieldSize: 0 });
  const id = table.add({ kind: BtfKind.STRUCT, name: '', size, members: btfMembers });
  return { id, size, valuesOffset: values === undefined ? undefined : size };
}

/** What the .maps section contributes to the object. */
export interface MapsOutput {
  section: ElfDataSectionSpec;
  relocations: PendingRelocation[];
}

/**
 * Lays out the BTF-defined maps in .maps (in spec order, 8-byte aligned), defines their symbols
 * ('map:<name>') and BTF (reusing the spec's definition when it says the same, else a new one),
 * and the relocations of initial slots. `programs` are the entry programs slots may name.
 */
export function writeBtfMaps(maps: readonly MapSpec[], table: TypeTable, symbols: SymbolTable, programs: ReadonlySet<string>): MapsOutput | undefined {
  if (maps.length === 0) return undefined;
  const names = new Set(maps.map((m) => m.name));
  const vars: BtfVarSecinfo[] = [];
  const relocations: PendingRelocation[] = [];
  let offset = 0;
  for (const map of maps) {
    const where = `map '${map.name}'`;
    const varId = table.datasecVar('.maps', map.name);
    const existing = varId === undefined ? undefined : table.get(varId);
    const source = table.source;
    let def: Def | undefined;
    if (existing?.kind === BtfKind.VAR && source && varId! < table.sourceCount) {
      const info = decodeDef(source, existing.type, false);
      if (info && matches(map, info, where)) def = { id: existing.type, size: info.size, valuesOffset: info.valuesOffset };
    }
    def ??= generateDef(table, map, false, where);
    let id: number;
    if (existing?.kind === BtfKind.VAR) {
      id = varId!;
      table.set(id, { ...existing, type: def.id });
    } else id = table.add({ kind: BtfKind.VAR, name: map.name, type: def.id, linkage: BtfVarLinkage.GLOBAL_ALLOCATED });

    let size = def.size;
    for (const slot of map.slots) {
      const at = `${where} slot ${slot.key}`;
      if (!Number.isInteger(slot.key) || slot.key < 0 || (map.maxEntries !== 0 && slot.key >= map.maxEntries)) {
        throw new ObjectWriteError('out-of-range', map.name, at, `slot ${slot.key} is outside 0..${map.maxEntries - 1}`);
      }
      let symbol: string;
      if (map.type === 'PROG_ARRAY') {
        if (!programs.has(slot.value)) throw new ObjectWriteError('unknown-function', slot.value, at, `no program is named '${slot.value}'`);
        symbol = `fn:${slot.value}`;
      } else if (map.innerMap) {
        if (!names.has(slot.value)) throw new ObjectWriteError('unknown-map', slot.value, at, `no map in .maps is named '${slot.value}'`);
        symbol = `map:${slot.value}`;
      } else throw new ObjectWriteError('unsupported', map.name, at, `initial slots need a prog array or a map of maps, not ${map.type}`);
      const slotOffset = def.valuesOffset! + slot.key * PTR_SIZE;
      relocations.push({ offset: offset + slotOffset, symbol, type: R_BPF_64_ABS64 });
      size = Math.max(size, slotOffset + PTR_SIZE);
    }
    symbols.define(`map:${map.name}`, { name: map.name, type: STT.OBJECT, bind: STB.GLOBAL, section: '.maps', value: offset, size }, where);
    vars.push({ type: id, offset, size });
    offset += Math.ceil(size / PTR_SIZE) * PTR_SIZE;
  }
  table.putDatasec('.maps', offset, vars);
  return {
    section: { name: '.maps', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(offset), addralign: 8 },
    relocations,
  };
}
