/**
 * Global data sections (.rodata, .data, .bss and their suffixed variants), `license` and
 * `version`: contents, a symbol per variable, and DATASECs with the real offsets and sizes
 * (clang leaves zeros there for libbpf to fix up; libbpf keeps values that are already set).
 */
import { BtfKind, BtfVarLinkage, type BtfVarSecinfo } from '../btf/kinds.js';
import { SHF, SHT, STB, STT } from '../elf/constants.js';
import type { ElfDataSectionSpec } from '../elf/spec.js';
import type { MapSpec } from './spec.js';
import type { TypeTable } from './write-btf.js';
import { ObjectWriteError } from './write-error.js';
import type { SymbolTable } from './write-symbols.js';

/** Section names libbpf turns into global data maps (and tsbpf's reader reads back). */
export function isDataSectionName(name: string): boolean {
  return /^\.(data|rodata|bss)(\..+)?$/.test(name) && !name.startsWith('.rodata.str') && !name.startsWith('.rodata.cst');
}

interface PlacedVariable {
  name: string;
  offset: number;
  size: number;
  /** Symbol key, for global variables (relocations against static ones use the section). */
  symbol: string | undefined;
}

/** Where an ld_imm64 of a global's address points: the symbol and the instruction's imm. */
export interface DataTarget {
  symbol: string;
  imm: number;
}

/** The data sections of an object, and how references into them are relocated. */
export class DataSections {
  readonly sections: ElfDataSectionSpec[] = [];
  private readonly placed = new Map<string, { map: MapSpec; vars: PlacedVariable[] }>();

  constructor(
    private readonly table: TypeTable,
    private readonly symbols: SymbolTable,
  ) {}

  /** Adds one global data map as its section, with symbols and DATASEC. */
  add(map: MapSpec): void {
    const where = `map '${map.name}'`;
    const name = map.section;
    if (!isDataSectionName(name)) throw new ObjectWriteError('unsupported', map.name, where, `section '${name}' is not a global data section (.data, .rodata, .bss or name.suffix)`);
    if (map.name !== name) throw new ObjectWriteError('unsupported', map.name, where, `a global data map is named after its section: name '${map.name}' should be '${name}'`);
    const size = map.valueSize;
    const data = map.data ?? new Uint8Array(size);
    if (data.byteLength !== size) throw new ObjectWriteError('out-of-range', map.name, where, `data is ${data.byteLength} bytes but valueSize is ${size}`);
    const bss = name.startsWith('.bss');
    if (bss && data.some((b) => b !== 0)) throw new ObjectWriteError('unsupported', map.name, where, '.bss holds zeros only; put initialized variables in .data');
    this.sections.push({
      name,
      type: bss ? SHT.NOBITS : SHT.PROGBITS,
      flags: name.startsWith('.rodata') ? SHF.ALLOC : SHF.WRITE | SHF.ALLOC,
      ...(bss ? { size } : { data: new Uint8Array(data) }),
      addralign: 8,
    });

    const vars: PlacedVariable[] = [];
    const secinfo: BtfVarSecinfo[] = [];
    for (const v of map.variables) {
      const at = `${where} variable '${v.name}'`;
      if (v.extern) throw new ObjectWriteError('unsupported', v.name, at, 'extern variables belong in .kconfig');
      if (!Number.isInteger(v.offset) || !Number.isInteger(v.size) || v.offset < 0 || v.size < 0 || v.offset + v.size > size) {
        throw new ObjectWriteError('out-of-range', v.name, at, `bytes ${v.offset}..${v.offset + v.size} lie outside the ${size}-byte section ${name}`);
      }
      if (vars.some((p) => p.name === v.name)) throw new ObjectWriteError('duplicate-name', v.name, at, `${name} has two variables named '${v.name}'`);
      const varId = this.variableType(name, v.name, v.typeId, v.size, at);
      const linkage = (this.table.get(varId) as { linkage: number }).linkage;
      const isStatic = linkage === BtfVarLinkage.STATIC;
      const key = `var:${name}:${v.name}`;
      this.symbols.define(key, { name: v.name, type: STT.OBJECT, bind: isStatic ? STB.LOCAL : STB.GLOBAL, section: name, value: v.offset, size: v.size }, at);
      vars.push({ name: v.name, offset: v.offset, size: v.size, symbol: isStatic ? undefined : key });
      secinfo.push({ type: varId, offset: v.offset, size: v.size });
    }
    if (secinfo.length > 0) this.table.putDatasec(name, size, secinfo);
    this.placed.set(map.name, { map, vars });
  }

  /** The VAR of a variable: the spec's (retyped if the spec says so) or a new one. */
  private variableType(section: string, name: string, typeId: number | undefined, size: number, where: string): number {
    if (typeId !== undefined) this.table.check(typeId, false, name, where);
    const existing = this.table.datasecVar(section, name);
    const t = existing === undefined ? undefined : this.table.get(existing);
    if (existing !== undefined && t?.kind === BtfKind.VAR) {
      if (typeId !== undefined && typeId !== t.type) this.table.set(existing, { ...t, type: typeId });
      return existing;
    }
    const type = typeId ?? this.table.array(this.table.byteType(), size);
    return this.table.add({ kind: BtfKind.VAR, name, type, linkage: BtfVarLinkage.GLOBAL_ALLOCATED });
  }

  /** Relocation target of `&map + offset` (the variable holding it, as clang does, else the section). */
  target(mapName: string, offset: number, where: string): DataTarget | undefined {
    const p = this.placed.get(mapName);
    if (!p) return undefined;
    if (!Number.isInteger(offset) || offset < 0 || offset >= p.map.valueSize) {
      throw new ObjectWriteError('out-of-range', mapName, where, `offset ${offset} is outside the ${p.map.valueSize}-byte section ${mapName}`);
    }
    const v = p.vars.find((x) => x.symbol !== undefined && offset >= x.offset && offset < x.offset + x.size);
    if (v) return { symbol: v.symbol!, imm: offset - v.offset };
    return { symbol: this.symbols.sectionSymbol(p.map.section), imm: offset };
  }

  /** The `license` section: the string, NUL-terminated, as `char LICENSE[]`. */
  addLicense(license: string): void {
    const bytes = new TextEncoder().encode(license + '\0');
    const varId = this.namedVar('license', 'LICENSE', () => this.table.array(this.table.charType(), bytes.length), bytes.length);
    const name = (this.table.get(varId) as { name: string }).name;
    this.symbols.define(`var:license:${name}`, { name, type: STT.OBJECT, bind: STB.GLOBAL, section: 'license', value: 0, size: bytes.length }, 'license');
    this.table.putDatasec('license', bytes.length, [{ type: varId, offset: 0, size: bytes.length }]);
    this.sections.push({ name: 'license', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: bytes, addralign: 1 });
  }

  /** The `version` section: a u32 in the object's byte order. */
  addVersion(version: number, littleEndian: boolean): void {
    if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) throw new ObjectWriteError('unsupported', 'version', 'kernelVersion', `${version} is not a u32`);
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, version, littleEndian);
    const varId = this.namedVar('version', '_version', () => this.table.uintType(), 4);
    const name = (this.table.get(varId) as { name: string }).name;
    this.symbols.define(`var:version:${name}`, { name, type: STT.OBJECT, bind: STB.GLOBAL, section: 'version', value: 0, size: 4 }, 'version');
    this.table.putDatasec('version', 4, [{ type: varId, offset: 0, size: 4 }]);
    this.sections.push({ name: 'version', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data, addralign: 4 });
  }

  /** The spec's one VAR of DATASEC `section` if its type has `size` bytes, else a new VAR. */
  private namedVar(section: string, fallback: string, type: () => number, size: number): number {
    const existing = this.table.find((t) => t.kind === BtfKind.DATASEC && t.name === section);
    const ds = existing === undefined ? undefined : this.table.get(existing);
    const first = ds?.kind === BtfKind.DATASEC && ds.vars.length === 1 ? ds.vars[0]!.type : undefined;
    const v = first === undefined || first >= this.table.count ? undefined : this.table.get(first);
    if (first !== undefined && v?.kind === BtfKind.VAR && v.linkage === BtfVarLinkage.GLOBAL_ALLOCATED) {
      if (!(first < this.table.sourceCount && this.table.sourceSize(v.type) === size)) this.table.set(first, { ...v, type: type() });
      return first;
    }
    return this.table.add({ kind: BtfKind.VAR, name: fallback, type: type(), linkage: BtfVarLinkage.GLOBAL_ALLOCATED });
  }
}
