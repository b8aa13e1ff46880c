/** Generic ELF64 reading and writing; nothing here knows about BPF beyond its constants. */
export * from './constants.js';
export type { ElfNote, ElfRelocation, ElfSection, ElfSegment, ElfSymbol } from './types.js';
export { ElfFile, parseElf } from './reader.js';
export { writeElf } from './writer.js';
export { MAX_SECTION_ALIGNMENT } from './write-values.js';
export { elfToWriteSpec } from './to-spec.js';
export {
  ElfWriteError,
  type ElfDataSectionSpec,
  type ElfRelocationSectionSpec,
  type ElfRelocationSpec,
  type ElfSectionSpec,
  type ElfSymbolSpec,
  type ElfTableSectionSpec,
  type ElfWriteSpec,
  type SectionRef,
} from './spec.js';
