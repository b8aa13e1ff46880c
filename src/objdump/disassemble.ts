/**
 * `llvm-objdump -d`: the disassembly of every executable section, with symbol labels, slot
 * numbers, raw bytes, LLVM-syntax text, jump-target names and (with -r) relocations.
 */
import { decode } from '../asm/codec.js';
import { isJump, slotCount, type Instruction } from '../asm/instruction.js';
import { branchTarget, formatInstruction, type FormatOptions } from '../asm/printer.js';
import { FormatError } from '../errors.js';
import { SHF, SHT, STT, type ElfFile, type ElfRelocation, type ElfSection } from '../elf/index.js';
import { hex16 } from './common.js';
import { relocationTypeName, relocationValue } from './tables.js';

/** One decoded instruction of a section, with its position. */
export interface PlacedInstruction {
  /** Index of the first 8-byte slot, as llvm-objdump numbers lines. */
  slot: number;
  insn: Instruction;
  /** The raw bytes (8, or 16 for ld_imm64). */
  bytes: Uint8Array;
}

export interface DisassembleOptions extends Pick<FormatOptions, 'immHex' | 'alu32' | 'llvm'> {
  /** Interleave relocations under the instructions they patch (`llvm-objdump -dr`). */
  relocations?: boolean;
  /** Only these sections (by name); all executable sections when absent. */
  sections?: readonly string[];
  /**
   * CO-RE relocation lines of a section ({byte offset, text}), printed with the ELF relocations
   * as llvm-objdump 17+ does when the object has .BTF.ext.
   */
  coreRelocations?: (section: ElfSection) => ReadonlyArray<{ offset: number; text: string }>;
  /** A comment to print after an instruction (`--annotate`), or undefined for none. */
  comment?: (section: ElfSection, at: PlacedInstruction) => string | undefined;
}

/** Executable sections, in file order: the ones llvm-objdump -d disassembles. */
export function codeSections(file: ElfFile): ElfSection[] {
  return file.sections.filter((s) => s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0n);
}

/**
 * Decodes a section's bytes into placed instructions without rejecting anything: invalid
 * encodings are kept (the printer shows them as `<unknown>`) and a truncated tail becomes
 * single 8-byte slots, as llvm-objdump walks it.
 */
export function placeInstructions(file: ElfFile, section: ElfSection): PlacedInstruction[] {
  const data = section.data;
  const usable = data.byteLength - (data.byteLength % 8);
  let insns: Instruction[];
  try {
    insns = decode(data.subarray(0, usable), { littleEndian: file.littleEndian, strict: false });
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    // A final ld_imm64 without its second slot: decode everything before it, then the lone slot.
    insns = [...decode(data.subarray(0, usable - 8), { littleEndian: file.littleEndian, strict: false })];
    insns.push({ ...decode(data.subarray(usable - 8, usable), { littleEndian: file.littleEndian, strict: false })[0]!, code: 0xff });
  }
  const placed: PlacedInstruction[] = [];
  let slot = 0;
  for (const insn of insns) {
    const size = Math.min(slotCount(insn) * 8, usable - slot * 8);
    placed.push({ slot, insn, bytes: data.subarray(slot * 8, slot * 8 + size) });
    slot += size / 8;
  }
  return placed;
}

interface Label {
  address: bigint;
  name: string;
}

/**
 * Symbols that label code in a section, sorted by address and then name. Where several share an
 * address llvm-objdump shows only the last of them in this order, for labels and jump targets.
 */
function sectionLabels(file: ElfFile, section: ElfSection): Label[] {
  const byAddressThenName = (a: Label, b: Label): number =>
    a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return file
    .symbols()
    .filter((s) => s.index !== 0 && s.shndx === section.index && s.type !== STT.SECTION && s.type !== STT.FILE)
    .map((s) => ({ address: s.value, name: s.name }))
    .sort(byAddressThenName);
}

/** `<LBB0_2>` or `<on_exec+0x48>`: the nearest label at or before an address. */
function targetName(labels: readonly Label[], section: ElfSection, address: bigint): string {
  let best: Label | undefined;
  for (const l of labels) {
    if (l.address > address) break;
    best = l;
  }
  const base = best ?? { address: 0n, name: section.name };
  const delta = address - base.address;
  return delta === 0n ? `<${base.name}>` : `<${base.name}+0x${delta.toString(16)}>`;
}

function relocationsBySection(file: ElfFile, section: ElfSection): Array<{ rel: ElfRelocation; from: ElfSection }> {
  const out: Array<{ rel: ElfRelocation; from: ElfSection }> = [];
  for (const from of file.relocationSectionsFor(section)) {
    for (const rel of file.relocations(from)) out.push({ rel, from });
  }
  return out.sort((a, b) => (a.rel.offset < b.rel.offset ? -1 : a.rel.offset > b.rel.offset ? 1 : 0));
}

/** The `Disassembly of section ...` blocks for every (selected) executable section. */
export function disassembly(file: ElfFile, options: DisassembleOptions = {}): string {
  let out = '';
  for (const section of codeSections(file)) {
    if (options.sections && !options.sections.includes(section.name)) continue;
    if (section.size === 0) continue;
    out += `\nDisassembly of section ${section.name}:\n`;
    const labels = sectionLabels(file, section);
    const relocs = options.relocations ? relocationsBySection(file, section) : [];
    const coreRelos = options.relocations ? (options.coreRelocations?.(section) ?? []) : [];
    let nextLabel = 0;
    let nextReloc = 0;
    if (labels.length === 0 || labels[0]!.address !== 0n) out += `\n${hex16(0)} <${section.name}>:\n`;
    for (const at of placeInstructions(file, section)) {
      const address = BigInt(at.slot * 8);
      let label: Label | undefined;
      while (nextLabel < labels.length && labels[nextLabel]!.address <= address) label = labels[nextLabel++];
      if (label?.address === address) out += `\n${hex16(address)} <${label.name}>:\n`;
      let text = formatInstruction(at.insn, { immHex: options.immHex, alu32: options.alu32, llvm: options.llvm, lenient: true });
      const target = isJump(at.insn) ? branchTarget(at.insn, at.slot) : undefined;
      if (target !== undefined && text !== '<unknown>') text += ` ${targetName(labels, section, BigInt(target * 8))}`;
      const bytes = Array.from(at.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
      const comment = options.comment?.(section, at);
      out += `${String(at.slot).padStart(8)}:\t${bytes}\t${text}${comment ? `\t; ${comment}` : ''}\n`;
      const end = address + BigInt(at.bytes.byteLength);
      while (nextReloc < relocs.length && relocs[nextReloc]!.rel.offset < end) {
        const { rel, from } = relocs[nextReloc++]!;
        out += `\t\t${hex16(rel.offset)}:  ${relocationTypeName(file, rel.type)}\t${relocationValue(file, from, rel)}\n`;
      }
      for (const core of coreRelos) {
        if (BigInt(core.offset) === address) out += `\t\t${hex16(address)}:  CO-RE ${core.text}\n`;
      }
    }
  }
  return out;
}
