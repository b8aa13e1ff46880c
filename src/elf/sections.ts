import { FormatError } from '../errors.js';
import type { ByteReader } from '../bytes/reader.js';
import { ELF64_SIZE, SHN, SHT } from './constants.js';
import type { ElfHeader } from './header.js';
import { describeSection, readString } from './strings.js';
import type { ElfSection } from './types.js';

/** The section header table after extended numbering is resolved. */
export interface SectionTable {
  sections: ElfSection[];
  /** Index of the section name string table (0 when there is none). */
  shstrndx: number;
}

const EMPTY = new Uint8Array(0);

/** File offset of section `index`'s header. */
export function sectionHeaderOffset(header: ElfHeader, index: number): number {
  return header.shoff + index * ELF64_SIZE.SECTION_HEADER;
}

/**
 * Decodes every section header, resolves names and checks that each section's contents lie
 * inside the file. Handles extended numbering: e_shnum 0 and e_shstrndx SHN_XINDEX mean the
 * real values are in section 0's sh_size and sh_link.
 */
export function readSections(r: ByteReader, header: ElfHeader): SectionTable {
  if (header.shoff === 0) return { sections: [], shstrndx: 0 };
  const SH = ELF64_SIZE.SECTION_HEADER;
  if (header.shentsize !== SH) {
    throw new FormatError('ELF', 58, `e_shentsize is ${header.shentsize}; ELF64 section headers are ${SH} bytes`);
  }
  r.need(header.shoff, SH, 'section header 0 (e_shoff)');
  let count = header.shnum;
  if (count === 0) count = r.u64n(header.shoff + 32, 'section count in section 0 sh_size (e_shnum is 0)');
  const room = Math.floor((r.length - header.shoff) / SH);
  if (count > room) {
    throw new FormatError(
      'ELF',
      header.shoff,
      `section header table: ${count} headers of ${SH} bytes at 0x${header.shoff.toString(16)} run past the end of the file (${r.length} bytes, room for ${room})`,
    );
  }
  let shstrndx = header.shstrndx;
  if (shstrndx === SHN.XINDEX && count > 0) shstrndx = r.u32(header.shoff + 40, 'section 0 sh_link (e_shstrndx is SHN_XINDEX)');
  if (shstrndx !== SHN.UNDEF && shstrndx >= count) {
    throw new FormatError('ELF', 62, `e_shstrndx ${shstrndx} names no section: the file has ${count}`);
  }

  const sections: ElfSection[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = sectionHeaderOffset(header, i);
    const what = `section ${i} header`;
    sections[i] = {
      index: i,
      name: '',
      nameOffset: r.u32(at, `${what} sh_name`),
      type: r.u32(at + 4, `${what} sh_type`),
      flags: r.u64(at + 8, `${what} sh_flags`),
      addr: r.u64(at + 16, `${what} sh_addr`),
      offset: r.u64n(at + 24, `${what} sh_offset`),
      // Section 0 may hold the extended section count here; it never has contents.
      size: r.u64n(at + 32, `${what} sh_size`),
      link: r.u32(at + 40, `${what} sh_link`),
      info: r.u32(at + 44, `${what} sh_info`),
      addralign: r.u64n(at + 48, `${what} sh_addralign`),
      entsize: r.u64n(at + 56, `${what} sh_entsize`),
      data: EMPTY,
    };
  }

  const hasContents = (s: ElfSection) => s.index !== 0 && s.type !== SHT.NOBITS && s.type !== SHT.NULL;
  const attach = (s: ElfSection) => {
    if (!hasContents(s)) return;
    if (s.size > r.length || s.offset > r.length - s.size) {
      throw new FormatError(
        'ELF',
        sectionHeaderOffset(header, s.index) + 24,
        `${describeSection(s)}: contents at 0x${s.offset.toString(16)} + 0x${s.size.toString(16)} bytes run past the end of the file (${r.length} bytes)`,
      );
    }
    s.data = r.bytes.subarray(s.offset, s.offset + s.size);
  };

  if (shstrndx !== SHN.UNDEF) {
    const names = sections[shstrndx]!;
    if (names.type !== SHT.STRTAB) {
      throw new FormatError('ELF', 62, `e_shstrndx ${shstrndx} names a section of type ${names.type}; expected SHT_STRTAB (3)`);
    }
    attach(names);
    for (const s of sections) {
      if (s.nameOffset !== 0) s.name = readString(names, s.nameOffset, sectionHeaderOffset(header, s.index), `section ${s.index} name`);
    }
  }
  for (const s of sections) if (s.index !== shstrndx) attach(s);
  return { sections, shstrndx };
}
