/**
 * Programs of an object, linked the way libbpf links them: every function of a program section
 * is a program; the BPF-to-BPF functions it calls (from .text or its own section) are appended
 * after it once each, and call offsets are rewritten to point at the appended copies. ELF
 * relocations become named references (maps, globals, kernel symbols), and .BTF.ext records are
 * re-indexed to the linked instructions.
 */
import { decode } from '../asm/codec.js';
import { slotCount, type Instruction } from '../asm/instruction.js';
import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc } from '../asm/opcodes.js';
import type { BtfExt } from '../btf/ext.js';
import { SHF, SHN, SHT, STB, STT } from '../elf/constants.js';
import type { ElfFile } from '../elf/reader.js';
import type { ElfSection, ElfSymbol } from '../elf/types.js';
import { FormatError } from '../errors.js';
import { isDataSection } from './maps.js';
import { matchSection } from './sections.js';
import type { InstructionReference, MapSpec, ProgramSpec } from './spec.js';

const FORMAT = 'BPF object';
const CALL = Class.JMP | JmpOp.CALL;

/** A function of an executable section: its slot range and decoded instructions. */
interface Func {
  section: ElfSection;
  name: string;
  /** First slot (8-byte unit) in the section. */
  start: number;
  end: number;
  /** Instructions with their slot offsets within the function. */
  insns: Array<{ insn: Instruction; slot: number }>;
}

interface SectionCode {
  section: ElfSection;
  funcs: Func[];
  /** Relocation by byte offset in the section. */
  relocs: Map<number, ElfSymbol>;
}

function isCode(s: ElfSection): boolean {
  return s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0n && s.size > 0;
}

function readSectionCode(file: ElfFile, section: ElfSection): SectionCode {
  let insns: Instruction[];
  try {
    insns = decode(section.data, { littleEndian: file.littleEndian });
  } catch (err) {
    if (err instanceof FormatError) throw new FormatError(FORMAT, section.offset, `section ${section.name}: ${err.message}`);
    throw err;
  }
  const placed: Array<{ insn: Instruction; slot: number }> = [];
  let slot = 0;
  for (const insn of insns) {
    placed.push({ insn, slot });
    slot += slotCount(insn);
  }
  const symbols = file.symbols();
  const starts = symbols
    .filter((s) => s.shndx === section.index && s.type === STT.FUNC)
    .sort((a, b) => Number(a.value - b.value));
  if (starts.length === 0) throw new FormatError(FORMAT, section.offset, `section ${section.name} has code but no function symbols`);
  const funcs = starts.map((sym, i): Func => {
    const start = Number(sym.value) / 8;
    const end = i + 1 < starts.length ? Number(starts[i + 1]!.value) / 8 : slot;
    if (!Number.isInteger(start) || start >= slot) throw new FormatError(FORMAT, section.offset, `function ${sym.name} starts outside section ${section.name}`);
    return {
      section,
      name: sym.name,
      start,
      end,
      insns: placed.filter((p) => p.slot >= start && p.slot < end).map((p) => ({ insn: p.insn, slot: p.slot - start })),
    };
  });
  const relocs = new Map<number, ElfSymbol>();
  for (const relSec of file.relocationSectionsFor(section)) {
    for (const rel of file.relocations(relSec)) {
      const sym = symbols[rel.symbol];
      if (!sym) throw new FormatError(FORMAT, relSec.offset, `relocation in ${relSec.name} names symbol ${rel.symbol}, which does not exist`);
      relocs.set(Number(rel.offset), sym);
    }
  }
  return { section, funcs, relocs };
}

/** An InstructionReference before it has an instruction index. */
type Unplaced<T> = T extends unknown ? Omit<T, 'index'> : never;

/** Where a relocated instruction points: a map, a global, a function or a kernel symbol. */
function referenceOf(file: ElfFile, sym: ElfSymbol, insn: Instruction, kconfig: MapSpec | undefined, where: string): Unplaced<InstructionReference> | 'function' {
  if (sym.shndx === SHN.UNDEF) {
    // __weak externs may be missing from the kernel; strong ones carry no flag.
    const weak = sym.bind === STB.WEAK ? { weak: true } : {};
    if (insn.code === CALL) return { kind: 'kfunc', name: sym.name, ...weak };
    const k = kconfig?.variables.find((v) => v.name === sym.name);
    if (k) return { kind: 'map_value', map: '.kconfig', offset: k.offset };
    return { kind: 'ksym', name: sym.name, ...weak };
  }
  const sec = file.sections[sym.shndx];
  if (!sec) throw new FormatError(FORMAT, 0, `${where}: symbol ${sym.name} is in section ${sym.shndx}, which does not exist`);
  if (isCode(sec)) return 'function';
  if (insn.code !== LD_IMM64) throw new FormatError(FORMAT, 0, `${where}: only ld_imm64 and call may be relocated (found opcode 0x${insn.code.toString(16)})`);
  if (sec.name === '.maps') return { kind: 'map', map: sym.name };
  if (isDataSection(sec)) {
    const base = sym.type === STT.SECTION ? 0 : Number(sym.value);
    return { kind: 'map_value', map: sec.name, offset: base + insn.imm };
  }
  if (sec.name === 'maps') throw new FormatError(FORMAT, 0, `${where}: legacy 'maps' section; declare maps in SEC(".maps") with BTF (libbpf 1.0 dropped the old form)`);
  throw new FormatError(FORMAT, 0, `${where}: refers to ${sym.name || sec.name} in section ${sec.name}, which is neither a map, a global nor a function`);
}

interface LinkContext {
  file: ElfFile;
  code: Map<number, SectionCode>;
  kconfig: MapSpec | undefined;
  ext: BtfExt | undefined;
}

/** Finds the function starting at `slot` of `section`. */
function functionAt(ctx: LinkContext, section: ElfSection, slot: number, where: string): Func {
  const sc = ctx.code.get(section.index);
  const fn = sc?.funcs.find((f) => f.start === slot);
  if (!fn) throw new FormatError(FORMAT, section.offset + slot * 8, `${where}: call target slot ${slot} of ${section.name} is not the start of a function`);
  return fn;
}

/** Links one entry function and everything it calls into a program. */
function linkProgram(ctx: LinkContext, entry: Func, license: string, kernelVersion: number): ProgramSpec {
  const instructions: Instruction[] = [];
  const references: InstructionReference[] = [];
  const functions: ProgramSpec['functions'] = [];
  const funcInfos: ProgramSpec['funcInfos'] = [];
  const lineInfos: ProgramSpec['lineInfos'] = [];
  const coreRelos: ProgramSpec['coreRelos'] = [];
  // Slot at which each appended function starts, keyed by "section:slot".
  const placedAt = new Map<string, number>();
  const pendingCalls: Array<{ index: number; slot: number; target: Func }> = [];
  const queue: Func[] = [entry];
  let slots = 0;

  const enqueue = (fn: Func): void => {
    if (!placedAt.has(`${fn.section.index}:${fn.start}`) && !queue.includes(fn)) queue.push(fn);
  };

  while (queue.length > 0) {
    const fn = queue.shift()!;
    const key = `${fn.section.index}:${fn.start}`;
    if (placedAt.has(key)) continue;
    placedAt.set(key, slots);
    const sc = ctx.code.get(fn.section.index)!;
    const firstIndex = instructions.length;
    const indexOfSlot = new Map<number, number>();
    for (const { insn, slot } of fn.insns) {
      const copy = { ...insn };
      const index = instructions.length;
      const sectionSlot = fn.start + slot;
      indexOfSlot.set(sectionSlot, index);
      const where = `${fn.section.name}+0x${(sectionSlot * 8).toString(16)} in ${fn.name}`;
      const sym = sc.relocs.get(sectionSlot * 8);
      const isLocalCall = copy.code === CALL && copy.src === CallSrc.LOCAL;
      if (sym) {
        const ref = referenceOf(ctx.file, sym, copy, ctx.kconfig, where);
        if (ref === 'function') {
          const target = ctx.file.sections[sym.shndx]!;
          const base = Number(sym.value) / 8;
          if (copy.code === CALL) {
            const fnTarget = functionAt(ctx, target, base + copy.imm + 1, where);
            pendingCalls.push({ index, slot: slots + slot, target: fnTarget });
            enqueue(fnTarget);
          } else {
            const fnTarget = functionAt(ctx, target, base + copy.imm / 8, where);
            copy.src = PseudoSrc.FUNC;
            pendingCalls.push({ index, slot: slots + slot, target: fnTarget });
            enqueue(fnTarget);
          }
        } else {
          references.push({ ...ref, index });
          if (ref.kind === 'map') copy.src = PseudoSrc.MAP_FD;
          else if (ref.kind === 'map_value') copy.src = PseudoSrc.MAP_VALUE;
          else if (ref.kind === 'ksym') copy.src = PseudoSrc.BTF_ID;
          else if (ref.kind === 'kfunc') copy.src = CallSrc.KFUNC;
          if (copy.code === LD_IMM64) {
            copy.imm = 0;
            copy.imm2 = ref.kind === 'map_value' ? ref.offset : 0;
          } else copy.imm = 0;
        }
      } else if (isLocalCall) {
        // A call within the same section needs no relocation: its offset is relative.
        const fnTarget = functionAt(ctx, fn.section, sectionSlot + copy.imm + 1, where);
        pendingCalls.push({ index, slot: slots + slot, target: fnTarget });
        enqueue(fnTarget);
      }
      instructions.push(copy);
    }
    const length = fn.end - fn.start;
    functions.push({ name: fn.name, start: firstIndex, end: instructions.length });
    collectExt(ctx.ext, fn, indexOfSlot, funcInfos, lineInfos, coreRelos);
    slots += length;
  }
  for (const call of pendingCalls) {
    const targetSlot = placedAt.get(`${call.target.section.index}:${call.target.start}`)!;
    // Calls and function addresses alike count from the next slot.
    instructions[call.index]!.imm = targetSlot - call.slot - 1;
  }
  const match = matchSection(entry.section.name);
  return {
    name: entry.name,
    section: entry.section.name,
    sectionDef: match?.def,
    progType: match?.def.progType ?? 'UNSPEC',
    attachType: match?.def.attachType,
    attachTo: match?.extras ?? '',
    instructions,
    references,
    funcInfos,
    lineInfos,
    coreRelos,
    license,
    kernelVersion,
    functions,
  };
}

/** Copies the .BTF.ext records of one function, re-indexed to the linked program. */
function collectExt(
  ext: BtfExt | undefined,
  fn: Func,
  indexOfSlot: Map<number, number>,
  funcInfos: ProgramSpec['funcInfos'],
  lineInfos: ProgramSpec['lineInfos'],
  coreRelos: ProgramSpec['coreRelos'],
): void {
  if (!ext) return;
  const name = fn.section.name;
  const inFn = (insnOff: number): number | undefined => (insnOff % 8 === 0 ? indexOfSlot.get(insnOff / 8) : undefined);
  for (const f of ext.funcInfo.get(name) ?? []) {
    const index = inFn(f.insnOff);
    if (index !== undefined) funcInfos.push({ index, typeId: f.typeId });
  }
  for (const l of ext.lineInfo.get(name) ?? []) {
    const index = inFn(l.insnOff);
    if (index !== undefined) lineInfos.push({ index, fileName: l.fileName, lineText: l.lineText, line: l.line, column: l.column, fileNameOff: l.fileNameOff ?? 0, lineOff: l.lineOff ?? 0 });
  }
  for (const relo of ext.coreRelos.get(name) ?? []) {
    const index = inFn(relo.insnOff);
    if (index !== undefined) coreRelos.push({ index, relo });
  }
}

/** Every program of the object (functions of non-.text code sections), linked. */
export function readPrograms(file: ElfFile, ext: BtfExt | undefined, kconfig: MapSpec | undefined, license: string, kernelVersion: number): ProgramSpec[] {
  const code = new Map<number, SectionCode>();
  for (const s of file.sections) if (isCode(s)) code.set(s.index, readSectionCode(file, s));
  const ctx: LinkContext = { file, code, kconfig, ext };
  const programs: ProgramSpec[] = [];
  for (const sc of code.values()) {
    if (sc.section.name === '.text') continue;
    for (const fn of sc.funcs) programs.push(linkProgram(ctx, fn, license, kernelVersion));
  }
  return programs;
}
