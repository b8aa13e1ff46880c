/**
 * Facts about one executable section the annotator needs: its functions, what each relocation
 * points at (maps, globals, string literals, functions) and the value types of its maps.
 */
import { BtfKind, resolveType, type Btf } from '../../btf/index.js';
import { SHT, STT, type ElfFile, type ElfSection, type ElfSymbol } from '../../elf/index.js';

/** What an ld_imm64 or call in the section refers to through a relocation. */
export type Target =
  | { k: 'map'; name: string }
  | { k: 'global'; name: string; off: number; text?: string }
  | { k: 'function'; name: string };

export interface FunctionRange {
  name: string;
  start: number;
  end: number;
}

/** Functions of a section by slot range; code before the first symbol counts as one too. */
export function functionsOf(file: ElfFile, section: ElfSection): FunctionRange[] {
  const slots = Math.floor(section.size / 8);
  const starts = file
    .symbols()
    .filter((s) => s.shndx === section.index && s.type === STT.FUNC)
    .map((s) => ({ name: s.name, start: Number(s.value / 8n) }))
    .sort((a, b) => a.start - b.start);
  if (starts.length === 0 || starts[0]!.start !== 0) starts.unshift({ name: section.name, start: 0 });
  return starts.map((f, i) => ({ ...f, end: starts[i + 1]?.start ?? slots }));
}

function isMapsSection(name: string): boolean {
  return name === '.maps' || name === 'maps';
}

/** The printable NUL-terminated string at `off` in `data`, if there is one. */
function stringAt(data: Uint8Array, off: number): string | undefined {
  const end = data.indexOf(0, off);
  if (end <= off || end - off > 200) return undefined;
  const bytes = data.subarray(off, end);
  if (!bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x09)) return undefined;
  return JSON.stringify(new TextDecoder().decode(bytes));
}

/** Relocation targets of a section by byte offset of the instruction they patch. */
export function relocationTargets(file: ElfFile, section: ElfSection): Map<number, Target> {
  const out = new Map<number, Target>();
  const symbols = file.symbols();
  for (const relSec of file.relocationSectionsFor(section)) {
    if (relSec.type !== SHT.REL && relSec.type !== SHT.RELA) continue;
    for (const rel of file.relocations(relSec)) {
      const sym = symbols[rel.symbol];
      if (!sym) continue;
      const insnAddend = readImm(file, section, Number(rel.offset));
      const target = describeSymbol(file, symbols, sym, insnAddend + Number(rel.addend ?? 0n));
      if (target) out.set(Number(rel.offset), target);
    }
  }
  return out;
}

function readImm(file: ElfFile, section: ElfSection, at: number): number {
  if (at + 8 > section.data.byteLength) return 0;
  return new DataView(section.data.buffer, section.data.byteOffset + at).getInt32(4, file.littleEndian);
}

function describeSymbol(file: ElfFile, symbols: readonly ElfSymbol[], sym: ElfSymbol, addend: number): Target | undefined {
  const sec = file.sections[sym.shndx];
  if (sym.type === STT.FUNC || (sec && sym.type === STT.SECTION && (sec.flags & 0x4n) !== 0n)) {
    if (sym.type === STT.FUNC) return { k: 'function', name: sym.name };
    const fn = symbols.find((s) => s.shndx === sym.shndx && s.type === STT.FUNC && Number(s.value) === addend);
    return fn ? { k: 'function', name: fn.name } : undefined;
  }
  if (!sec) return sym.name ? { k: 'global', name: sym.name, off: addend } : undefined;
  if (isMapsSection(sec.name)) return { k: 'map', name: sym.name };
  // A section symbol plus an offset: name the variable that covers it (a string literal often).
  const offset = sym.type === STT.SECTION ? addend : Number(sym.value) + addend;
  const owner = symbols.find(
    (s) => s.shndx === sym.shndx && s.type === STT.OBJECT && Number(s.value) <= offset && offset < Number(s.value + (s.size || 1n)),
  );
  const text = sec.type === SHT.PROGBITS && sec.name.startsWith('.rodata') ? stringAt(sec.data, offset) : undefined;
  const name = owner?.name ?? sec.name;
  return { k: 'global', name, off: offset - (owner ? Number(owner.value) : 0), ...(text ? { text } : {}) };
}

/** Value type of each BTF-defined map, from the `value` member of its .maps definition. */
export function mapValueTypes(btf: Btf | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const sec = btf?.typeByName('.maps', BtfKind.DATASEC);
  if (!btf || !sec || sec.type.kind !== BtfKind.DATASEC) return out;
  for (const v of sec.type.vars) {
    const variable = btf.type(v.type);
    if (variable.kind !== BtfKind.VAR) continue;
    const def = btf.type(resolveType(btf, variable.type));
    if (def.kind !== BtfKind.STRUCT) continue;
    const value = def.members.find((m) => m.name === 'value');
    if (!value) continue;
    const ptr = resolveType(btf, value.type);
    if (ptr !== 0 && btf.kindOf(ptr) === BtfKind.PTR) out.set(variable.name, btf.sizeOrType(ptr));
  }
  return out;
}
