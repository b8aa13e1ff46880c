import { FormatError } from '../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { EI, ELF64_SIZE, ELF_MAGIC, ELFCLASS, ELFDATA } from './constants.js';

/** The ELF64 file header (Elf64_Ehdr) as stored, before extended numbering is applied. */
export interface ElfHeader {
  littleEndian: boolean;
  /** `e_ident[EI_OSABI]` */
  osabi: number;
  /** `e_ident[EI_ABIVERSION]` */
  abiVersion: number;
  type: number;
  machine: number;
  version: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  phentsize: number;
  /** Raw `e_phnum` (PN_XNUM means: see section 0). */
  phnum: number;
  shentsize: number;
  /** Raw `e_shnum` (0 with a section table means: see section 0). */
  shnum: number;
  /** Raw `e_shstrndx` (SHN_XINDEX means: see section 0). */
  shstrndx: number;
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/**
 * Checks the identification bytes and decodes the ELF64 header. Returns a reader in the file's
 * byte order for the rest of the parse.
 */
export function readHeader(bytes: Uint8Array): { header: ElfHeader; reader: ByteReader } {
  if (bytes.byteLength < EI.NIDENT) {
    throw new FormatError('ELF', 0, `file is ${bytes.byteLength} bytes long; the ELF identification alone needs ${EI.NIDENT}`);
  }
  if (ELF_MAGIC.some((b, i) => bytes[i] !== b)) {
    const got = Array.from(bytes.subarray(0, 4), hex2).join(' ');
    throw new FormatError('ELF', 0, `not an ELF file: magic bytes are ${got}, expected 7f 45 4c 46`);
  }
  const cls = bytes[EI.CLASS]!;
  if (cls === ELFCLASS.CLASS32) {
    throw new FormatError('ELF', EI.CLASS, 'ELFCLASS32 (32-bit ELF) is not supported: only ELF64 is supported');
  }
  if (cls !== ELFCLASS.CLASS64) {
    throw new FormatError('ELF', EI.CLASS, `invalid EI_CLASS ${cls}: expected 2 (ELFCLASS64)`);
  }
  const data = bytes[EI.DATA]!;
  if (data !== ELFDATA.LSB && data !== ELFDATA.MSB) {
    throw new FormatError('ELF', EI.DATA, `invalid EI_DATA ${data}: expected 1 (little-endian) or 2 (big-endian)`);
  }
  const r = new ByteReader(bytes, 'ELF', data === ELFDATA.LSB);
  r.need(0, ELF64_SIZE.HEADER, 'ELF64 header');
  const header: ElfHeader = {
    littleEndian: r.littleEndian,
    osabi: bytes[EI.OSABI]!,
    abiVersion: bytes[EI.ABIVERSION]!,
    type: r.u16(16, 'e_type'),
    machine: r.u16(18, 'e_machine'),
    version: r.u32(20, 'e_version'),
    entry: r.u64(24, 'e_entry'),
    phoff: r.u64n(32, 'e_phoff'),
    shoff: r.u64n(40, 'e_shoff'),
    flags: r.u32(48, 'e_flags'),
    phentsize: r.u16(54, 'e_phentsize'),
    phnum: r.u16(56, 'e_phnum'),
    shentsize: r.u16(58, 'e_shentsize'),
    shnum: r.u16(60, 'e_shnum'),
    shstrndx: r.u16(62, 'e_shstrndx'),
  };
  return { header, reader: r };
}
