/**
 * The spec layer: what an ELF object built for BPF (by clang or by tsbpf's compiler) contains,
 * as plain data. Reading an object never touches the kernel; everything that depends on the
 * running kernel (creating maps, CO-RE, loading) happens later, when a spec is loaded.
 */
import type { Instruction } from '../asm/instruction.js';
import type { Btf } from '../btf/parser.js';
import type { BtfExt, CoreRelo } from '../btf/ext.js';
import type { SectionDef } from './sections.js';

/**
 * Something an instruction refers to by name that a loader turns into a number: a map's fd, an
 * offset into a global data map, a kernel function or variable.
 *
 * `weak` marks an extern declared `__weak` (ELF symbol binding STB_WEAK), which may be missing
 * from the kernel: the loader resolves it to zero instead of failing, and the writer binds it
 * STB_WEAK again. The reader sets `weak: true` and leaves the field out for strong externs.
 */
export type InstructionReference =
  /** ld_imm64 that loads a map (becomes src = BPF_PSEUDO_MAP_FD, imm = fd). */
  | { kind: 'map'; index: number; map: string }
  /** ld_imm64 that loads the address `offset` bytes into a map's value (BPF_PSEUDO_MAP_VALUE). */
  | { kind: 'map_value'; index: number; map: string; offset: number }
  /** call of a kernel function by name (becomes src = BPF_PSEUDO_KFUNC_CALL, imm = BTF id). */
  | { kind: 'kfunc'; index: number; name: string; weak?: boolean }
  /** ld_imm64 of a kernel variable's address (becomes src = BPF_PSEUDO_BTF_ID). */
  | { kind: 'ksym'; index: number; name: string; weak?: boolean };

/** A .BTF.ext line_info record, re-indexed to the program's instructions. */
export interface ProgramLineInfo {
  /** Index into `ProgramSpec.instructions`. */
  index: number;
  fileName: string;
  lineText: string;
  line: number;
  column: number;
  /** String offsets in the object's .BTF, for the kernel's bpf_line_info. */
  fileNameOff: number;
  lineOff: number;
}

/** One program: an entry function with the subprograms it calls appended, as libbpf links it. */
export interface ProgramSpec {
  /** The function's symbol name. */
  name: string;
  /** ELF section, e.g. 'tracepoint/syscalls/sys_enter_execve'. */
  section: string;
  /** What libbpf's section table says about the section; undefined for unknown names. */
  sectionDef: SectionDef | undefined;
  /** Program type name as in `ProgType` ('TRACEPOINT'); 'UNSPEC' when the section is unknown. */
  progType: string;
  /** Expected attach type name as in `AttachType` ('CGROUP_DEVICE'), if any. */
  attachType: string | undefined;
  /** What follows the section prefix: the attach target ('syscalls/sys_enter_execve'). */
  attachTo: string;
  /** Instructions: the entry function first, then each called subprogram once. */
  instructions: Instruction[];
  /** Maps, globals and kernel symbols the instructions name. */
  references: InstructionReference[];
  /** BTF FUNC type id of each function start (func_info), re-indexed. */
  funcInfos: Array<{ index: number; typeId: number }>;
  lineInfos: ProgramLineInfo[];
  /** CO-RE relocations, re-indexed; resolved against the kernel's BTF at load. */
  coreRelos: Array<{ index: number; relo: CoreRelo }>;
  /** The object's license string ('GPL', 'Dual BSD/GPL', ...). */
  license: string;
  /** The `version` section (kernel version for old kprobe loading), or 0. */
  kernelVersion: number;
  /** Instruction index range [start, end) of each function in `instructions`, by name. */
  functions: Array<{ name: string; start: number; end: number }>;
}

/** A global variable inside a data map (.data, .rodata, .bss, .kconfig). */
export interface VariableSpec {
  name: string;
  /** Byte offset in the map's value. */
  offset: number;
  size: number;
  /** BTF type id of the variable's type, when the object has BTF. */
  typeId: number | undefined;
  /** extern (resolved by the loader: .kconfig values, kernel symbols). */
  extern: boolean;
  /** A .kconfig extern declared `__weak` (see {@link InstructionReference}'s `weak`). */
  weak?: boolean;
}

/** Initial contents of a prog array or map-in-map: slot -> program or map name. */
export interface MapSlot {
  key: number;
  /** Name of the program (prog arrays) or of the inner map (map-in-map). */
  value: string;
}

/** One map: BTF-defined (.maps), or the array map behind a global data section. */
export interface MapSpec {
  name: string;
  /** Map type name as in `MapType` ('HASH', 'RINGBUF', ...). */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  /** LIBBPF_PIN_BY_NAME: pin under the pin path and reuse a pin of the same name. */
  pinning: 'none' | 'by_name';
  /** BTF type ids of key and value, when declared with __type(). */
  keyType: number | undefined;
  valueType: number | undefined;
  /** The section the map came from: '.maps', '.rodata', '.data', '.bss', '.kconfig', ... */
  section: string;
  /** The template of a map-in-map's inner maps. */
  innerMap: MapSpec | undefined;
  /** Initial slots of prog arrays and maps of maps. */
  slots: MapSlot[];
  /** Initial value of a global data map (one entry, key 0). */
  data: Uint8Array | undefined;
  /** Variables of a global data map, by offset. */
  variables: VariableSpec[];
  /** .rodata: frozen after its initial value is written, read-only for programs. */
  readOnly: boolean;
}

/** Everything in one object file. */
export interface ObjectSpec {
  littleEndian: boolean;
  license: string;
  kernelVersion: number;
  programs: ProgramSpec[];
  maps: MapSpec[];
  /** The object's BTF, if it has a .BTF section. */
  btf: Btf | undefined;
  /** The raw .BTF bytes, which a loader hands to the kernel. */
  btfBytes: Uint8Array | undefined;
  btfExt: BtfExt | undefined;
}
