import { FormatError } from '../errors.js';
import type { ByteReader } from '../bytes/reader.js';
import { PT, SHT } from './constants.js';
import { readHeader } from './header.js';
import { decodeNotes, noteAlignment } from './notes.js';
import { decodeRelocations } from './relocations.js';
import { readSections, sectionHeaderOffset } from './sections.js';
import { addressToOffset, readSegments } from './segments.js';
import { describeSection, readString } from './strings.js';
import { decodeSymbols, type TableContext } from './symbols.js';
import type { ElfNote, ElfRelocation, ElfSection, ElfSegment, ElfSymbol } from './types.js';
import type { ElfHeader } from './header.js';

/**
 * Parses an ELF64 file (either byte order). Only the header, section headers, section names
 * and program headers are decoded here; symbols, relocations and notes are decoded on first
 * use. Throws FormatError('ELF', offset, detail) for anything malformed.
 */
export function parseElf(bytes: Uint8Array): ElfFile {
  return new ElfFile(bytes);
}

/** A parsed ELF64 file: its headers, plus lazily decoded symbols, relocations and notes. */
export class ElfFile {
  /** The whole file; section data are views into it. */
  readonly bytes: Uint8Array;
  /** Byte order from e_ident[EI_DATA]. */
  readonly littleEndian: boolean;
  /** `e_type` (see `ET`). */
  readonly type: number;
  /** `e_machine` (see `EM`). */
  readonly machine: number;
  /** `e_ident[EI_OSABI]` (see `ELFOSABI`). */
  readonly osabi: number;
  /** `e_ident[EI_ABIVERSION]` */
  readonly abiVersion: number;
  /** `e_flags` (machine-specific). */
  readonly flags: number;
  /** `e_entry`: entry point address, 0 when none. */
  readonly entry: bigint;
  /** Every section header; the array index is the section header index. */
  readonly sections: readonly ElfSection[];
  /** The program headers (empty for relocatable objects). */
  readonly segments: readonly ElfSegment[];
  /** Index of the section name string table (e_shstrndx, extended numbering resolved). */
  readonly shstrndx: number;

  private readonly reader: ByteReader;
  private readonly header: ElfHeader;
  private readonly ctx: TableContext;
  private symtab?: readonly ElfSymbol[];
  private dynsym?: readonly ElfSymbol[];
  private readonly relocs = new WeakMap<ElfSection, readonly ElfRelocation[]>();
  private byName?: Map<string, ElfSection>;

  /** Prefer `parseElf`; this parses the same way. */
  constructor(bytes: Uint8Array) {
    const { header, reader } = readHeader(bytes);
    const { sections, shstrndx } = readSections(reader, header);
    this.bytes = bytes;
    this.reader = reader;
    this.header = header;
    this.littleEndian = header.littleEndian;
    this.type = header.type;
    this.machine = header.machine;
    this.osabi = header.osabi;
    this.abiVersion = header.abiVersion;
    this.flags = header.flags;
    this.entry = header.entry;
    this.sections = sections;
    this.shstrndx = shstrndx;
    this.segments = readSegments(reader, header, sections);
    this.ctx = { reader, sections, headerOffset: (i) => sectionHeaderOffset(this.header, i) };
  }

  /** The first section called `name`, if any. */
  section(name: string): ElfSection | undefined {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const s of this.sections) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    }
    return this.byName.get(name);
  }

  /**
   * The entries of the SHT_SYMTAB section, null symbol 0 included so indices match relocation
   * symbol indices; empty when the file has no symbol table. Decoded once, then cached.
   */
  symbols(): readonly ElfSymbol[] {
    return (this.symtab ??= this.decodeTable(SHT.SYMTAB));
  }

  /** The entries of the SHT_DYNSYM section (null symbol included), or empty. Cached. */
  dynamicSymbols(): readonly ElfSymbol[] {
    return (this.dynsym ??= this.decodeTable(SHT.DYNSYM));
  }

  private decodeTable(type: number): readonly ElfSymbol[] {
    // Section 0 is reserved: whatever type it claims, it holds no table.
    const table = this.sections.find((s) => s.index > 0 && s.type === type);
    return table === undefined ? [] : decodeSymbols(this.ctx, table);
  }

  /** The entries of a SHT_REL or SHT_RELA section (addend set for RELA only). Cached. */
  relocations(section: ElfSection): readonly ElfRelocation[] {
    let out = this.relocs.get(section);
    if (out === undefined) {
      out = decodeRelocations(this.ctx, section);
      this.relocs.set(section, out);
    }
    return out;
  }

  /** The SHT_REL/SHT_RELA sections whose sh_info names `target` (none for section 0). */
  relocationSectionsFor(target: ElfSection): readonly ElfSection[] {
    if (target.index === 0) return [];
    return this.sections.filter((s) => s.index > 0 && (s.type === SHT.REL || s.type === SHT.RELA) && s.info === target.index);
  }

  /** The notes in a SHT_NOTE section or a PT_NOTE segment. */
  notes(source: ElfSection | ElfSegment): readonly ElfNote[] {
    if ('index' in source) {
      const where = describeSection(source);
      const at = this.ctx.headerOffset(source.index);
      if (source.type !== SHT.NOTE) {
        throw new FormatError('ELF', at + 4, `${where} has type ${source.type}; notes live in SHT_NOTE (7) sections`);
      }
      return decodeNotes(source.data, source.offset, noteAlignment(source.addralign, at + 48, where), this.littleEndian, where);
    }
    const where = `PT_NOTE segment at 0x${source.offset.toString(16)}`;
    if (source.type !== PT.NOTE) {
      throw new FormatError('ELF', this.header.phoff, `segment of type ${source.type} at 0x${source.offset.toString(16)} is not PT_NOTE (4)`);
    }
    const data = this.reader.slice(source.offset, source.filesz, where);
    return decodeNotes(data, source.offset, noteAlignment(source.align, source.offset, where), this.littleEndian, where);
  }

  /** The NUL-terminated string at `offset` in string table section `strtab`. */
  stringAt(strtab: ElfSection, offset: number): string {
    const at = Number.isInteger(offset) && offset >= 0 && offset < strtab.data.byteLength ? strtab.offset + offset : strtab.offset;
    return readString(strtab, offset, at, `string in ${describeSection(strtab)}`);
  }

  /** The file offset holding virtual address `vaddr` according to the PT_LOAD segments. */
  addressToOffset(vaddr: bigint): number | undefined {
    return addressToOffset(this.segments, vaddr);
  }
}
