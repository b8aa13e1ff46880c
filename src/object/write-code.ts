/**
 * Code sections of a written object, laid out as clang lays them out and libbpf requires:
 * each program's entry function is a global FUNC in its program section (programs sharing a
 * section name share the section), and the subprograms the linked programs carry are emitted
 * once each into .text (libbpf refuses static functions in program sections and only calls
 * into .text). Calls within a section are relative and need no relocation; calls from a
 * program section into .text, function addresses, maps, globals and externs get relocations
 * with the instruction fields clang writes (src and imm reset to what the relocation implies).
 */
import { checkInstruction, slotCount, type Instruction } from '../asm/instruction.js';
import { CallSrc, Class, JmpOp, LD_IMM64, PseudoSrc } from '../asm/opcodes.js';
import { BtfFuncLinkage, BtfKind } from '../btf/kinds.js';
import type { CoreRelo, FuncInfo, LineInfo } from '../btf/ext.js';
import { R_BPF_64_32, R_BPF_64_64 } from '../elf/constants.js';
import type { InstructionReference, MapSpec, ProgramSpec } from './spec.js';
import type { SectionExt, TypeTable } from './write-btf.js';
import type { DataTarget } from './write-data.js';
import { ObjectWriteError } from './write-error.js';
import type { ExternUse } from './write-externs.js';
import type { PendingRelocation } from './write-symbols.js';

const CALL = Class.JMP | JmpOp.CALL;
const TEXT = '.text';

/** A function as the spec holds it: a range of one program's instructions. */
interface SourceFunction {
  name: string;
  program: Linked;
  start: number;
  end: number;
  /** Id of its BTF FUNC, from func_info, if the spec has one. */
  typeId: number | undefined;
}

/** A program with what the emitter looks up repeatedly. */
interface Linked {
  spec: ProgramSpec;
  functions: SourceFunction[];
  /** Slot of each instruction (ld_imm64 takes two). */
  slots: number[];
  /** Function starting at a slot. */
  bySlot: Map<number, SourceFunction>;
  refs: Map<number, InstructionReference>;
}

/** A function placed in a section of the output. */
export interface PlacedFunction {
  source: SourceFunction;
  section: string;
  /** Slot (8-byte unit) of its first instruction in the section. */
  slot: number;
  slotCount: number;
  /** Entry functions of programs, and subprograms with global linkage, get global symbols. */
  global: boolean;
  entry: boolean;
}

/** One code section ready to be written. */
export interface CodeSection {
  name: string;
  instructions: Instruction[];
  functions: PlacedFunction[];
  relocations: PendingRelocation[];
  ext: SectionExt;
}

/** What the emitter asks of the rest of the writer. */
export interface CodeEnvironment {
  maps: ReadonlyMap<string, MapSpec>;
  table: TypeTable;
  /** Relocation target of `&map + offset` for a global data or .kconfig map. */
  dataTarget(map: string, offset: number, where: string): DataTarget | undefined;
  /** Records a kfunc or ksym (`weak`: declared __weak); returns the symbol key. */
  useExtern(name: string, use: ExternUse, where: string, weak: boolean): string;
}

const RESERVED = new Set([TEXT, '.maps', '.BTF', '.BTF.ext', 'license', 'version', '.kconfig', '.ksyms', '.symtab', '.strtab', '.shstrtab']);

function layoutError(p: ProgramSpec, detail: string): ObjectWriteError {
  return new ObjectWriteError('bad-layout', p.name, `program '${p.name}'`, detail);
}

/** Checks a program's function table and indexes what emission needs. */
function link(p: ProgramSpec): Linked {
  if (RESERVED.has(p.section) || /^\.(data|rodata|bss)(\.|$)/.test(p.section) || p.section.startsWith('.rel') || p.section === '') {
    throw new ObjectWriteError('unsupported', p.name, `program '${p.name}'`, `section '${p.section}' cannot hold a program (use a SEC() name such as 'tracepoint/...')`);
  }
  const n = p.instructions.length;
  if (n === 0) throw layoutError(p, 'has no instructions');
  const table = p.functions.length > 0 ? p.functions : [{ name: p.name, start: 0, end: n }];
  if (table[0]!.name !== p.name || table[0]!.start !== 0) throw layoutError(p, `functions[0] must be the entry function '${p.name}' starting at 0`);
  const slots: number[] = [];
  let s = 0;
  for (const insn of p.instructions) {
    slots.push(s);
    s += slotCount(insn);
  }
  const linked: Linked = { spec: p, functions: [], slots, bySlot: new Map(), refs: new Map() };
  table.forEach((f, i) => {
    const expectedStart = i === 0 ? 0 : table[i - 1]!.end;
    if (f.start !== expectedStart || f.end <= f.start || (i === table.length - 1 ? f.end !== n : f.end > n)) {
      throw layoutError(p, `functions must cover instructions 0..${n} in order without gaps: '${f.name}' is [${f.start}, ${f.end})`);
    }
    if (table.slice(0, i).some((g) => g.name === f.name)) throw new ObjectWriteError('duplicate-name', f.name, `program '${p.name}'`, `two functions are named '${f.name}'`);
    const typeId = p.funcInfos.find((fi) => fi.index === f.start)?.typeId;
    const fn: SourceFunction = { name: f.name, program: linked, start: f.start, end: f.end, typeId };
    linked.functions.push(fn);
    linked.bySlot.set(slots[f.start]!, fn);
  });
  for (const r of p.references) {
    if (!Number.isInteger(r.index) || r.index < 0 || r.index >= n) throw new ObjectWriteError('bad-reference', 'map' in r ? r.map : r.name, `program '${p.name}'`, `reference to instruction ${r.index}, which does not exist`);
    if (linked.refs.has(r.index)) throw new ObjectWriteError('bad-reference', p.name, `program '${p.name}' instruction ${r.index}`, 'has two references');
    linked.refs.set(r.index, r);
  }
  return linked;
}

/** The function a local call or function address at `index` of `l` lands on. */
function targetOf(l: Linked, index: number, where: string): SourceFunction {
  const insn = l.spec.instructions[index]!;
  const slot = l.slots[index]! + insn.imm + 1;
  const fn = l.bySlot.get(slot);
  if (!fn) throw new ObjectWriteError('unknown-function', l.spec.name, where, `${insn.code === CALL ? 'call' : 'function address'} targets slot ${slot}, which starts no function of the program`);
  return fn;
}

/** A comparable description of a function's code: calls by target name, references by name. */
function fingerprint(fn: SourceFunction): string[] {
  const l = fn.program;
  const out: string[] = [];
  for (let i = fn.start; i < fn.end; i++) {
    const insn = l.spec.instructions[i]!;
    const ref = l.refs.get(i);
    const where = `program '${l.spec.name}' instruction ${i}`;
    if (ref) out.push(`${insn.code}:${insn.dst}:${insn.off}:${JSON.stringify({ ...ref, index: 0 })}`);
    else if (isLocalCall(insn) || isFuncAddress(insn)) out.push(`${insn.code}:${insn.dst}:${insn.src}->${targetOf(l, i, where).name}`);
    else out.push(JSON.stringify([insn.code, insn.dst, insn.src, insn.off, insn.imm, insn.imm2 ?? 0]));
  }
  return out;
}

const hasLines = (fn: SourceFunction): boolean => fn.program.spec.lineInfos.some((l) => l.index >= fn.start && l.index < fn.end);
const isLocalCall = (insn: Instruction): boolean => insn.code === CALL && insn.src === CallSrc.LOCAL;
const isFuncAddress = (insn: Instruction): boolean => insn.code === LD_IMM64 && insn.src === PseudoSrc.FUNC;

function isGlobalFunc(table: TypeTable, typeId: number | undefined): boolean {
  if (typeId === undefined || typeId <= 0 || typeId >= table.count) return false;
  const t = table.get(typeId);
  return t.kind === BtfKind.FUNC && t.linkage === BtfFuncLinkage.GLOBAL;
}

/** Lays out every program and subprogram and emits the code sections (.text first). */
export function writeCode(programs: readonly ProgramSpec[], env: CodeEnvironment): CodeSection[] {
  const linked = programs.map(link);
  const programNames = new Map<string, Linked>();
  for (const l of linked) {
    if (programNames.has(l.spec.name)) throw new ObjectWriteError('duplicate-name', l.spec.name, `program '${l.spec.name}'`, `two programs are named '${l.spec.name}'`);
    programNames.set(l.spec.name, l);
  }
  // Functions without func_info take the BTF's FUNC of their name, if there is one.
  for (const l of linked) {
    for (const fn of l.functions) {
      fn.typeId ??= env.table.find((t) => t.kind === BtfKind.FUNC && t.name === fn.name && t.linkage !== BtfFuncLinkage.EXTERN);
    }
  }
  // Subprograms: one copy each, checked to be the same code wherever they were linked in.
  const subprograms = new Map<string, SourceFunction>();
  for (const l of linked) {
    for (const fn of l.functions.slice(1)) {
      const where = `program '${l.spec.name}' function '${fn.name}'`;
      if (programNames.has(fn.name)) throw new ObjectWriteError('duplicate-name', fn.name, where, `a subprogram has the name of program '${fn.name}'`);
      const seen = subprograms.get(fn.name);
      if (!seen) subprograms.set(fn.name, fn);
      else if (JSON.stringify(fingerprint(seen)) !== JSON.stringify(fingerprint(fn))) {
        throw new ObjectWriteError('conflicting-function', fn.name, where, `differs from the '${fn.name}' linked into program '${seen.program.spec.name}'`);
      } else if (!hasLines(seen) && hasLines(fn)) subprograms.set(fn.name, fn); // keep a copy with line info
    }
  }
  // Placement.
  const sections = new Map<string, PlacedFunction[]>();
  const place = (fn: SourceFunction, section: string, entry: boolean): PlacedFunction => {
    const list = sections.get(section) ?? [];
    sections.set(section, list);
    const last = list[list.length - 1];
    const slot = last ? last.slot + last.slotCount : 0;
    const l = fn.program;
    const count = (l.slots[fn.end - 1]! + slotCount(l.spec.instructions[fn.end - 1]!)) - l.slots[fn.start]!;
    const placed: PlacedFunction = { source: fn, section, slot, slotCount: count, global: entry || isGlobalFunc(env.table, fn.typeId), entry };
    list.push(placed);
    return placed;
  };
  if (subprograms.size > 0) sections.set(TEXT, []);
  const placedSub = new Map<string, PlacedFunction>();
  for (const fn of subprograms.values()) placedSub.set(fn.name, place(fn, TEXT, false));
  const placedEntry = new Map<string, PlacedFunction>();
  for (const l of linked) placedEntry.set(l.spec.name, place(l.functions[0]!, l.spec.section, true));

  const where = (fn: SourceFunction, i: number) => `program '${fn.program.spec.name}' instruction ${i}${fn.start > 0 ? ` (in ${fn.name})` : ''}`;
  const out: CodeSection[] = [];
  for (const [name, fns] of sections) {
    const section: CodeSection = { name, instructions: [], functions: fns, relocations: [], ext: { section: name, funcInfos: [], lineInfos: [], coreRelos: [] } };
    for (const placed of fns) {
      const fn = placed.source;
      const l = fn.program;
      const resolve = (target: SourceFunction): PlacedFunction => (target.start === 0 ? placedEntry.get(l.spec.name)! : placedSub.get(target.name)!);
      for (let i = fn.start; i < fn.end; i++) {
        const at = where(fn, i);
        const slot = placed.slot + l.slots[i]! - l.slots[fn.start]!;
        const insn: Instruction = { ...l.spec.instructions[i]! };
        const ref = l.refs.get(i);
        if (ref) emitReference(insn, ref, slot * 8, section.relocations, env, at);
        else if (isLocalCall(insn) || isFuncAddress(insn)) {
          const target = resolve(targetOf(l, i, at));
          emitFunctionReference(insn, slot, placed, target, section.relocations, at);
        } else if (insn.code === LD_IMM64 && insn.src !== PseudoSrc.IMM64) {
          throw new ObjectWriteError('bad-reference', l.spec.name, at, `ld_imm64 with pseudo source ${insn.src} has no reference naming what it loads`);
        } else if (insn.code === CALL && insn.src === CallSrc.KFUNC) {
          throw new ObjectWriteError('bad-reference', l.spec.name, at, 'kfunc call has no reference naming the kernel function');
        }
        const problem = checkInstruction(insn);
        if (problem) throw new ObjectWriteError('invalid-instruction', l.spec.name, at, problem);
        section.instructions.push(insn);
      }
      collectExt(section.ext, placed, env.table);
    }
    out.push(section);
  }
  return out;
}

/** Turns a named reference back into clang's instruction and relocation. */
function emitReference(insn: Instruction, ref: InstructionReference, offset: number, relocations: PendingRelocation[], env: CodeEnvironment, where: string): void {
  const needs = (code: number, what: string): void => {
    if (insn.code !== code) throw new ObjectWriteError('bad-reference', 'map' in ref ? ref.map : ref.name, where, `a ${ref.kind} reference needs ${what}, not opcode 0x${insn.code.toString(16)}`);
  };
  switch (ref.kind) {
    case 'map': {
      needs(LD_IMM64, 'ld_imm64');
      const map = env.maps.get(ref.map);
      if (!map) throw new ObjectWriteError('unknown-map', ref.map, where, `refers to map '${ref.map}', which the spec does not have`);
      if (map.section !== '.maps') throw new ObjectWriteError('bad-reference', ref.map, where, `'${ref.map}' is a global data map: refer to it with a map_value reference`);
      Object.assign(insn, { src: 0, imm: 0, imm2: 0 });
      relocations.push({ offset, symbol: `map:${ref.map}`, type: R_BPF_64_64 });
      return;
    }
    case 'map_value': {
      needs(LD_IMM64, 'ld_imm64');
      if (!env.maps.has(ref.map)) throw new ObjectWriteError('unknown-map', ref.map, where, `refers to map '${ref.map}', which the spec does not have`);
      const target = env.dataTarget(ref.map, ref.offset, where);
      if (!target) throw new ObjectWriteError('bad-reference', ref.map, where, `'${ref.map}' is not a global data map; only .data/.rodata/.bss/.kconfig values can be addressed`);
      Object.assign(insn, { src: 0, imm: target.imm, imm2: 0 });
      relocations.push({ offset, symbol: target.symbol, type: R_BPF_64_64 });
      return;
    }
    case 'kfunc':
      needs(CALL, 'a call');
      Object.assign(insn, { src: CallSrc.LOCAL, imm: -1 });
      relocations.push({ offset, symbol: env.useExtern(ref.name, 'call', where, ref.weak === true), type: R_BPF_64_32 });
      return;
    case 'ksym':
      needs(LD_IMM64, 'ld_imm64');
      Object.assign(insn, { src: 0, imm: 0, imm2: 0 });
      relocations.push({ offset, symbol: env.useExtern(ref.name, 'address', where, ref.weak === true), type: R_BPF_64_64 });
      return;
  }
}

/** A BPF-to-BPF call or function address, as clang encodes it for the two placements. */
function emitFunctionReference(insn: Instruction, slot: number, from: PlacedFunction, target: PlacedFunction, relocations: PendingRelocation[], where: string): void {
  const name = target.source.name;
  if (target.section !== TEXT && !(insn.code === CALL && target.section === from.section)) {
    throw new ObjectWriteError('unsupported', name, where, `'${name}' is a program's entry function; libbpf only calls and takes addresses of functions in .text`);
  }
  if (insn.code === CALL) {
    if (target.section === from.section) {
      insn.imm = target.slot - slot - 1; // relative, as for static functions of one section
      return;
    }
    insn.imm = target.global ? -1 : target.slot - 1;
    relocations.push({ offset: slot * 8, symbol: target.global ? `fn:${name}` : `sec:${TEXT}`, type: R_BPF_64_32 });
    return;
  }
  Object.assign(insn, { src: 0, imm: target.global ? 0 : target.slot * 8, imm2: 0 });
  relocations.push({ offset: slot * 8, symbol: target.global ? `fn:${name}` : `sec:${TEXT}`, type: R_BPF_64_64 });
}

/** func_info, line_info and CO-RE records of a placed function, at byte offsets in its section. */
function collectExt(ext: SectionExt, placed: PlacedFunction, table: TypeTable): void {
  const fn = placed.source;
  const l = fn.program;
  const p = l.spec;
  const byteOf = (index: number): number => (placed.slot + l.slots[index]! - l.slots[fn.start]!) * 8;
  const inFn = (index: number): boolean => index >= fn.start && index < fn.end;
  const where = `program '${p.name}' function '${fn.name}'`;
  if (fn.typeId !== undefined) {
    table.check(fn.typeId, false, fn.name, `${where} func_info`);
    if (table.get(fn.typeId).kind !== BtfKind.FUNC) throw new ObjectWriteError('missing-btf', fn.name, `${where} func_info`, `type [${fn.typeId}] is not a FUNC`);
  }
  const funcInfo: FuncInfo = { insnOff: byteOf(fn.start), typeId: fn.typeId ?? funcType(table, placed) };
  ext.funcInfos.push(funcInfo);
  const lines = p.lineInfos.filter((li) => inFn(li.index)).sort((a, b) => a.index - b.index);
  if (p.lineInfos.length > 0 && !lines.some((li) => li.index === fn.start)) {
    throw new ObjectWriteError('incomplete', fn.name, where, 'has no line info for its first instruction; with line info, the kernel (and libbpf) need one at the start of every function');
  }
  for (const li of lines) {
    const rec: LineInfo = { insnOff: byteOf(li.index), fileName: li.fileName, lineText: li.lineText, line: li.line, column: li.column };
    ext.lineInfos.push(rec);
  }
  for (const { index, relo } of p.coreRelos) {
    if (!inFn(index)) continue;
    table.check(relo.typeId, false, fn.name, `${where} CO-RE relocation at instruction ${index}`);
    const rec: CoreRelo = { insnOff: byteOf(index), typeId: relo.typeId, accessStr: relo.accessStr, kind: relo.kind };
    ext.coreRelos.push(rec);
  }
}

/**
 * A FUNC for a function neither func_info nor the BTF describes: `int name(void *ctx)` for
 * entries and `static int name(void)` for subprograms (the kernel needs func_info for all
 * functions of a program or for none).
 */
function funcType(table: TypeTable, placed: PlacedFunction): number {
  const fn = placed.source;
  const params = placed.entry ? [{ name: 'ctx', type: table.pointer(0) }] : [];
  const linkage = placed.global ? BtfFuncLinkage.GLOBAL : BtfFuncLinkage.STATIC;
  return table.add({ kind: BtfKind.FUNC, name: fn.name, type: table.proto(params), linkage });
}
