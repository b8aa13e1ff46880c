import { FormatError } from '../errors.js';
import type { ByteReader } from '../bytes/reader.js';
import { ELF64_SIZE, PN_XNUM, PT } from './constants.js';
import type { ElfHeader } from './header.js';
import type { ElfSection, ElfSegment } from './types.js';

/**
 * Decodes the program header table. e_phnum PN_XNUM means the real count is in section 0's
 * sh_info (extended numbering).
 */
export function readSegments(r: ByteReader, header: ElfHeader, sections: readonly ElfSection[]): ElfSegment[] {
  let count = header.phnum;
  if (count === PN_XNUM && sections.length > 0) count = sections[0]!.info;
  if (header.phoff === 0 || count === 0) return [];
  const PH = ELF64_SIZE.PROGRAM_HEADER;
  if (header.phentsize !== PH) {
    throw new FormatError('ELF', 54, `e_phentsize is ${header.phentsize}; ELF64 program headers are ${PH} bytes`);
  }
  const room = header.phoff > r.length ? 0 : Math.floor((r.length - header.phoff) / PH);
  if (count > room) {
    throw new FormatError(
      'ELF',
      header.phoff,
      `program header table: ${count} headers of ${PH} bytes at 0x${header.phoff.toString(16)} run past the end of the file (${r.length} bytes, room for ${room})`,
    );
  }
  const segments: ElfSegment[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = header.phoff + i * PH;
    const what = `program header ${i}`;
    segments[i] = {
      type: r.u32(at, `${what} p_type`),
      flags: r.u32(at + 4, `${what} p_flags`),
      offset: r.u64n(at + 8, `${what} p_offset`),
      vaddr: r.u64(at + 16, `${what} p_vaddr`),
      paddr: r.u64(at + 24, `${what} p_paddr`),
      filesz: r.u64n(at + 32, `${what} p_filesz`),
      memsz: r.u64n(at + 40, `${what} p_memsz`),
      align: r.u64n(at + 48, `${what} p_align`),
    };
  }
  return segments;
}

/**
 * The file offset holding virtual address `vaddr`, found through the PT_LOAD segment whose
 * file-backed part contains it (what a uprobe needs), or undefined when none does.
 */
export function addressToOffset(segments: readonly ElfSegment[], vaddr: bigint): number | undefined {
  for (const s of segments) {
    if (s.type !== PT.LOAD || vaddr < s.vaddr) continue;
    const delta = vaddr - s.vaddr;
    if (delta < BigInt(s.filesz)) return s.offset + Number(delta);
  }
  return undefined;
}
