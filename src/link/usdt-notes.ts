/**
 * USDT probes as a binary records them: one SHT_NOTE entry per probe site in .note.stapsdt
 * (owner "stapsdt", type 3), whose descriptor is three addresses — the probe's pc, the link-time
 * address of .stapsdt.base, the semaphore (0 when none) — then provider, name and argument spec
 * as NUL-terminated strings (sys/sdt.h).
 */
import { FormatError } from '../errors.js';
import { SHT, type ElfFile } from '../elf/index.js';

/** The note's owner and type (sys/sdt.h: _SDT_NOTE_NAME, _SDT_NOTE_TYPE). */
const NOTE_NAME = 'stapsdt';
const NOTE_TYPE = 3;

/** One USDT probe site. */
export interface UsdtProbe {
  provider: string;
  name: string;
  /** The argument spec string, e.g. "-4@%edi 8@%rsi". */
  args: string;
  /** The probe's virtual address, adjusted for prelinking. */
  address: bigint;
  /** The file offset of the probe's instruction (what the uprobe needs). */
  fileOffset: number;
  /** The semaphore's virtual address, 0n when the probe has none. */
  semaphore: bigint;
  /** The semaphore's file offset (the uprobe's ref_ctr_offset), when it has one. */
  semaphoreOffset: number | undefined;
}

function cstring(desc: Uint8Array, start: number, where: number): [string, number] {
  const end = desc.indexOf(0, start);
  if (end < 0) throw new FormatError('ELF', where, 'stapsdt note: string runs past the end of its descriptor');
  return [new TextDecoder().decode(desc.subarray(start, end)), end + 1];
}

/**
 * Every USDT probe site in `elf`. When the file was prelinked (moved after linking), the note
 * addresses are shifted by the difference between the .stapsdt.base section's address now and
 * the one recorded in the note, as systemtap and libbpf do.
 */
export function readUsdtProbes(elf: ElfFile): UsdtProbe[] {
  const out: UsdtProbe[] = [];
  const baseSection = elf.section('.stapsdt.base');
  for (const section of elf.sections) {
    if (section.type !== SHT.NOTE || section.name !== '.note.stapsdt') continue;
    for (const note of elf.notes(section)) {
      if (note.name !== NOTE_NAME || note.type !== NOTE_TYPE) continue;
      const d = note.desc;
      if (d.byteLength < 24) throw new FormatError('ELF', section.offset, `stapsdt note descriptor is ${d.byteLength} bytes, expected at least 24 (three addresses)`);
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
      let pc = view.getBigUint64(0, elf.littleEndian);
      const base = view.getBigUint64(8, elf.littleEndian);
      let semaphore = view.getBigUint64(16, elf.littleEndian);
      if (baseSection && base !== 0n) {
        const delta = baseSection.addr - base;
        pc += delta;
        if (semaphore !== 0n) semaphore += delta;
      }
      const [provider, p1] = cstring(d, 24, section.offset);
      const [name, p2] = cstring(d, p1, section.offset);
      const [args] = p2 < d.byteLength ? cstring(d, p2, section.offset) : [''];
      const fileOffset = elf.addressToOffset(pc);
      if (fileOffset === undefined) throw new FormatError('ELF', section.offset, `USDT probe ${provider}:${name} at 0x${pc.toString(16)} is in no loadable segment`);
      const semaphoreOffset = semaphore === 0n ? undefined : elf.addressToOffset(semaphore);
      if (semaphore !== 0n && semaphoreOffset === undefined) {
        throw new FormatError('ELF', section.offset, `USDT probe ${provider}:${name}: semaphore 0x${semaphore.toString(16)} is in no file-backed part of a loadable segment`);
      }
      out.push({ provider, name, args, address: pc, fileOffset, semaphore, semaphoreOffset });
    }
  }
  return out;
}
