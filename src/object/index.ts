/** The spec layer: ELF objects as plain data (programs, maps, BTF), and libbpf's SEC table. */
export * from './spec.js';
export { readObject, weakExterns } from './reader.js';
export { matchSection, SECTION_DEFS, type SectionDef, type SectionMatch, type AttachKind } from './sections.js';
export { writeObject, ObjectWriteError, type ObjectWriteProblem, type WriteObjectOptions } from './writer.js';
