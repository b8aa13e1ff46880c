import { NotSupportedError } from '../errors.js';
import { ELF64_SIZE, SHF, SHN, SHT } from './constants.js';
import type { ElfFile } from './reader.js';
import type { ElfSectionSpec, ElfSymbolSpec, ElfWriteSpec, SectionRef } from './spec.js';
import type { ElfSection } from './types.js';

/**
 * The write spec that reproduces `file`: same sections in the same order (so indices are
 * kept), same symbols and relocations; .symtab, its string table, .shstrtab and .symtab_shndx
 * become markers the writer regenerates. `writeElf(elfToWriteSpec(parseElf(b)))` parses to the
 * same sections, symbols and relocations, with string tables rebuilt and offsets recomputed.
 * Files with program headers are refused (the writer emits none).
 */
export function elfToWriteSpec(file: ElfFile): ElfWriteSpec {
  if (file.segments.length > 0) {
    throw new NotSupportedError('writing ELF program headers', `the file has ${file.segments.length} segments and writeElf emits relocatable layouts without any`);
  }
  const sections = file.sections;
  const symtab = sections.find((s) => s.index > 0 && s.type === SHT.SYMTAB);
  const symbols = symtab === undefined ? undefined : file.symbols();
  const shared = symtab !== undefined && file.shstrndx !== SHN.UNDEF && file.shstrndx === symtab.link;
  const shndxTable = symtab === undefined ? undefined : sections.find((s) => s.index > 0 && s.type === SHT.SYMTAB_SHNDX && s.link === symtab.index);

  const nameCount = new Map<string, number>();
  for (const s of sections) nameCount.set(s.name, (nameCount.get(s.name) ?? 0) + 1);
  // Refer to sections by name where that is unambiguous, else by their (unchanged) index.
  const ref = (index: number): SectionRef => {
    const name = sections[index]?.name;
    return index > 0 && name !== undefined && name !== '' && nameCount.get(name) === 1 ? name : index;
  };

  const out: ElfSectionSpec[] = sections.slice(1).map((s): ElfSectionSpec => {
    if (s === symtab) return { kind: 'symtab', name: s.name };
    if (symtab !== undefined && s.index === symtab.link) return { kind: 'strtab', name: s.name };
    if (s.index === file.shstrndx) return { kind: 'shstrtab', name: s.name };
    if (s === shndxTable) return { kind: 'symtab_shndx', name: s.name };
    const isReloc = s.type === SHT.REL || s.type === SHT.RELA;
    if (isReloc && symtab !== undefined && s.link === symtab.index && s.info > 0 && s.info < sections.length) {
      return {
        kind: 'relocations',
        name: s.name,
        target: ref(s.info),
        rela: s.type === SHT.RELA,
        flags: s.flags,
        addralign: s.addralign,
        relocations: file.relocations(s).map((r) => ({ ...r })),
      };
    }
    return dataSpec(s, ref);
  });

  const spec: ElfWriteSpec = {
    littleEndian: file.littleEndian,
    type: file.type,
    machine: file.machine,
    flags: file.flags,
    osabi: file.osabi,
    abiVersion: file.abiVersion,
    entry: file.entry,
    sections: out,
    sharedStringTable: shared,
  };
  if (symtab !== undefined && symbols !== undefined) spec.symbols = symbolSpecs(file, symtab, symbols, ref);
  return spec;
}

function dataSpec(s: ElfSection, ref: (index: number) => SectionRef): ElfSectionSpec {
  const spec: ElfSectionSpec = {
    name: s.name,
    type: s.type,
    flags: s.flags,
    addr: s.addr,
    data: s.data,
    addralign: s.addralign,
    entsize: s.entsize,
  };
  if (s.type === SHT.NOBITS) spec.size = s.size;
  if (s.link !== 0) spec.link = ref(s.link);
  if (s.info !== 0) spec.info = (s.flags & SHF.INFO_LINK) !== 0n ? ref(s.info) : s.info;
  return spec;
}

function symbolSpecs(file: ElfFile, symtab: ElfSection, symbols: ReturnType<ElfFile['symbols']>, ref: (index: number) => SectionRef): ElfSymbolSpec[] {
  const view = new DataView(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);
  return symbols.slice(1).map((s) => {
    const spec: ElfSymbolSpec = { name: s.name, value: s.value, size: s.size, type: s.type, bind: s.bind, visibility: s.visibility };
    // ElfSymbol.shndx has SHN_XINDEX resolved, so look at the stored field to tell a section
    // index at or above SHN_LORESERVE from a reserved index.
    const raw = view.getUint16(symtab.offset + s.index * ELF64_SIZE.SYMBOL + 6, file.littleEndian);
    if (raw === SHN.XINDEX || (s.shndx !== SHN.UNDEF && s.shndx < SHN.LORESERVE)) spec.section = ref(s.shndx);
    else if (s.shndx !== SHN.UNDEF) spec.special = s.shndx;
    return spec;
  });
}
