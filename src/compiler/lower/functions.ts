/**
 * Functions: the program entry (its context or BTF-typed arguments bound to the body's
 * parameters), subprograms (BPF-to-BPF calls with arguments in r1-r5; structs passed by
 * reference), and inlining of small functions.
 */
import type { ArrowFunctionExpression, Expression, Function as FunctionNode, Statement } from 'oxc-parser';
import { fail, type Span } from '../diagnostics.js';
import { imm, reg, type Value } from '../ir.js';
import type { FunctionDecl, ProgramDecl } from '../module.js';
import type { ProgramInfo } from '../programs.js';
import { INT, is64, isAggregate, sizeOf, typeName, type Type } from '../types.js';
import { memoryArg } from './calls.js';
import { Lowerer, type CompileUnit } from './core.js';
import { coerce, normalize, scalar, spanOf } from './expr.js';
import { Flow } from './flow.js';
import { finishFunction, lowerBody } from './stmt.js';

/** A top-level function's parameters and result. */
export interface FunctionSig {
  name: string;
  params: Array<{ name: string; type: Type; at: Span }>;
  ret: Type;
  node: FunctionNode;
  /** Small enough to inline at each call. */
  inline: boolean;
}

const MAX_ARGS = 5;

/** The signature of top-level function `name` (cached per compilation). */
export function signature(unit: CompileUnit, decl: FunctionDecl): FunctionSig {
  const known = unit.sigs.get(decl.name);
  if (known) return known;
  const m = unit.module;
  const f = decl.node;
  const params = f.params.map((p) => {
    if (p.type !== 'Identifier') return fail(spanOf(p), 'parameters must be plain names', 'write (a: u32, b: u64)');
    const ann = p.typeAnnotation?.typeAnnotation;
    if (!ann) return fail(spanOf(p), `parameter '${p.name}' needs a type`, `write ${p.name}: u32`);
    return { name: p.name, type: m.resolveType(ann), at: spanOf(p) };
  });
  if (params.length > MAX_ARGS) fail(spanOf(f.params[MAX_ARGS]!), `a function takes at most ${MAX_ARGS} parameters in BPF (registers r1-r5)`, 'pass a struct holding the values');
  const rt = f.returnType?.typeAnnotation;
  const ret: Type = rt ? m.resolveType(rt) : { kind: 'void' };
  if (isAggregate(ret)) fail(spanOf(rt!), `a function cannot return a ${typeName(ret)} in BPF`, 'pass a struct to fill as a parameter instead');
  if (!rt && containsValueReturn(f.body!.body as Statement[])) fail(decl.at, `function '${decl.name}' returns a value but has no return type`, `annotate it: function ${decl.name}(...): u32`);
  const sig: FunctionSig = { name: decl.name, params, ret, node: f, inline: small(f) };
  unit.sigs.set(decl.name, sig);
  return sig;
}

function containsValueReturn(stmts: Statement[]): boolean {
  let found = false;
  const walk = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    const node = n as { type?: string; argument?: unknown };
    if (node.type === 'ReturnStatement' && node.argument) {
      found = true;
      return;
    }
    if (node.type === 'FunctionDeclaration' || node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression') return;
    for (const [k, v] of Object.entries(n)) if (k !== 'parent') Array.isArray(v) ? v.forEach(walk) : walk(v);
  };
  stmts.forEach(walk);
  return found;
}

/** Inline functions whose body is one statement without loops (clang inlines those too). */
function small(f: FunctionNode): boolean {
  const body = f.body!.body;
  if (body.length !== 1) return false;
  const s = body[0]!;
  return s.type === 'ReturnStatement' || s.type === 'ExpressionStatement';
}

/** Lowers a call of top-level function `name`. */
export function callFunction(L: Lowerer, name: string, args: Expression[], at: Span, expected: Type | undefined): import('./values.js').Val {
  void expected;
  const decl = L.module.functions.get(name)!;
  const sig = signature(L.unit, decl);
  if (args.length !== sig.params.length) L.fail(at, `${name}() takes ${sig.params.length} argument${sig.params.length === 1 ? '' : 's'}, not ${args.length}`, `see function ${name}`);
  const stack = L.inlineStack;
  if (stack.includes(name) || L.fn.name === name) L.fail(at, `'${name}' calls itself; recursion is not part of the dialect (the verifier forbids it)`, 'rewrite it as a bounded loop');
  if (sig.inline && stack.length < 8) return inline(L, sig, args, at, stack);
  // BPF-to-BPF call: arguments in r1-r5, structs by reference.
  L.checkUnlocked(`'${name}' is a BPF-to-BPF call (a function of more than one statement is not inlined)`, at, (l) => `call bpf.spinUnlock(${l.name}) first, or make '${name}' one statement (a return or an expression) so it is inlined`);
  const vals: Value[] = sig.params.map((p, i) => {
    const a = args[i]!;
    if (isAggregate(p.type)) return reg(memoryArg(L, a, p.type, `argument '${p.name}'`));
    return coerce(L, scalar(L, a, p.type), p.type, spanOf(a));
  });
  vals.forEach((v, i) => L.emit({ op: 'mov', dst: i + 1, src: v, w: 64 }));
  L.emit({ op: 'callfn', fn: name, nargs: vals.length });
  L.unit.calledFunctions.add(name);
  L.unit.callEdges.push({ from: L.fn.name, to: name, at });
  if (sig.ret.kind === 'void') return { k: 'void' };
  const r = L.newReg();
  L.emit({ op: 'mov', dst: r, src: reg(0), w: 64 });
  return { k: 'scalar', type: sig.ret, v: reg(r) };
}

/** Inlines a small function: parameters bound to the arguments, `return` jumps to the join. */
function inline(L: Lowerer, sig: FunctionSig, args: Expression[], at: Span, stack: string[]): import('./values.js').Val {
  const bindings = sig.params.map((p, i) => {
    const a = args[i]!;
    if (isAggregate(p.type)) {
      const addr = memoryArg(L, a, p.type, `argument '${p.name}'`);
      return { p, place: { base: { reg: addr }, off: 0, space: 'local' as const, align: 8 } };
    }
    const v = coerce(L, scalar(L, a, p.type), p.type, spanOf(a));
    return { p, reg: L.copy(v, is64(p.type) ? 64 : 32) };
  });
  const join = L.newBlock();
  const result = sig.ret.kind === 'void' ? undefined : L.newReg();
  const saved = L.ret;
  const savedStack = L.inlineStack;
  L.inlineStack = [...stack, sig.name];
  const joinFlows: Array<Flow | undefined> = [];
  L.ret = { kind: 'inline', ...(result !== undefined ? { reg: result } : {}), join, joinFlows, type: sig.ret };
  L.pushScope();
  for (const b of bindings) {
    if ('place' in b) L.bind({ kind: 'place', name: b.p.name, place: b.place!, type: b.p.type, mutable: false }, b.p.at);
    else L.bind({ kind: 'reg', name: b.p.name, reg: b.reg!, type: b.p.type, mutable: true }, b.p.at);
  }
  lowerBody(L, sig.node.body!.body as Statement[]);
  if (L.cur) {
    if (result !== undefined) L.fail(spanOf(sig.node), `function '${sig.name}' does not return a value on every path`, 'add a return at the end');
    joinFlows.push(L.flow);
    L.jump(join);
  }
  L.popScope();
  L.ret = saved;
  L.inlineStack = savedStack;
  L.enter(join, Flow.mergeAll(joinFlows));
  void at;
  if (result === undefined) return { k: 'void' };
  return { k: 'scalar', type: sig.ret, v: reg(result) };
}

/** Lowers a subprogram. */
export function lowerSubprogram(unit: CompileUnit, sig: FunctionSig, program: ProgramInfo): Lowerer {
  const L = new Lowerer(unit, sig.name, sig.node.start, program, sig.ret);
  L.isSubprogram = true;
  L.at = sig.node.start;
  L.emit({ op: 'params', n: sig.params.length });
  sig.params.forEach((p, i) => {
    const r = L.newReg();
    L.emit({ op: 'mov', dst: r, src: reg(i + 1), w: 64 });
    if (isAggregate(p.type)) L.bind({ kind: 'place', name: p.name, place: { base: { reg: r }, off: 0, space: 'local', align: 8 }, type: p.type, mutable: false }, p.at);
    else L.bind({ kind: 'reg', name: p.name, reg: r, type: p.type, mutable: true }, p.at);
  });
  lowerBody(L, sig.node.body!.body as Statement[]);
  finishFunction(L, spanOf(sig.node), sig.ret.kind === 'void');
  return L;
}

/** Lowers a program's entry function. */
export function lowerProgram(unit: CompileUnit, decl: ProgramDecl, info: ProgramInfo): Lowerer {
  const body = decl.body;
  const L = new Lowerer(unit, decl.name, body.start, info, INT.i32);
  L.at = body.start;
  L.emit({ op: 'params', n: 1 });
  const ctx = L.newReg();
  L.emit({ op: 'mov', dst: ctx, src: reg(1), w: 64 });
  L.ctxReg = ctx;
  bindParams(L, body, info, ctx);
  if (body.body.type === 'BlockStatement') lowerBody(L, body.body.body as Statement[]);
  else lowerBody(L, [{ type: 'ReturnStatement', argument: body.body as Expression, start: body.body.start, end: body.body.end } as Statement]);
  finishFunction(L, spanOf(body), true);
  return L;
}

function bindParams(L: Lowerer, body: ArrowFunctionExpression, info: ProgramInfo, ctx: number): void {
  const params = body.params;
  for (const p of params) {
    if (p.type !== 'Identifier') L.fail(spanOf(p), 'program parameters must be plain names', info.context.kind === 'struct' ? 'write (ctx) => ...' : 'write (arg0, arg1) => ...');
  }
  if (info.context.kind === 'struct') {
    if (params.length > 1) L.fail(spanOf(params[1]!), `${info.declarator} programs take one parameter, their context`, 'write (ctx) => ...');
    const p = params[0] as { name: string; start: number; end: number } | undefined;
    if (p) L.bind({ kind: 'reg', name: p.name, reg: ctx, type: { kind: 'ptr', pointee: info.context.struct, space: 'kernel', direct: 'ctx' }, mutable: false }, spanOf(p));
    return;
  }
  const args = info.context.params;
  const all = info.context.ret && info.context.ret.kind !== 'void' ? [...args, { name: 'ret', type: info.context.ret }] : args;
  if (params.length > all.length) L.fail(spanOf(params[all.length]!), `${info.section} has ${all.length} argument${all.length === 1 ? '' : 's'} (${all.map((a) => `${a.name}: ${typeName(a.type)}`).join(', ')})`, 'remove the extra parameters');
  params.forEach((pp, i) => {
    const p = pp as { name: string; start: number; end: number; typeAnnotation?: { typeAnnotation: import('oxc-parser').TSType; start: number; end: number } | null };
    const arg = all[i]!;
    let type = arg.type;
    if (type.kind === 'struct' || type.kind === 'array' || type.kind === 'chars') L.fail(spanOf(p), `argument '${arg.name}' is passed by value (${typeName(type)}), which the dialect cannot read`, 'use a program kind whose arguments are pointers or integers');
    if (p.typeAnnotation) {
      const declared = L.module.resolveType(p.typeAnnotation.typeAnnotation);
      if (!compatible(declared, type)) L.fail(spanOf(p.typeAnnotation), `argument ${i} of ${info.section} is a ${typeName(type)} in the kernel's BTF, not a ${typeName(declared)}`, `annotate it as ${typeName(type)}`);
      if (declared.kind === 'int' && type.kind === 'int') type = declared;
    }
    const r = L.newReg();
    L.emit({ op: 'ld', dst: r, base: { reg: ctx }, off: i * 8, size: 8 });
    let value = r;
    if (type.kind === 'int' && type.size < 8) {
      value = L.newReg();
      L.emit({ op: 'zext', dst: value, src: r });
      normalize(L, value, type);
    } else if (type.kind === 'bool') {
      value = L.newReg();
      L.emit({ op: 'zext', dst: value, src: r });
      L.emit({ op: 'alu', alu: 'and', dst: value, b: imm(0xff), w: 32 });
    }
    L.bind({ kind: 'reg', name: p.name, reg: value, type, mutable: true }, spanOf(p));
  });
}

function compatible(declared: Type, actual: Type): boolean {
  if (declared.kind === 'ptr' && actual.kind === 'ptr') {
    const d = declared.pointee;
    const a = actual.pointee;
    if (d.kind === 'void' || a.kind === 'void') return true;
    if (d.kind === 'struct' && a.kind === 'struct') return d.cName === a.cName;
    return d.kind === a.kind && sizeOf(d) === sizeOf(a);
  }
  if (declared.kind === 'int' && actual.kind === 'int') return declared.size === actual.size;
  if (declared.kind === 'int' && actual.kind === 'bool') return declared.size === 1;
  if (declared.kind === 'bool' && actual.kind === 'bool') return true;
  return false;
}
