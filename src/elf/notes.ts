import { FormatError } from '../errors.js';
import { latin1OrUtf8 } from '../bytes/reader.js';
import { ELF64_SIZE } from './constants.js';
import type { ElfNote } from './types.js';

/**
 * Decodes a sequence of notes (Elf64_Nhdr, name, descriptor; each padded to `align`, which
 * is 4 for most notes and 8 for GNU property notes). `base` is the file offset of `data`, used
 * in errors.
 */
export function decodeNotes(data: Uint8Array, base: number, align: number, littleEndian: boolean, where: string): ElfNote[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const notes: ElfNote[] = [];
  const pad = (n: number) => Math.ceil(n / align) * align;
  let pos = 0;
  while (pos < data.byteLength) {
    if (data.byteLength - pos < ELF64_SIZE.NOTE_HEADER) {
      throw new FormatError('ELF', base + pos, `${where}: ${data.byteLength - pos} bytes left, too few for a ${ELF64_SIZE.NOTE_HEADER}-byte note header`);
    }
    const namesz = view.getUint32(pos, littleEndian);
    const descsz = view.getUint32(pos + 4, littleEndian);
    const type = view.getUint32(pos + 8, littleEndian);
    const nameStart = pos + ELF64_SIZE.NOTE_HEADER;
    // The descriptor starts at the next multiple of `align` after the name, counted from the
    // note's start (itself aligned): with 8-byte alignment that is not just the name padded.
    const descStart = pos + pad(ELF64_SIZE.NOTE_HEADER + namesz);
    const descEnd = descStart + descsz;
    if (nameStart + namesz > data.byteLength || descEnd > data.byteLength) {
      throw new FormatError(
        'ELF',
        base + pos,
        `${where}: note with name size ${namesz} and descriptor size ${descsz} runs past the end of its ${data.byteLength} bytes`,
      );
    }
    // n_namesz counts the terminating NUL, which is not part of the name.
    let nameEnd = nameStart + namesz;
    if (namesz > 0 && data[nameEnd - 1] === 0) nameEnd--;
    notes.push({ name: latin1OrUtf8(data, nameStart, nameEnd), type, desc: data.subarray(descStart, descEnd) });
    pos = pad(descEnd);
  }
  return notes;
}

/** Note alignment from a section's sh_addralign or a segment's p_align: 8 stays 8, less is 4. */
export function noteAlignment(align: number, at: number, where: string): number {
  if (align <= 4) return 4;
  if (align === 8) return 8;
  throw new FormatError('ELF', at, `${where}: alignment ${align} is not valid for notes; expected 4 or 8`);
}
