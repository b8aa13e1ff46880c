/**
 * Maps declared in an object: BTF-defined maps in the .maps section (libbpf's `__uint`,
 * `__type` and `__array` conventions from bpf_helpers.h) and the array maps libbpf creates for
 * global data sections (.data, .rodata, .bss and their suffixed variants, .kconfig).
 */
import { alignOf, resolveType, sizeOf, skipModifiers } from '../btf/layout.js';
import { BtfKind, BtfVarLinkage } from '../btf/kinds.js';
import type { Btf } from '../btf/parser.js';
import { SHN, SHT, STB, STT } from '../elf/constants.js';
import type { ElfFile } from '../elf/reader.js';
import type { ElfSection, ElfSymbol } from '../elf/types.js';
import { FormatError } from '../errors.js';
import { MapType } from '../uapi/enums.js';
import type { MapSlot, MapSpec, VariableSpec } from './spec.js';

const FORMAT = 'BPF object';
/** LIBBPF_PIN_BY_NAME in bpf_helpers.h. */
const PIN_BY_NAME = 1;
/** BPF_F_RDONLY_PROG / BPF_F_MMAPABLE (include/uapi/linux/bpf.h). */
const F_RDONLY_PROG = 1 << 7;
const F_MMAPABLE = 1 << 10;

function mapTypeName(value: number, where: string): string {
  const name = Object.entries(MapType).find(([, v]) => v === value)?.[0];
  if (name === undefined) throw new FormatError(FORMAT, 0, `${where}: unknown map type ${value}`);
  return name;
}

/** A MapSpec with every field at its default: readers and writers fill in what they know. */
export function emptyMap(name: string, section: string): MapSpec {
  return {
    name,
    type: 'UNSPEC',
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    mapExtra: 0n,
    pinning: 'none',
    keyType: undefined,
    valueType: undefined,
    section,
    innerMap: undefined,
    slots: [],
    data: undefined,
    variables: [],
    readOnly: false,
  };
}

/** `int (*name)[N]` encodes the integer N (libbpf's get_map_field_int). */
function intField(btf: Btf, typeId: number, where: string): number {
  const ptr = resolveType(btf, typeId);
  if (ptr === 0 || btf.kindOf(ptr) !== BtfKind.PTR) throw new FormatError(FORMAT, 0, `${where}: expected __uint(), i.e. a pointer to an array`);
  const arr = resolveType(btf, btf.sizeOrType(ptr));
  const t = arr === 0 ? undefined : btf.type(arr);
  if (!t || t.kind !== BtfKind.ARRAY) throw new FormatError(FORMAT, 0, `${where}: expected __uint(), i.e. a pointer to an array`);
  return t.nelems;
}

/** `T *name` encodes the type T (libbpf's __type()). */
function pointee(btf: Btf, typeId: number, where: string): number {
  const ptr = resolveType(btf, typeId);
  if (ptr === 0 || btf.kindOf(ptr) !== BtfKind.PTR) throw new FormatError(FORMAT, 0, `${where}: expected __type(), i.e. a pointer`);
  return btf.sizeOrType(ptr);
}

/**
 * Parses one BTF map definition struct (the type of a variable in .maps, or the element type of
 * an `__array(values, ...)`).
 */
function parseMapDef(btf: Btf, name: string, defType: number, section: string, isInner = false): { spec: MapSpec; valuesOffset: number | undefined } {
  const spec = emptyMap(name, section);
  const def = btf.type(resolveType(btf, defType));
  if (def.kind !== BtfKind.STRUCT) throw new FormatError(FORMAT, 0, `map '${name}': its definition must be a struct (use the __uint/__type macros of bpf_helpers.h)`);
  let valuesOffset: number | undefined;
  let typeSet = false;
  for (const m of def.members) {
    const where = `map '${name}' field '${m.name}'`;
    switch (m.name) {
      case 'type':
        spec.type = mapTypeName(intField(btf, m.type, where), where);
        typeSet = true;
        break;
      case 'max_entries':
        spec.maxEntries = intField(btf, m.type, where);
        break;
      case 'map_flags':
        spec.flags = intField(btf, m.type, where);
        break;
      case 'numa_node':
        spec.numaNode = intField(btf, m.type, where);
        break;
      case 'map_extra':
        spec.mapExtra = BigInt(intField(btf, m.type, where));
        break;
      case 'key_size':
      case 'value_size': {
        const size = intField(btf, m.type, where);
        const key = m.name === 'key_size';
        const current = key ? spec.keySize : spec.valueSize;
        if (current !== 0 && current !== size) throw new FormatError(FORMAT, 0, `${where}: ${size} conflicts with the size of the declared type (${current})`);
        if (key) spec.keySize = size;
        else spec.valueSize = size;
        break;
      }
      case 'key':
      case 'value': {
        const t = pointee(btf, m.type, where);
        const size = sizeOf(btf, t);
        if (size === undefined) throw new FormatError(FORMAT, 0, `${where}: type has no size`);
        const key = m.name === 'key';
        const current = key ? spec.keySize : spec.valueSize;
        if (current !== 0 && current !== size) throw new FormatError(FORMAT, 0, `${where}: size ${size} conflicts with the declared size ${current}`);
        if (key) {
          spec.keySize = size;
          spec.keyType = t;
        } else {
          spec.valueSize = size;
          spec.valueType = t;
        }
        break;
      }
      case 'pinning': {
        if (isInner) throw new FormatError(FORMAT, 0, `${where}: inner maps cannot be pinned`);
        const v = intField(btf, m.type, where);
        if (v !== 0 && v !== PIN_BY_NAME) throw new FormatError(FORMAT, 0, `${where}: unknown pinning ${v} (0 or LIBBPF_PIN_BY_NAME)`);
        spec.pinning = v === PIN_BY_NAME ? 'by_name' : 'none';
        break;
      }
      case 'values': {
        // __array(values, T): T *values[] — inner map template, or program slots of a prog array.
        if (isInner) throw new FormatError(FORMAT, 0, `${where}: maps of maps of maps are not supported`);
        const arr = btf.type(resolveType(btf, m.type));
        if (arr.kind !== BtfKind.ARRAY) throw new FormatError(FORMAT, 0, `${where}: expected __array(values, ...)`);
        valuesOffset = m.bitOffset / 8;
        const elem = resolveType(btf, arr.type);
        const target = elem === 0 || btf.kindOf(elem) !== BtfKind.PTR ? 0 : skipModifiers(btf, btf.sizeOrType(elem));
        if (target !== 0 && btf.kindOf(resolveType(btf, target)) === BtfKind.STRUCT) {
          spec.innerMap = parseMapDef(btf, `${name}.inner`, target, section, true).spec;
        }
        break;
      }
      default:
        throw new FormatError(FORMAT, 0, `${where}: unknown map definition field (libbpf rejects it too)`);
    }
  }
  if (!typeSet) throw new FormatError(FORMAT, 0, `map '${name}': missing __uint(type, ...)`);
  if ((spec.type === 'ARRAY_OF_MAPS' || spec.type === 'HASH_OF_MAPS') && !spec.innerMap) {
    throw new FormatError(FORMAT, 0, `map '${name}': a map of maps needs __array(values, struct { ... }) describing its inner map`);
  }
  if (spec.innerMap) {
    // Maps of maps store inner map fds: libbpf fills in the 4-byte value size.
    if (spec.valueSize === 0) spec.valueSize = 4;
  }
  if (spec.type === 'PROG_ARRAY' && spec.valueSize === 0) spec.valueSize = 4;
  return { spec, valuesOffset };
}

/**
 * Every BTF-defined map of the .maps section, with initial slots from its relocations (program
 * names for prog arrays, map names for maps of maps).
 */
export function readBtfMaps(file: ElfFile, btf: Btf | undefined): MapSpec[] {
  const section = file.section('.maps');
  if (!section) return [];
  if (!btf) throw new FormatError(FORMAT, section.offset, '.maps needs BTF to describe the maps: compile with -g');
  const datasec = btf.typeByName('.maps', BtfKind.DATASEC);
  if (!datasec || datasec.type.kind !== BtfKind.DATASEC) throw new FormatError(FORMAT, section.offset, 'no DATASEC .maps in BTF: compile with -g');
  const symbols = file.symbols();
  const relocs = file.relocationSectionsFor(section).flatMap((r) => file.relocations(r));
  const out: MapSpec[] = [];
  for (const v of datasec.type.vars) {
    const variable = btf.type(v.type);
    if (variable.kind !== BtfKind.VAR) throw new FormatError(FORMAT, section.offset + v.offset, '.maps may only contain variables');
    const { spec, valuesOffset } = parseMapDef(btf, variable.name, variable.type, '.maps');
    if (valuesOffset !== undefined) {
      // Clang leaves DATASEC offsets at 0: the map's symbol says where it really is.
      const sym = symbols.find((s) => s.shndx === section.index && s.name === variable.name);
      const start = sym ? Number(sym.value) : v.offset;
      const base = start + valuesOffset;
      for (const rel of relocs) {
        const at = Number(rel.offset);
        if (at < base || at >= start + v.size) continue;
        const sym = symbols[rel.symbol];
        if (!sym) throw new FormatError(FORMAT, at, `map '${spec.name}': relocation refers to symbol ${rel.symbol}, which does not exist`);
        spec.slots.push({ key: (at - base) / 8, value: sym.name } satisfies MapSlot);
      }
      spec.slots.sort((a, b) => a.key - b.key);
      if (spec.maxEntries === 0 && spec.slots.length > 0) spec.maxEntries = spec.slots[spec.slots.length - 1]!.key + 1;
    }
    out.push(spec);
  }
  return out;
}

/** Global data sections libbpf turns into maps: .data, .rodata, .bss, with optional suffixes. */
export function isDataSection(s: ElfSection): boolean {
  if (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS) return false;
  return /^\.(data|rodata|bss)(\..+)?$/.test(s.name) && !s.name.startsWith('.rodata.str') && !s.name.startsWith('.rodata.cst');
}

/**
 * Largest data section accepted: far above what the kernel allows for a map value (4 MiB,
 * KMALLOC_MAX_SIZE), so the kernel reports real cases, while a corrupt size cannot make the
 * reader allocate gigabytes.
 */
const MAX_DATA_SECTION = 64 << 20;

/** The array map of one global data section, with its variables. */
export function readDataMap(file: ElfFile, section: ElfSection, btf: Btf | undefined): MapSpec {
  if (section.size > MAX_DATA_SECTION) {
    throw new FormatError(FORMAT, section.offset, `section ${section.name} is ${section.size} bytes, more than any map value can hold`);
  }
  const spec = emptyMap(section.name, section.name);
  spec.type = 'ARRAY';
  spec.keySize = 4;
  spec.valueSize = section.size;
  spec.maxEntries = 1;
  spec.readOnly = section.name.startsWith('.rodata');
  spec.flags = (spec.readOnly ? F_RDONLY_PROG : 0) | F_MMAPABLE;
  spec.data = section.type === SHT.NOBITS ? new Uint8Array(section.size) : new Uint8Array(section.data);
  spec.variables = variablesOf(file, section, btf);
  const datasec = btf?.typeByName(section.name, BtfKind.DATASEC);
  if (datasec) spec.valueType = datasec.id;
  return spec;
}

/** Variables of a data section: from its BTF DATASEC when there is one, else from symbols. */
function variablesOf(file: ElfFile, section: ElfSection, btf: Btf | undefined): VariableSpec[] {
  const symbols = file.symbols().filter((s: ElfSymbol) => s.shndx === section.index && s.type === STT.OBJECT);
  const datasec = btf?.typeByName(section.name, BtfKind.DATASEC);
  if (btf && datasec && datasec.type.kind === BtfKind.DATASEC) {
    // Clang leaves DATASEC offsets at 0; the symbol table has the real ones (libbpf's
    // btf_fixup_datasec does the same).
    return datasec.type.vars.flatMap((v) => {
      const t = btf.type(v.type);
      if (t.kind !== BtfKind.VAR) return [];
      const sym = symbols.find((s) => s.name === t.name);
      const offset = sym ? Number(sym.value) : v.offset;
      return [{ name: t.name, offset, size: v.size, typeId: t.type, extern: t.linkage === BtfVarLinkage.GLOBAL_EXTERN }];
    });
  }
  return symbols.map((s) => ({ name: s.name, offset: Number(s.value), size: Number(s.size), typeId: undefined, extern: false }));
}

/**
 * The .kconfig extern map: a read-only array whose value the loader fills from the kernel
 * config. Clang leaves the layout to the loader; like libbpf, variables are placed by
 * decreasing alignment, then by name.
 */
export function readKconfigMap(file: ElfFile, btf: Btf | undefined): MapSpec | undefined {
  const datasec = btf?.typeByName('.kconfig', BtfKind.DATASEC);
  if (!btf || !datasec || datasec.type.kind !== BtfKind.DATASEC || datasec.type.vars.length === 0) return undefined;
  const spec = emptyMap('.kconfig', '.kconfig');
  spec.type = 'ARRAY';
  spec.keySize = 4;
  spec.maxEntries = 1;
  spec.readOnly = true;
  spec.flags = F_RDONLY_PROG | F_MMAPABLE;
  const vars = datasec.type.vars.flatMap((v) => {
    const t = btf.type(v.type);
    if (t.kind !== BtfKind.VAR) return [];
    const size = sizeOf(btf, t.type) ?? v.size;
    return [{ name: t.name, size, align: alignOf(btf, t.type) ?? 1, typeId: t.type }];
  });
  vars.sort((a, b) => b.align - a.align || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // __weak externs (STB_WEAK) default to zero when the kernel has no value for them.
  const weak = new Set(file.symbols().filter((s) => s.shndx === SHN.UNDEF && s.bind === STB.WEAK).map((s) => s.name));
  let offset = 0;
  for (const v of vars) {
    offset = Math.ceil(offset / v.align) * v.align;
    spec.variables.push({ name: v.name, offset, size: v.size, typeId: v.typeId, extern: true, ...(weak.has(v.name) ? { weak: true } : {}) });
    offset += v.size;
  }
  spec.valueSize = Math.max(1, Math.ceil(offset / 8) * 8);
  spec.data = new Uint8Array(spec.valueSize);
  return spec;
}
