/**
 * Statements: declarations (scalars in registers, aggregates on the stack, maybe-missing
 * values tracked for narrowing), if/else, switch, loops with a bound the compiler can prove,
 * break/continue, and returns (which check that no ring buffer record or spin lock is still held).
 */
import type { ArrowFunctionExpression, Expression, ForOfStatement, ForStatement, Statement, SwitchStatement, VariableDeclaration, WhileStatement, DoWhileStatement } from 'oxc-parser';
import type { Span } from '../diagnostics.js';
import { imm, isReg, reg, type Block } from '../ir.js';
import { unwrap } from '../module.js';
import { BIG_LITERAL, INT, is64, isAggregate, NUM_LITERAL, sameType, sizeOf, typeName, type Type } from '../types.js';
import { Lowerer, type LoopFrame } from './core.js';
import { coerce, initPlace, lowerCond, lowerExpr, scalar, spanOf, typeOfVal } from './expr.js';
import { Flow } from './flow.js';
import { checkLoopBound, checkWhileBound } from './loops.js';
import type { NullableBinding, Val } from './values.js';

/** Lowers a list of statements in a new scope. */
export function lowerBody(L: Lowerer, stmts: Statement[]): void {
  L.pushScope();
  for (const s of stmts) {
    if (!L.cur) break; // the rest is unreachable
    lowerStatement(L, s);
  }
  L.popScope();
}

/** Ends a function: a fall-through returns 0 (void functions and programs) or is an error. */
export function finishFunction(L: Lowerer, at: Span, implicitZero: boolean): void {
  if (!L.cur) return;
  if (!implicitZero) L.fail(at, `function '${L.fn.name}' does not return a value on every path`, 'add a return statement at the end');
  L.at = at.end - 1;
  checkHeld(L, { start: at.end - 1, end: at.end });
  L.checkLockReleased({ start: at.end - 1, end: at.end }, `${L.isSubprogram ? `function '${L.fn.name}'` : 'the program'} ends`);
  L.emit({ op: 'mov', dst: 0, src: imm(0), w: 64 });
  L.terminate({ op: 'ret' });
}

/** Fails when a path ends while a ring buffer record is still reserved. */
function checkHeld(L: Lowerer, at: Span): void {
  for (const b of L.reservations) {
    const s = L.flow.refState(b.id);
    if (s === 'released') continue;
    L.fail(at, `ring buffer record '${b.name}' (reserved on line ${reservedLine(L, b)}) is ${s === 'mixed' ? 'not submitted or discarded on every path to' : 'neither submitted nor discarded before'} this return`, `call ${releaseHint(b)} first (the verifier rejects unreleased references)`);
  }
}

/**
 * Jumps from the end of a loop body back to its head. The body is lowered once, with the facts
 * of the loop's entry, so each reservation must stand at the end of an iteration as it stood on
 * entry: one reserved in the body must be released again, one reserved before the loop must not
 * be released in it (the next iteration would release it twice).
 */
function loopBack(L: Lowerer, head: Block, entry: Flow, body: Span): void {
  if (!L.cur) return;
  checkIteration(L, entry, body);
  L.jump(head);
}

/**
 * The reservation check of {@link loopBack}, on the current path at the end of an iteration;
 * and the same for the spin lock: an iteration must leave it as it found it (one that takes it
 * must release it, or the next would take it twice; one that releases a lock taken before the
 * loop would release it twice).
 */
function checkIteration(L: Lowerer, entry: Flow, body: Span): void {
  const before = entry.lock;
  const after = L.flow.lock;
  if (L.cur && (before?.key !== after?.key || before?.mixed !== after?.mixed)) {
    const at = { start: body.end - 1, end: body.end };
    const line = (l: import('./flow.js').HeldLock): number => L.lineOf(l.at);
    if (after?.mixed) L.fail(at, `the spin lock '${after.name}' (taken on line ${line(after)}) is held at the end of some paths through the loop body and not others`, `release it on every path through the body (bpf.spinUnlock(${after.name})), or on none`);
    if (after) L.fail(at, `the spin lock '${after.name}' (taken on line ${line(after)}) is still held at the end of the loop body, so the next iteration would take it again`, `call bpf.spinUnlock(${after.name}) before the iteration ends`);
    if (before && !before.mixed) L.fail(at, `the spin lock '${before.name}' (taken on line ${line(before)}, before the loop) is released in the loop body, so the next iteration would release it again`, `unlock after the loop, or take and release the lock inside the body`);
    L.fail(at, `the spin lock '${before!.name}' (taken on line ${line(before!)}) is held on some paths into the loop and not others`, 'take and release the lock on the same path, before or inside the loop');
  }
  for (const b of L.reservations) {
    const before = entry.refState(b.id);
    const after = L.flow.refState(b.id);
    if (before === after) continue;
    const at = { start: body.end - 1, end: body.end };
    if (before === 'released') L.fail(at, `ring buffer record '${b.name}' (reserved on line ${reservedLine(L, b)}) is not submitted or discarded on every path through the loop body`, `call ${releaseHint(b)} before the iteration ends (the next one reserves again)`);
    L.fail(at, `ring buffer record '${b.name}' (reserved on line ${reservedLine(L, b)}, before the loop) is submitted or discarded in the loop, so the next iteration would release it again`, `release it after the loop, or break out of the loop right after ${releaseHint(b)}`);
  }
}

function reservedLine(L: Lowerer, b: NullableBinding): number {
  return L.module.sink.source.position(b.at).line;
}

function releaseHint(b: NullableBinding): string {
  return `${b.ref.map?.name ?? 'the ring buffer'}.submit(${b.name}) or .discard(${b.name})`;
}

export function lowerStatement(L: Lowerer, s: Statement): void {
  const prev = L.at;
  L.at = s.start;
  try {
    statement(L, s);
  } finally {
    L.at = prev;
  }
}

function statement(L: Lowerer, s: Statement): void {
  const at = spanOf(s);
  switch (s.type) {
    case 'ExpressionStatement':
      lowerExpr(L, s.expression, undefined, true);
      return;
    case 'VariableDeclaration':
      declaration(L, s);
      return;
    case 'BlockStatement':
      lowerBody(L, s.body);
      return;
    case 'EmptyStatement':
      return;
    case 'IfStatement': {
      const t = L.newBlock();
      const f = L.newBlock();
      const join = L.newBlock();
      const flows = lowerCond(L, s.test, t, f);
      L.enter(t, flows.t);
      lowerStatement(L, s.consequent);
      const endT = L.cur ? L.flow : undefined;
      if (L.cur) L.jump(join);
      L.enter(f, flows.f);
      if (s.alternate) lowerStatement(L, s.alternate);
      const endF = L.cur ? L.flow : undefined;
      if (L.cur) L.jump(join);
      const merged = Flow.merge(endT, endF);
      L.enter(join, merged);
      return;
    }
    case 'ReturnStatement':
      lowerReturn(L, s.argument, at);
      return;
    case 'ForStatement':
      forLoop(L, s);
      return;
    case 'WhileStatement':
      whileLoop(L, s);
      return;
    case 'DoWhileStatement':
      doWhileLoop(L, s);
      return;
    case 'ForOfStatement':
      forOf(L, s);
      return;
    case 'BreakStatement':
    case 'ContinueStatement': {
      const label = s.label?.name;
      const frames = [...L.loops].reverse();
      const frame = label ? frames.find((f) => f.label === label) : s.type === 'BreakStatement' ? frames[0] : frames.find((f) => !(f as { isSwitch?: boolean }).isSwitch);
      if (!frame) L.fail(at, `'${s.type === 'BreakStatement' ? 'break' : 'continue'}' outside a loop${label ? ` labelled '${label}'` : ''}`, 'use it inside a loop');
      if (s.type === 'BreakStatement') {
        frame.breakFlows.push(L.flow);
        L.jump(frame.brk);
      } else {
        frame.contFlows.push(L.flow);
        L.jump(frame.cont);
      }
      return;
    }
    case 'SwitchStatement':
      switchStatement(L, s);
      return;
    case 'LabeledStatement': {
      const body = s.body;
      if (body.type !== 'ForStatement' && body.type !== 'WhileStatement' && body.type !== 'DoWhileStatement' && body.type !== 'ForOfStatement') L.fail(at, 'only loops can be labelled', 'remove the label');
      (L as Lowerer & { nextLabel?: string }).nextLabel = s.label.name;
      lowerStatement(L, body);
      return;
    }
    case 'ThrowStatement':
      L.fail(at, 'exceptions are not part of the dialect', 'return an error code instead');
    case 'TryStatement':
      L.fail(at, 'try/catch is not part of the dialect (nothing in a kernel program throws)', 'check return values instead');
    case 'ForInStatement':
      L.fail(at, 'for-in is not part of the dialect', 'use for-of over a FixedArray, or a counted for loop');
    case 'WithStatement':
      L.fail(at, "'with' is not part of the dialect", 'name the object');
    case 'DebuggerStatement':
      L.fail(at, "'debugger' is not part of the dialect", 'use bpf.printk to trace values');
    case 'FunctionDeclaration':
      L.fail(at, 'functions inside functions are not part of the dialect (closures cannot run in the kernel)', 'declare the function at the top level and pass it what it needs');
    case 'ClassDeclaration':
      L.fail(at, 'classes are not part of the dialect', 'use interfaces for data and top-level functions for code');
    case 'TSInterfaceDeclaration':
    case 'TSTypeAliasDeclaration':
    case 'TSEnumDeclaration':
      L.fail(at, 'types are declared at the top level', 'move the declaration out of the function');
    default:
      L.fail(at, `this statement (${s.type}) is not part of the dialect`, 'see docs/compiler.md for what kernel programs can use');
  }
}

/** The type a bare literal gets as a variable (no annotation): u32/u64, or i32/i64 when negative. */
function literalDefault(t: Type, v: Val): Type {
  if (t.kind !== 'literal') return t;
  const negative = v.k === 'scalar' && !isReg(v.v) && v.v.imm < 0n;
  if (t.bigint) return negative ? INT.i64 : INT.u64;
  return negative ? INT.i32 : INT.u32;
}

function declaration(L: Lowerer, s: VariableDeclaration): void {
  if (s.kind !== 'const' && s.kind !== 'let') L.fail(spanOf(s), `'${s.kind}' is not part of the dialect`, "use 'const' or 'let'");
  const mutable = s.kind === 'let';
  for (const d of s.declarations) {
    if (d.id.type !== 'Identifier') L.fail(spanOf(d.id), 'destructuring is not part of the dialect', 'declare one variable per value');
    const name = d.id.name;
    const at = spanOf(d.id);
    const ann = d.id.typeAnnotation?.typeAnnotation;
    const declared = ann ? L.module.resolveType(ann) : undefined;
    if (declared?.kind === 'void') L.fail(at, 'a variable cannot be void', 'give it a type');
    if (!d.init) {
      if (!declared) L.fail(at, `'${name}' needs a type or an initial value`, `write let ${name}: u32 = 0`);
      if (isAggregate(declared)) {
        L.bind({ kind: 'place', name, place: L.stackObject(declared, name), type: declared, mutable: false }, at);
      } else {
        const r = L.newReg();
        L.emit({ op: 'mov', dst: r, src: imm(0), w: 64 });
        L.bind({ kind: 'reg', name, reg: r, type: declared, mutable }, at);
      }
      continue;
    }
    const init = unwrap(d.init);
    // Aggregates from literals or zero() are built in place on the stack.
    if (declared && isAggregate(declared) && (init.type === 'ObjectExpression' || init.type === 'ArrayExpression')) {
      const place = L.stackObject(declared, name);
      initPlace(L, place, declared, d.init, spanOf(d.init));
      L.bind({ kind: 'place', name, place, type: declared, mutable: false }, at);
      continue;
    }
    const v = lowerExpr(L, d.init, declared);
    if (v.k === 'nullable') {
      if (declared && !sameType(declared, v.type)) L.fail(spanOf(ann!), `this value is a ${typeName(v.type)} | undefined, not a ${typeName(declared)}`, 'remove the annotation; narrowing with if (!v) gives the type');
      const from = v.binding;
      // A const copy of a const is the same value under another name (checks narrow both).
      if (from && !mutable && !from.mutable) {
        L.alias(from, name, at);
        continue;
      }
      if (from && v.ref.source === 'reserve') L.fail(spanOf(d.init), `'${name}' would be a second variable holding the ring buffer record '${from.name}'`, `use '${from.name}' itself, or declare both with const (an alias)`);
      const ptr = L.newReg();
      L.emit({ op: 'mov', dst: ptr, src: reg(v.ref.ptr), w: 64 });
      let ok: number | undefined;
      if (v.ref.ok !== undefined) {
        ok = L.newReg();
        L.emit({ op: 'mov', dst: ok, src: reg(v.ref.ok), w: 64 });
      }
      const ref = { ...v.ref, ptr, ...(ok !== undefined ? { ok } : {}) };
      const b = L.bind<NullableBinding>({ kind: 'nullable', name, ref, type: v.type, mutable, at: d.id.start }, at);
      // A copy is as present or absent as what it copies.
      if (from) L.flow = L.flow.withPresence(b.id, L.flow.presence.get(from.id));
      if (v.ref.source === 'reserve') {
        L.reservations.push(b);
        L.flow = L.flow.withRef(b.id, 'held');
      }
      continue;
    }
    if (v.k === 'string') L.fail(spanOf(d.init), 'a string cannot be stored in a variable', 'use a CharArray: const s: CharArray<16> = zero(); strCopy(s, "...")');
    if (v.k === 'map' || v.k === 'helpers' || v.k === 'consts' || v.k === 'callee') {
      if (mutable) L.fail(at, `'${name}' would alias a ${v.k === 'map' ? 'map' : 'declaration'}; only const can`, 'use const, or the original name');
      L.bind({ kind: 'value', name, val: v, mutable: false }, at);
      continue;
    }
    if (v.k === 'void' || v.k === 'branched') L.fail(spanOf(d.init), 'this expression has no value', 'use a call that returns something');
    const vt = typeOfVal(v)!;
    if (isAggregate(vt)) {
      if (declared && !sameType(declared, vt) && declared !== vt) L.fail(spanOf(d.init), `a ${typeName(vt)} is not a ${typeName(declared)}`, 'use the same type');
      if (v.k !== 'place') L.fail(spanOf(d.init), 'this value cannot be stored', 'use a struct');
      if (!mutable && !v.place.dynamic) {
        // const of an aggregate: an alias, as objects are references in TypeScript.
        L.bind({ kind: 'place', name, place: v.place, type: vt, mutable: false }, at);
      } else {
        const place = L.stackObject(vt, name, false);
        L.copyable(vt, place, v.place, spanOf(d.init));
        L.memcopy(place, v.place, sizeOf(vt), at);
        L.bind({ kind: 'place', name, place, type: vt, mutable: false }, at);
      }
      continue;
    }
    const sc = L.scalarOf(v, spanOf(d.init));
    const type = declared ?? literalDefault(sc.type, v);
    const value = coerce(L, sc, type, spanOf(d.init));
    const r = L.newReg();
    L.emit({ op: 'mov', dst: r, src: value, w: isReg(value) || is64(type) ? 64 : 32 });
    L.bind({ kind: 'reg', name, reg: r, type, mutable }, at);
  }
}

/** `return e`. */
export function lowerReturn(L: Lowerer, arg: Expression | null | undefined, at: Span): void {
  const target = L.ret;
  if (target.kind === 'inline') {
    if (arg && target.reg === undefined) L.fail(at, 'this function returns nothing', 'remove the value, or declare a return type');
    if (!arg && target.reg !== undefined) L.fail(at, `this function returns a ${typeName(target.type)}`, 'return a value');
    if (arg) {
      const v = coerce(L, scalar(L, arg, target.type), target.type, spanOf(arg));
      L.emit({ op: 'mov', dst: target.reg!, src: v, w: is64(target.type) || isReg(v) ? 64 : 32 });
    }
    target.joinFlows!.push(L.flow);
    L.jump(target.join!);
    return;
  }
  if (target.kind === 'loop') {
    const frame = target.frame!;
    if (!arg) {
      frame.contFlows.push(L.flow);
      L.jump(frame.cont);
      return;
    }
    const u = unwrap(arg);
    if (u.type === 'Literal' && typeof (u as { value: unknown }).value === 'boolean') {
      if ((u as { value: boolean }).value) {
        frame.breakFlows.push(L.flow);
        L.jump(frame.brk);
      } else {
        frame.contFlows.push(L.flow);
        L.jump(frame.cont);
      }
      return;
    }
    const flows = lowerCond(L, arg, frame.brk, frame.cont);
    frame.breakFlows.push(flows.t);
    frame.contFlows.push(flows.f);
    return;
  }
  let value = imm(0);
  if (arg) {
    if (target.type.kind === 'void') L.fail(spanOf(arg), 'this function returns nothing', 'remove the value, or declare a return type');
    const s = scalar(L, arg, target.type);
    if (L.isSubprogram) value = coerce(L, s, target.type, spanOf(arg));
    else {
      // A program's verdict: any integer or bool.
      if (s.type.kind !== 'int' && s.type.kind !== 'literal' && s.type.kind !== 'bool') L.fail(spanOf(arg), `a program returns an integer, not a ${typeName(s.type)}`, 'return 0, or a verdict');
      value = s.v;
      const range = L.program.returns;
      if (range) checkVerdict(L, arg, value, s.type, range);
    }
  } else if (L.isSubprogram && target.type.kind !== 'void') {
    L.fail(at, `this function returns a ${typeName(target.type)}`, 'return a value');
  }
  checkHeld(L, at);
  L.checkLockReleased(at, `this return leaves ${L.isSubprogram ? `function '${L.fn.name}'` : 'the program'}`);
  L.emit({ op: 'mov', dst: 0, src: value, w: 64 });
  L.terminate({ op: 'ret' });
}

/**
 * Programs whose verdict the kernel restricts (cgroup programs: 0 or 1) must return something
 * whose range the verifier can prove: a constant, a bool, or a conditional between constants.
 */
function checkVerdict(L: Lowerer, arg: Expression, value: import('../ir.js').Value, type: Type, range: [number, number]): void {
  const inRange = (v: bigint): boolean => v >= BigInt(range[0]) && v <= BigInt(range[1]);
  const what = `${L.program.declarator} programs must return ${range[0]}..${range[1]}`;
  const hint = range[1] === 1 ? 'return 1 to allow, 0 to deny (e.g. ok ? 1 : 0)' : 'return a verdict in range';
  if (!isReg(value)) {
    if (!inRange(value.imm)) L.fail(spanOf(arg), `${what}, not ${value.imm}`, hint);
    return;
  }
  if (type.kind === 'bool' && range[0] <= 0 && range[1] >= 1) return;
  const u = unwrap(arg);
  if (u.type === 'ConditionalExpression') {
    const a = L.module.constEval(u.consequent);
    const b = L.module.constEval(u.alternate);
    if (a?.kind === 'int' && b?.kind === 'int') {
      if (!inRange(a.value)) L.fail(spanOf(u.consequent), `${what}, not ${a.value}`, hint);
      if (!inRange(b.value)) L.fail(spanOf(u.alternate), `${what}, not ${b.value}`, hint);
      return;
    }
  }
  L.fail(spanOf(arg), `${what}, and the verifier cannot prove that of this ${typeName(type)}`, hint);
}

// ---- loops -------------------------------------------------------------------------------

/** Calls `visit` with the name of each assignment (=, op=, ++/--) to a variable anywhere inside `node`, in source order. */
export function forEachAssignment(node: unknown, visit: (name: string) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) forEachAssignment(n, visit);
    return;
  }
  const x = node as { type?: string; left?: { type: string; name?: string }; argument?: { type: string; name?: string } };
  if (x.type === 'AssignmentExpression' && x.left?.type === 'Identifier') visit(x.left.name!);
  if (x.type === 'UpdateExpression' && x.argument?.type === 'Identifier') visit(x.argument.name!);
  for (const [k, v] of Object.entries(node)) if (k !== 'parent') forEachAssignment(v, visit);
}

/** Names assigned (=, op=, ++/--) anywhere inside `node`. */
export function assignedNames(node: unknown): Set<string> {
  const out = new Set<string>();
  forEachAssignment(node, (name) => out.add(name));
  return out;
}

/** Flow at a loop head: facts about variables the loop assigns no longer hold. */
function loopEntryFlow(L: Lowerer, body: unknown): Flow {
  let flow = L.flow;
  for (const name of assignedNames(body)) {
    const b = L.lookup(name);
    if (b?.kind === 'nullable') flow = flow.withPresence(b.id, undefined);
  }
  return flow;
}

function takeLabel(L: Lowerer): string | undefined {
  const l = (L as Lowerer & { nextLabel?: string }).nextLabel;
  (L as Lowerer & { nextLabel?: string }).nextLabel = undefined;
  return l;
}

/** Ends a loop body: continues (and a fall-through) meet at the loop's continue block. */
function enterContinue(L: Lowerer, frame: LoopFrame): void {
  if (L.cur) frame.contFlows.push(L.flow);
  L.enter(frame.cont, Flow.mergeAll(frame.contFlows));
}

/** Leaves a loop (or switch): its breaks meet at its exit block. */
function exitLoop(L: Lowerer, frame: LoopFrame): void {
  L.popLoop();
  L.enter(frame.brk, Flow.mergeAll(frame.breakFlows));
}

/** Runs `body` one loop level deeper (spill costs weigh loop code more). */
function deeper(L: Lowerer, body: () => void): void {
  L.depth++;
  try {
    body();
  } finally {
    L.depth--;
  }
}

/**
 * A loop tested at its head, as `for (init; test; update) body` runs: head: `test` jumps to the
 * body or out; `lowerBody`; continue: `step`; back to the head. `assigns` is what the loop may
 * assign (its entry facts forget those variables); `bodyNode` is where end-of-iteration checks point.
 */
function headTestedLoop(
  L: Lowerer,
  label: string | undefined,
  assigns: unknown,
  bodyNode: { start: number; end: number },
  parts: { test: (bodyB: Block, exit: Block) => { t: Flow | undefined; f: Flow | undefined }; lowerBody: (frame: LoopFrame) => void; step: () => void },
): void {
  const head = L.newBlock();
  const exit = L.newBlock();
  deeper(L, () => {
    const bodyB = L.newBlock();
    const cont = L.newBlock();
    head.depth = L.depth;
    bodyB.depth = L.depth;
    cont.depth = L.depth;
    const entry = loopEntryFlow(L, assigns);
    L.enter(head, entry);
    const flows = parts.test(bodyB, exit);
    const frame = L.pushLoop(exit, cont, label);
    frame.breakFlows.push(flows.f);
    L.enter(bodyB, flows.t);
    parts.lowerBody(frame);
    enterContinue(L, frame);
    parts.step();
    loopBack(L, head, entry, spanOf(bodyNode));
    exitLoop(L, frame);
  });
}

function forLoop(L: Lowerer, s: ForStatement): void {
  const label = takeLabel(L);
  checkLoopBound(L, s);
  L.pushScope();
  if (s.init) {
    if (s.init.type === 'VariableDeclaration') declaration(L, s.init);
    else lowerExpr(L, s.init as Expression, undefined, true);
  }
  headTestedLoop(L, label, [s.body, s.update], s.body, {
    test: (bodyB, exit) => (s.test ? lowerCond(L, s.test, bodyB, exit) : (L.jump(bodyB), { t: L.flow, f: undefined })),
    lowerBody: () => lowerStatement(L, s.body),
    step: () => {
      if (s.update) lowerExpr(L, s.update, undefined, true);
    },
  });
  L.popScope();
}

function whileLoop(L: Lowerer, s: WhileStatement): void {
  const label = takeLabel(L);
  checkWhileBound(L, s.test, s.body, 'while');
  const head = L.newBlock();
  const exit = L.newBlock();
  deeper(L, () => {
    const bodyB = L.newBlock();
    head.depth = L.depth;
    bodyB.depth = L.depth;
    const entry = loopEntryFlow(L, s.body);
    L.enter(head, entry);
    const flows = lowerCond(L, s.test, bodyB, exit);
    const frame = L.pushLoop(exit, head, label);
    frame.breakFlows.push(flows.f);
    L.enter(bodyB, flows.t);
    lowerStatement(L, s.body);
    loopBack(L, head, entry, spanOf(s.body));
    exitLoop(L, frame);
  });
}

function doWhileLoop(L: Lowerer, s: DoWhileStatement): void {
  const label = takeLabel(L);
  checkWhileBound(L, s.test, s.body, 'do-while');
  const bodyB = L.newBlock();
  const exit = L.newBlock();
  deeper(L, () => {
    const cont = L.newBlock();
    bodyB.depth = L.depth;
    cont.depth = L.depth;
    const entry = loopEntryFlow(L, s.body);
    L.enter(bodyB, entry);
    const frame = L.pushLoop(exit, cont, label);
    lowerStatement(L, s.body);
    enterContinue(L, frame);
    if (L.cur) {
      checkIteration(L, entry, spanOf(s.body));
      const flows = lowerCond(L, s.test, bodyB, exit);
      frame.breakFlows.push(flows.f);
    }
    exitLoop(L, frame);
  });
}

/**
 * A loop counting a 32-bit index from 0 up to `bound` (exclusive): `iteration` binds what the
 * loop variable stands for (it runs in a scope of its own, at the top of the body) and lowers
 * `body`. Shared by for-of and boundedLoop; `body` is also what the loop's entry facts and its
 * end-of-iteration checks look at.
 */
function countedLoop(L: Lowerer, bound: number, body: { start: number; end: number }, label: string | undefined, iteration: (idx: number, frame: LoopFrame) => void): void {
  const idx = L.newReg();
  L.emit({ op: 'mov', dst: idx, src: imm(0), w: 32 });
  headTestedLoop(L, label, body, body, {
    test: (bodyB, exit) => {
      const flow = L.flow;
      L.branch('jge', reg(idx), imm(bound), 32, exit, bodyB);
      return { t: flow, f: flow };
    },
    lowerBody: (frame) => {
      L.pushScope();
      iteration(idx, frame);
      L.popScope();
    },
    step: () => {
      if (L.cur) L.emit({ op: 'alu', alu: 'add', dst: idx, b: imm(1), w: 32 });
    },
  });
}

/** for (const x of arr): an index loop over a FixedArray or CharArray. */
function forOf(L: Lowerer, s: ForOfStatement): void {
  const label = takeLabel(L);
  const at = spanOf(s);
  if (s.await) L.fail(at, 'for await is not part of the dialect', 'use for-of');
  const left = s.left;
  if (left.type !== 'VariableDeclaration' || left.declarations.length !== 1 || left.declarations[0]!.id.type !== 'Identifier') L.fail(spanOf(left), 'for-of needs one new variable', 'write for (const x of arr)');
  const name = (left.declarations[0]!.id as { name: string }).name;
  const src = lowerExpr(L, s.right);
  const place = src.k === 'place' ? src.place : src.k === 'nullable' ? (L.requirePresent(src, spanOf(s.right)), L.refPlace(src.ref)) : undefined;
  const type = typeOfVal(src);
  if (!place || (type?.kind !== 'array' && type?.kind !== 'chars')) L.fail(spanOf(s.right), 'for-of iterates over a FixedArray or a CharArray', 'iterate over an array, or write a counted for loop');
  const elem: Type = type.kind === 'chars' ? INT.u8 : type.elem;
  const length = type.length;
  countedLoop(L, length, s.body, label, (idx) => {
    const ep = { ...place, dynamic: { index: { type: INT.u32, v: reg(idx) }, length, size: sizeOf(elem) } };
    if (isAggregate(elem)) {
      // The element's address (checked against the length, which the loop guarantees).
      let bound: import('./values.js').Place | undefined;
      L.withPlace(ep, (q) => {
        bound = q;
      });
      if (!bound) L.fail(at, 'internal: element place', '');
      L.bind({ kind: 'place', name, place: bound, type: elem, mutable: false }, at);
    } else {
      const v = L.load(ep, elem, at);
      L.bind({ kind: 'reg', name, reg: v, type: elem, mutable: false }, at);
    }
    lowerStatement(L, s.body);
  });
}

/** boundedLoop(max, (i) => {...}): the body inlined in a counted loop. */
export function lowerLoopBody(L: Lowerer, fn: ArrowFunctionExpression, max: number, at: Span): void {
  if (fn.params.length > 1 || (fn.params[0] && fn.params[0].type !== 'Identifier')) L.fail(spanOf(fn), 'the body of boundedLoop takes one parameter, the index', 'write (i) => { ... }');
  countedLoop(L, max, fn.body, undefined, (idx, frame) => {
    const saved = L.ret;
    L.ret = { kind: 'loop', frame, type: { kind: 'void' } };
    const p = fn.params[0] as { name: string; start: number; end: number } | undefined;
    if (p) L.bind({ kind: 'reg', name: p.name, reg: idx, type: INT.u32, mutable: false }, spanOf(p));
    if (fn.body.type === 'BlockStatement') lowerBody(L, fn.body.body as Statement[]);
    else lowerExpr(L, fn.body as Expression, undefined, true);
    L.ret = saved;
  });
  void at;
}

function switchStatement(L: Lowerer, s: SwitchStatement): void {
  const at = spanOf(s);
  const d = scalar(L, s.discriminant);
  if (d.type.kind !== 'int' && d.type.kind !== 'literal' && d.type.kind !== 'bool') L.fail(spanOf(s.discriminant), `switch needs an integer, not ${typeName(d.type)}`, 'switch on an integer');
  const type = d.type.kind === 'literal' ? (d.type.bigint ? INT.u64 : INT.u32) : d.type;
  const dv = L.toReg(d.v);
  const exit = L.newBlock();
  const caseBlocks = s.cases.map(() => L.newBlock());
  const flow = L.flow;
  const seen = new Map<bigint, Span>();
  let defaultIndex = -1;
  s.cases.forEach((c, i) => {
    if (!c.test) {
      defaultIndex = i;
      return;
    }
    const v = L.module.constEval(c.test) ?? constOfLocal(L, c.test);
    if (!v || v.kind !== 'int') L.fail(spanOf(c.test), 'case labels must be integer constants', 'use literals, consts or enum members');
    const value = coerce(L, { type: v.type, v: imm(v.value) }, type.kind === 'bool' ? INT.u32 : type, spanOf(c.test));
    const key = (value as { imm: bigint }).imm;
    if (seen.has(key)) L.fail(spanOf(c.test), `case ${key} appears twice`, 'remove the duplicate');
    seen.set(key, spanOf(c.test));
    const next = L.newBlock();
    L.branch('jeq', reg(dv), value, is64(type) ? 64 : 32, caseBlocks[i]!, next);
    L.enter(next, flow);
  });
  L.jump(defaultIndex >= 0 ? caseBlocks[defaultIndex]! : exit);
  const frame = L.pushLoop(exit, exit);
  (frame as { isSwitch?: boolean }).isSwitch = true;
  const enclosing = [...L.loops].reverse().find((f) => f !== frame && !(f as { isSwitch?: boolean }).isSwitch);
  if (enclosing) frame.cont = enclosing.cont;
  if (defaultIndex < 0) frame.breakFlows.push(flow);
  let fall: Flow | undefined;
  s.cases.forEach((c, i) => {
    L.enter(caseBlocks[i]!, Flow.merge(flow, fall) ?? flow);
    L.pushScope();
    for (const st of c.consequent) {
      if (!L.cur) break;
      lowerStatement(L, st);
    }
    L.popScope();
    fall = L.cur ? L.flow : undefined;
  });
  if (L.cur) {
    frame.breakFlows.push(L.flow);
    L.jump(exit);
  }
  if (enclosing) enclosing.contFlows.push(...frame.contFlows);
  exitLoop(L, frame);
  void at;
}

function constOfLocal(L: Lowerer, e: Expression): { kind: 'int'; value: bigint; type: Type } | undefined {
  const v = lowerExpr(L, e);
  if (v.k === 'scalar' && !isReg(v.v)) return { kind: 'int', value: v.v.imm, type: v.type.kind === 'literal' ? (v.type.bigint ? BIG_LITERAL : NUM_LITERAL) : v.type };
  return undefined;
}

export type { Block };
