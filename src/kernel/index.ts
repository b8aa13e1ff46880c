/** Live kernel objects: maps, programs (and, as they land, collections, features, pinning). */
export { BpfMap, UpdateFlag, type MapCreateOptions, type MapTypeName } from './map.js';
export { Program, VerifierError, parseVerifierLog, type ProgramLoadOptions, type ProgramBtf, type ProgTypeName, type AttachTypeName, type SourceLine } from './program.js';
