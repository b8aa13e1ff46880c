/**
 * The object writer: ObjectSpec (+ BTF) -> a standard BPF ELF object, laid out as clang lays
 * one out, so libbpf, bpftool and tsbpf's reader load it. It is what tsbpf's compiler emits,
 * and `readObject(writeObject(readObject(x)))` equals `readObject(x)` for clang's objects.
 */
import { encode } from '../asm/codec.js';
import { parseBtf } from '../btf/parser.js';
import { EM, ET, SHF, SHT, STB, STT } from '../elf/constants.js';
import { writeElf } from '../elf/writer.js';
import type { ElfSectionSpec } from '../elf/spec.js';
import type { MapSpec, ObjectSpec } from './spec.js';
import { TypeTable } from './write-btf.js';
import { writeCode } from './write-code.js';
import { DataSections } from './write-data.js';
import { ObjectWriteError } from './write-error.js';
import { Externs } from './write-externs.js';
import { writeBtfMaps } from './write-maps.js';
import { SymbolTable } from './write-symbols.js';

export { ObjectWriteError, type ObjectWriteProblem } from './write-error.js';

/** Options of `writeObject`. */
export interface WriteObjectOptions {
  /**
   * More externs (kfuncs, kernel variables, .kconfig values) to bind STB_WEAK, which lets
   * libbpf load the object when the kernel lacks them (`__weak` in C), besides those the spec
   * marks `weak` (as the reader does for clang's weak externs).
   */
  weakExterns?: Iterable<string>;
}

/**
 * Writes an ObjectSpec as a relocatable BPF ELF object (ET_REL, EM_BPF) in the spec's byte order.
 *
 * What the spec must supply (what `readObject` gives; tsbpf's compiler builds the same):
 * - `programs`: `name`, `section` (libbpf's SEC() name), `instructions` in the linked form
 *   (entry function first, each called subprogram once after it; local calls and function
 *   addresses relative, as the kernel takes them), `functions` (the [start, end) instruction
 *   range of each, entry first; may be empty for a program without subprograms), `references`
 *   (maps, globals, kfuncs, ksyms by name; the instruction's src/imm are rewritten to clang's
 *   form), and optionally `funcInfos`, `lineInfos` (file name, line text, line, column; the
 *   string offsets are ignored), `coreRelos`. `progType`, `attachTo` etc. follow from
 *   `section` and are ignored.
 * - `maps`: BTF-defined maps (`section: '.maps'`: type, key/value sizes or BTF types, max
 *   entries, flags, pinning, inner map template, initial slots), global data maps named after
 *   their section ('.rodata', '.data.x', '.bss': `data`, `valueSize`, `variables`), and the
 *   '.kconfig' map of extern variables (each with its BTF type).
 * - `btf` (or `btfBytes`): the types every type id of the spec refers to (key/value types,
 *   variables, func_info, CO-RE); build them with `BtfBuilder` and pass
 *   `parseBtf(builder.finish())`. Kfuncs need a FUNC with extern linkage (their prototype).
 *   Every type keeps its id and every string its offset; the writer appends what is missing:
 *   map definitions, VARs and DATASECs (with real offsets and sizes), FUNCs for functions
 *   without func_info (the BTF's FUNC of the same name if there is one), typeless ksyms.
 *   `btfExt` is ignored: .BTF.ext is rebuilt from the programs' records.
 * - `license`, `kernelVersion` (0: no `version` section).
 *
 * Subprograms go into .text (libbpf accepts static functions only there); they are global
 * symbols when their BTF FUNC says so, else local and called through .text's section symbol.
 *
 * Throws ObjectWriteError (with the problem, the name at fault and where) for specs that cannot
 * be written: unknown maps or functions, references out of range, duplicate names.
 *
 * @example
 * const spec = readObject(readFileSync('prog.bpf.o'));
 * spec.maps.find((m) => m.name === 'events')!.maxEntries = 1 << 16;
 * writeFileSync('prog-big.bpf.o', writeObject(spec));
 */
export function writeObject(spec: ObjectSpec, options: WriteObjectOptions = {}): Uint8Array {
  const le = spec.littleEndian;
  const table = new TypeTable(spec.btf ?? (spec.btfBytes ? parseBtf(spec.btfBytes) : undefined));
  const symbols = new SymbolTable();
  const maps = new Map<string, MapSpec>();
  for (const m of spec.maps) {
    if (maps.has(m.name)) throw new ObjectWriteError('duplicate-name', m.name, `map '${m.name}'`, `two maps are named '${m.name}'`);
    maps.set(m.name, m);
  }

  const externs = new Externs(table, symbols, options.weakExterns ?? []);
  const data = new DataSections(table, symbols);
  for (const m of spec.maps) {
    if (m.section === '.kconfig') externs.setKconfig(m);
    else if (m.section !== '.maps') data.add(m);
  }
  const code = writeCode(spec.programs, {
    maps,
    table,
    dataTarget: (map, offset, where) => (map === '.kconfig' ? externs.kconfigTarget(offset, where) : data.target(map, offset, where)),
    useExtern: (name, use, where, weak) => externs.use(name, use, where, weak),
  });
  for (const section of code) {
    for (const f of section.functions) {
      const name = f.source.name;
      const what = f.entry ? `program '${name}'` : `function '${name}'`;
      symbols.define(`fn:${name}`, { name, type: STT.FUNC, bind: f.global ? STB.GLOBAL : STB.LOCAL, section: section.name, value: f.slot * 8, size: f.slotCount * 8 }, what);
    }
  }
  const mapsSection = writeBtfMaps(spec.maps.filter((m) => m.section === '.maps'), table, symbols, new Set(spec.programs.map((p) => p.name)));
  externs.finish();
  if (spec.license !== '') data.addLicense(spec.license);
  if (spec.kernelVersion !== 0) data.addVersion(spec.kernelVersion, le);
  table.retireDatasecs();
  const btf = table.finish(le, code.map((c) => c.ext));

  // Sections in clang's order; the string table shared by symbol and section names, as LLVM does.
  const sections: ElfSectionSpec[] = [{ kind: 'strtab' }];
  for (const c of code) {
    sections.push({ name: c.name, type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.EXECINSTR, data: encode(c.instructions, { littleEndian: le }), addralign: 8 });
    if (c.relocations.length > 0) sections.push({ kind: 'relocations', target: c.name, relocations: symbols.resolve(c.relocations, `section ${c.name}`) });
  }
  if (mapsSection) {
    sections.push(mapsSection.section);
    if (mapsSection.relocations.length > 0) sections.push({ kind: 'relocations', target: '.maps', relocations: symbols.resolve(mapsSection.relocations, 'section .maps') });
  }
  sections.push(...data.sections);
  if (table.count > 1) {
    sections.push({ name: '.BTF', type: SHT.PROGBITS, data: btf.btf, addralign: 4 });
    if (btf.ext) sections.push({ name: '.BTF.ext', type: SHT.PROGBITS, data: btf.ext, addralign: 4 });
  }
  return writeElf({ littleEndian: le, type: ET.REL, machine: EM.BPF, sections, symbols: symbols.list, sharedStringTable: true });
}
