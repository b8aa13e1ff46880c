/**
 * The compiler driver: parse (oxc), collect the module's declarations, lower each program and
 * the functions it calls to IR, optimise, allocate registers, emit, link each program with its
 * subprograms, build BTF and .BTF.ext, and write a standard ELF object with writeObject.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseSync } from 'oxc-parser';
import { CallSrc, Class, JmpOp, LD_IMM64 } from '../asm/opcodes.js';
import type { Instruction } from '../asm/instruction.js';
import { parseBtf } from '../btf/parser.js';
import { emptyMap } from '../object/maps.js';
import { readObject } from '../object/reader.js';
import type { MapSpec, ObjectSpec, ProgramSpec, VariableSpec } from '../object/spec.js';
import { writeObject } from '../object/writer.js';
import { BtfGen } from './btf-gen.js';
import { CompileError, DiagnosticSink, Problem, SourceFile, type Diagnostic, type Span } from './diagnostics.js';
import { emitFunction, MAX_STACK, type EmittedFunction } from './emit.js';
import { formatIr, type IrFunction } from './ir.js';
import { KernelTypes } from './kernel-types.js';
import type { CompileUnit, Lowerer } from './lower/core.js';
import { lowerProgram, lowerSubprogram, signature } from './lower/functions.js';
import { Module, type GlobalVar } from './module.js';
import { optimize } from './optimize.js';
import { programInfo, type ProgramInfo } from './programs.js';
import { allocateRegisters } from './regalloc.js';
import { INT, isAggregate, sizeOf, type Type } from './types.js';

/** Options of {@link compile}. */
export interface CompileOptions {
  /** The file name used in diagnostics and line info (default 'program.ts'). */
  fileName?: string;
  /** Kernel BTF for kernel types (path or bytes); default /sys/kernel/btf/vmlinux. */
  kernelBtf?: string | Uint8Array;
  /** Also return a listing of the IR after optimisation and register allocation. */
  explainIr?: boolean;
}

/** What {@link compile} gives. */
export interface CompileResult {
  /** The ELF object (load it with tsbpf's loader, libbpf or bpftool). */
  object: Uint8Array;
  /** The object as tsbpf's reader sees it. */
  spec: ObjectSpec;
  /** Warnings (errors throw CompileError). */
  diagnostics: Diagnostic[];
  /** The IR listing, with `explainIr`. */
  ir?: string;
}

/** One program's lowered and emitted functions. */
interface Compiled {
  info: ProgramInfo;
  entry: EmittedFunction;
  entryFunc: number;
  subs: Array<{ fn: EmittedFunction; func: number }>;
}

/**
 * Compiles a kernel program written in the TypeScript dialect to a BPF ELF object. Throws
 * CompileError (with file, line, column, message and hint for each error) when the program is
 * outside the dialect or wrong; never anything else for any input.
 *
 * @example
 * const { object } = compile(readFileSync('exec.bpf.ts', 'utf8'), { fileName: 'exec.bpf.ts' });
 * await using obj = await load(object);
 */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const file = new SourceFile(options.fileName ?? 'program.ts', source);
  const sink = new DiagnosticSink(file);
  try {
    return compileInner(file, sink, options);
  } catch (e) {
    if (e instanceof CompileError) throw e;
    if (e instanceof Problem) {
      sink.add(e.at, e.detail, e.hint);
      throw new CompileError(sink.errors);
    }
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      sink.add({ start: 0, end: 0 }, 'the program is nested too deeply for the compiler', 'split deeply nested expressions into several statements');
      throw new CompileError(sink.errors);
    }
    // Anything else is a compiler bug; report it at the start of the file rather than crash.
    const message = e instanceof Error ? e.message : String(e);
    sink.add({ start: 0, end: 0 }, `internal compiler error: ${message}`, 'please report this with the program that caused it');
    throw new CompileError(sink.errors);
  }
}

/** Reads and compiles a file (see {@link compile}). */
export function compileFile(path: string, options: Omit<CompileOptions, 'fileName'> & { fileName?: string } = {}): CompileResult {
  return compile(readFileSync(path, 'utf8'), { ...options, fileName: options.fileName ?? basename(path) });
}

function compileInner(file: SourceFile, sink: DiagnosticSink, options: CompileOptions): CompileResult {
  const parsed = parseSync(file.fileName.endsWith('.ts') ? file.fileName : `${file.fileName}.ts`, file.text, { lang: 'ts', sourceType: 'module' });
  for (const err of parsed.errors) {
    const label = err.labels[0];
    sink.add(label ? { start: label.start, end: label.end } : undefined, `syntax error: ${err.message}`, err.helpMessage ?? 'fix the syntax');
  }
  if (sink.errors.length > 0) throw new CompileError(sink.errors);

  const kernel = new KernelTypes(options.kernelBtf);
  const module = new Module(sink, kernel);
  module.collect(parsed.program);
  if (sink.errors.length > 0) throw new CompileError(sink.errors);
  if (module.programs.length === 0) {
    sink.add({ start: 0, end: 0 }, 'the module declares no program', "declare one: export const prog = tracepoint('syscalls', 'sys_enter_execve', (ctx) => { ... })");
    throw new CompileError(sink.errors);
  }

  const btf = new BtfGen();
  const sizes = module.layoutGlobals();
  let rodataSize = sizes.get('.rodata') ?? 0;
  const strings = new Map<string, number>();
  const stringVars: GlobalVar[] = [];
  const unit: CompileUnit = {
    module,
    btf,
    calledFunctions: new Set(),
    usedMaps: new Set(),
    strings,
    sigs: new Map(),
    callEdges: [],
    rodataString(text: string): GlobalVar {
      const bytes = new TextEncoder().encode(`${text}\0`);
      let off = strings.get(text);
      if (off === undefined) {
        off = rodataSize;
        rodataSize += bytes.length;
        strings.set(text, off);
        stringVars.push({ name: '', type: { kind: 'chars', length: bytes.length }, section: '.rodata', init: bytes, offset: off, settable: false, at: { start: 0, end: 0 } });
      }
      return stringVars.find((g) => g.offset === off)!;
    },
  };

  const irListing: string[] = [];
  const funcIds = new Map<string, number>();
  const compiled: Compiled[] = [];
  for (const p of module.programs) {
    try {
      const info = programInfo(p, kernel);
      const L = lowerProgram(unit, p, info);
      const entry = finish(L, irListing, options.explainIr === true);
      const entryFunc = btf.func(p.name, [{ name: 'ctx', type: contextBtf(btf, info) }], btf.intId, true);
      // Subprograms this program reaches, each once, in the order first called.
      const subs: Compiled['subs'] = [];
      const queue = [...collectCalls(entry)];
      const done = new Set<string>();
      while (queue.length > 0) {
        const name = queue.shift()!;
        if (done.has(name)) continue;
        done.add(name);
        const sig = signature(unit, module.functions.get(name)!);
        const S = lowerSubprogram(unit, sig, info);
        const fn = finish(S, irListing, options.explainIr === true && !compiled.some((c) => c.subs.some((s) => s.fn.name === name)));
        let func = funcIds.get(name);
        if (func === undefined) {
          func = btf.func(name, sig.params.map((x) => ({ name: x.name, type: paramBtf(btf, x.type) })), sig.ret.kind === 'void' ? 0 : btf.typeId(sig.ret), false);
          funcIds.set(name, func);
        }
        subs.push({ fn, func });
        queue.push(...collectCalls(fn));
      }
      checkRecursion(unit, p.name);
      checkStackDepth(unit, p.name, entry, subs.map((s) => s.fn), module.functions.get(p.name)?.at ?? p.at);
      compiled.push({ info, entry, entryFunc, subs });
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      sink.add(e.at, e.detail, e.hint);
    }
  }
  if (sink.errors.length > 0) throw new CompileError(sink.errors);

  const spec = buildSpec(module, unit, btf, compiled, file, stringVars, rodataSize);
  const object = writeObject(spec);
  const result: CompileResult = { object, spec: readObject(object), diagnostics: sink.list.filter((d) => d.severity !== 'error') };
  if (options.explainIr) result.ir = irListing.join('\n\n');
  return result;
}

/** Optimises, allocates and emits a lowered function. */
function finish(L: Lowerer, listing: string[], explain: boolean): EmittedFunction {
  const fn: IrFunction = L.fn;
  for (const b of fn.blocks) {
    if (!b.term && b.insts.length > 0) b.term = { op: 'ret' };
  }
  optimize(fn);
  if (explain) listing.push(`; after lowering and optimisation\n${formatIr(fn)}`);
  allocateRegisters(fn);
  optimize(fn);
  if (explain) listing.push(`; after register allocation\n${formatIr(fn)}`);
  return emitFunction(fn);
}

function collectCalls(fn: EmittedFunction): string[] {
  return fn.calls.map((c) => c.fn);
}

function checkRecursion(unit: CompileUnit, program: string): void {
  const edges = new Map<string, Array<{ to: string; at: Span }>>();
  for (const e of unit.callEdges) (edges.get(e.from) ?? edges.set(e.from, []).get(e.from)!).push({ to: e.to, at: e.at });
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (visiting.has(name)) return;
    visiting.add(name);
    for (const e of edges.get(name) ?? []) {
      if (e.to === name || reaches(edges, e.to, name)) {
        throw new Problem(e.at, `'${e.to}' is recursive (it can call itself); the verifier forbids recursion`, 'rewrite it as a bounded loop');
      }
      visit(e.to);
    }
  };
  visit(program);
}

function reaches(edges: Map<string, Array<{ to: string }>>, from: string, target: string, seen = new Set<string>()): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  for (const e of edges.get(from) ?? []) if (e.to === target || reaches(edges, e.to, target, seen)) return true;
  return false;
}

/** The verifier adds up the frames of a call chain (each rounded up to 32 bytes); 512 at most. */
function checkStackDepth(unit: CompileUnit, program: string, entry: EmittedFunction, subs: EmittedFunction[], at: Span): void {
  const byName = new Map(subs.map((f) => [f.name, f]));
  byName.set(program, entry);
  const round = (n: number): number => Math.ceil(Math.max(n, 1) / 32) * 32;
  const depth = (f: EmittedFunction, seen: Set<string>): { total: number; chain: string[] } => {
    let best = { total: 0, chain: [] as string[] };
    for (const c of new Set(f.calls.map((x) => x.fn))) {
      if (seen.has(c)) continue;
      const g = byName.get(c);
      if (!g) continue;
      const d = depth(g, new Set([...seen, c]));
      if (d.total > best.total) best = d;
    }
    return { total: round(f.stackSize) + best.total, chain: [f.name, ...best.chain] };
  };
  const d = depth(entry, new Set([program]));
  if (d.total > MAX_STACK && d.chain.length > 1) {
    throw new Problem(at, `the call chain ${d.chain.join(' -> ')} needs ${d.total} bytes of stack, over the kernel's ${MAX_STACK}`, 'keep large values in a map (a PerCpuArrayMap with one entry) instead of on the stack');
  }
  void unit;
}

/** BTF of a program's ctx parameter. */
function contextBtf(btf: BtfGen, info: ProgramInfo): number {
  if (info.context.kind === 'args') return btf.pointer(btf.typeId(INT.u64));
  const s = info.context.struct;
  return btf.pointer(btf.namedStruct(info.context.cName, s.size, s.fields.map((f) => ({ name: f.name, type: f.type, offset: f.offset }))));
}

function paramBtf(btf: BtfGen, t: Type): number {
  if (isAggregate(t)) return btf.pointer(btf.typeId(t));
  return btf.typeId(t);
}

/** Links each program with its subprograms and assembles the ObjectSpec. */
function buildSpec(module: Module, unit: CompileUnit, btf: BtfGen, compiled: Compiled[], file: SourceFile, stringVars: GlobalVar[], rodataSize: number): ObjectSpec {
  btf.finishKernelStructs();
  const programs: ProgramSpec[] = compiled.map((c, k) => linkProgram(module.programs[k]!.name, c, file, btf));
  const maps: MapSpec[] = [];
  for (const m of module.maps) {
    const keyType = m.key ? btf.typeId(m.key) : undefined;
    const valueType = m.value ? btf.typeId(m.value) : undefined;
    // Records of ring and perf buffers: name their type in the BTF so user space can decode them.
    if (m.record) btf.typeId(m.record);
    maps.push({
      name: m.name,
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      numaNode: 0,
      mapExtra: m.mapExtra,
      pinning: m.pinning,
      keyType: m.key && m.type !== 'PERF_EVENT_ARRAY' && m.type !== 'PROG_ARRAY' ? keyType : undefined,
      valueType: m.value ? valueType : undefined,
      section: '.maps',
      innerMap: undefined,
      slots: [],
      data: undefined,
      variables: [],
      readOnly: false,
    });
  }
  const sections: Array<'.rodata' | '.data' | '.bss'> = ['.rodata', '.data', '.bss'];
  for (const section of sections) {
    const vars = module.globals.filter((g) => g.section === section);
    const size = section === '.rodata' ? rodataSize : vars.reduce((n, g) => Math.max(n, g.offset + sizeOf(g.type)), 0);
    if (size === 0) continue;
    const data = new Uint8Array(size);
    const variables: VariableSpec[] = [];
    for (const g of vars) {
      data.set(g.init, g.offset);
      const t = btf.typeId(g.type);
      variables.push({ name: g.name, offset: g.offset, size: sizeOf(g.type), typeId: g.settable ? btf.constVolatile(t) : t, extern: false });
    }
    if (section === '.rodata') for (const s of stringVars) data.set(s.init, s.offset);
    const readOnly = section === '.rodata';
    maps.push({
      ...emptyMap(section, section),
      type: 'ARRAY',
      keySize: 4,
      valueSize: size,
      maxEntries: 1,
      flags: (readOnly ? 0x80 : 0) | 0x400,
      data,
      variables,
      readOnly,
    });
  }
  void unit;
  const btfBytes = btf.builder.finish();
  return {
    littleEndian: true,
    license: module.license,
    kernelVersion: 0,
    programs,
    maps,
    btf: parseBtf(btfBytes),
    btfBytes,
    btfExt: undefined,
  };
}

const CALL = Class.JMP | JmpOp.CALL;

function slots(insns: Instruction[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const i of insns) {
    out.push(s);
    s += i.code === LD_IMM64 ? 2 : 1;
  }
  out.push(s);
  return out;
}

/** Concatenates a program's entry and subprograms and resolves local calls. */
function linkProgram(name: string, c: Compiled, file: SourceFile, btf: BtfGen): ProgramSpec {
  const parts = [{ fn: c.entry, func: c.entryFunc }, ...c.subs];
  const instructions: Instruction[] = [];
  const spec: ProgramSpec = {
    name,
    section: c.info.section,
    sectionDef: undefined,
    progType: c.info.progType,
    attachType: undefined,
    attachTo: '',
    instructions,
    references: [],
    funcInfos: [],
    lineInfos: [],
    coreRelos: [],
    license: '',
    kernelVersion: 0,
    functions: [],
  };
  const starts = new Map<string, number>();
  const calls: Array<{ index: number; fn: string }> = [];
  for (const part of parts) {
    const base = instructions.length;
    const f = part.fn;
    starts.set(f.name, base);
    spec.functions.push({ name: f.name, start: base, end: base + f.instructions.length });
    spec.funcInfos.push({ index: base, typeId: part.func });
    instructions.push(...f.instructions.map((i) => ({ ...i })));
    for (const r of f.refs) {
      if (r.kind === 'map') spec.references.push({ kind: 'map', index: base + r.index, map: r.map });
      else spec.references.push({ kind: 'map_value', index: base + r.index, map: r.map, offset: r.offset });
    }
    for (const cl of f.calls) calls.push({ index: base + cl.index, fn: cl.fn });
    for (const cr of f.cores) spec.coreRelos.push({ index: base + cr.index, relo: { insnOff: 0, typeId: cr.relo.typeId, accessStr: btf.accessString(cr.relo.path), kind: cr.relo.kind } });
    for (const l of f.lines) {
      const pos = file.position(l.at);
      spec.lineInfos.push({ index: base + l.index, fileName: file.fileName, lineText: file.lineText(pos.line), line: pos.line, column: Math.min(pos.column, 0x3ff), fileNameOff: 0, lineOff: 0 });
    }
  }
  const slot = slots(instructions);
  for (const cl of calls) {
    const insn = instructions[cl.index]!;
    if (insn.code !== CALL || insn.src !== CallSrc.LOCAL) continue;
    const target = starts.get(cl.fn)!;
    insn.imm = slot[target]! - slot[cl.index]! - 1;
  }
  if (spec.functions.length === 1) spec.functions = [];
  return spec;
}
