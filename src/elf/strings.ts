import { FormatError } from '../errors.js';
import { latin1OrUtf8 } from '../bytes/reader.js';
import type { ElfSection } from './types.js';

/** `section 3 (.rel.text)`: how errors name a section. */
export function describeSection(s: ElfSection): string {
  return `section ${s.index} (${s.name === '' ? 'unnamed' : s.name})`;
}

/**
 * The NUL-terminated string at `offset` inside string table `table`. `errorAt` is the file
 * offset blamed when the string is bad (the field holding `offset`); the search for the NUL
 * never leaves the table. `what` (or the function making it) names the string in errors.
 */
export function readString(table: ElfSection, offset: number, errorAt: number, what: string | (() => string)): string {
  const data = table.data;
  if (!Number.isInteger(offset) || offset < 0 || offset >= data.byteLength) {
    throw new FormatError(
      'ELF',
      errorAt,
      `${typeof what === 'string' ? what : what()}: string offset 0x${offset.toString(16)} lies outside string table ${describeSection(table)}, which holds 0x${data.byteLength.toString(16)} bytes`,
    );
  }
  const nul = data.indexOf(0, offset);
  if (nul < 0) {
    throw new FormatError(
      'ELF',
      errorAt,
      `${typeof what === 'string' ? what : what()}: string at offset 0x${offset.toString(16)} of ${describeSection(table)} is not NUL-terminated inside the table`,
    );
  }
  return latin1OrUtf8(data, offset, nul);
}
