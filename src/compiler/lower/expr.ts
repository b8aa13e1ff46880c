/**
 * Expressions: typing (integer widths, number vs bigint, literals adapting to their context),
 * arithmetic and comparisons in 32 or 64 bits by type, conditions as branches (&&, ||, !,
 * presence checks that narrow maybe-missing values), member access (struct fields, context
 * fields, kernel memory through CO-RE), indexing with bounds checks, assignments.
 */
import type { AluName, CondName } from '../../asm/op-names.js';
import type { AssignmentExpression, Expression, ObjectExpression, ArrayExpression, SimpleAssignmentTarget } from 'oxc-parser';
import type { Span } from '../diagnostics.js';
import { imm, isReg, reg, type Block, type Value } from '../ir.js';
import { checkRange, foldBinary, unwrap, type ConstValue } from '../module.js';
import { evalCond } from '../optimize.js';
import { CONSTANT_OBJECTS } from '../lang-exports.js';
import { BIG_LITERAL, BOOL, INT, is64, isAggregate, isBigint, NUM_LITERAL, sameType, sizeOf, typeName, type IntType, type StructType, type Type } from '../types.js';
import { lowerCall } from './calls.js';
import { gcdAlign, Lowerer } from './core.js';
import { Flow } from './flow.js';
import type { NullableBinding, Place, Space, Val } from './values.js';

export const spanOf = (n: { start: number; end: number }): Span => ({ start: n.start, end: n.end });

/** A scalar: its type and value. */
export interface Scalar {
  type: Type;
  v: Value;
}

// ---- entry points ------------------------------------------------------------------------

/** Lowers an expression to a Val; `expected` types object/array literals and zero(). */
export function lowerExpr(L: Lowerer, e: Expression, expected?: Type, discard = false): Val {
  const at = spanOf(e);
  const prevAt = L.at;
  L.at = e.start;
  try {
    return lowerExprInner(L, e, at, expected, discard);
  } finally {
    L.at = prevAt;
  }
}

function lowerExprInner(L: Lowerer, e: Expression, at: Span, expected: Type | undefined, discard: boolean): Val {
  switch (e.type) {
    case 'ParenthesizedExpression':
      return lowerExpr(L, e.expression, expected, discard);
    case 'TSSatisfiesExpression':
      return lowerExpr(L, e.expression, expected, discard);
    case 'TSAsExpression': {
      const ta = e.typeAnnotation;
      if (ta.type === 'TSTypeReference' && ta.typeName.type === 'Identifier' && ta.typeName.name === 'const') return lowerExpr(L, e.expression, expected);
      const target = L.module.resolveType(ta);
      const v = lowerExpr(L, e.expression, target);
      const vt = typeOfVal(v);
      if (vt && (sameType(vt, target) || vt.kind === 'literal')) return v.k === 'scalar' && vt.kind === 'literal' ? { k: 'scalar', type: target, v: coerce(L, { type: vt, v: v.v }, target, at) } : v;
      return L.fail(at, `'as ${typeName(target)}' does not convert a ${vt ? typeName(vt) : 'value'}`, target.kind === 'int' ? `convert it: ${target.name}(x)` : 'remove the assertion');
    }
    case 'TSNonNullExpression':
      return L.fail(at, "'!' only silences TypeScript; the verifier still needs a real check", 'check the value: if (!v) return 0;');
    case 'TSTypeAssertion':
      return L.fail(at, '<T>x assertions are not part of the dialect', 'convert with u32(x) etc.');
    case 'Literal':
      return literal(L, e, at, expected);
    case 'TemplateLiteral':
      if (e.expressions.length === 0) return { k: 'string', text: e.quasis.map((q) => q.value.cooked ?? q.value.raw).join('') };
      return L.fail(at, 'template literals with ${...} are not part of the dialect', "use printk('%d', x) to format values");
    case 'Identifier':
      return identifier(L, e.name, at, expected);
    case 'MemberExpression':
      return member(L, e, at);
    case 'CallExpression':
      return lowerCall(L, e, at, expected, discard);
    case 'UnaryExpression':
      return unary(L, e, at, expected);
    case 'BinaryExpression':
      return binary(L, e, at, expected);
    case 'LogicalExpression':
      return logical(L, e, at, expected);
    case 'ConditionalExpression':
      return conditional(L, e, at, expected);
    case 'AssignmentExpression':
      return assignment(L, e, at, discard);
    case 'UpdateExpression':
      return update(L, e, at, discard);
    case 'ObjectExpression':
    case 'ArrayExpression': {
      if (!expected || !isAggregate(expected)) return L.fail(at, `an ${e.type === 'ObjectExpression' ? 'object' : 'array'} literal needs a known type here`, e.type === 'ObjectExpression' ? 'annotate the variable: const k: Key = { ... }' : 'annotate the variable: const a: FixedArray<u32, 4> = [ ... ]');
      const place = L.stackObject(expected, 'literal');
      initPlace(L, place, expected, e, at);
      return { k: 'place', type: expected, place };
    }
    case 'SequenceExpression': {
      let last: Val = { k: 'void' };
      e.expressions.forEach((x, i) => (last = lowerExpr(L, x, i === e.expressions.length - 1 ? expected : undefined, i < e.expressions.length - 1 || discard)));
      return last;
    }
    case 'ChainExpression':
      return L.fail(at, "optional chaining '?.' is only supported as 'v?.field ?? default'", 'check the value first, or write v?.field ?? 0');
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return L.fail(at, 'functions inside a program are not part of the dialect (closures cannot run in the kernel)', 'declare a top-level function and pass the values it needs as arguments');
    case 'AwaitExpression':
      return L.fail(at, 'await is not part of the dialect', 'kernel programs run to completion synchronously');
    case 'ThisExpression':
      return L.fail(at, "'this' is not part of the dialect", 'pass values as arguments');
    case 'NewExpression':
      return L.fail(at, "'new' is only for declaring maps at the top level", 'declare the map at the top level: export const m = new HashMap<K, V>({...})');
    case 'ClassExpression':
      return L.fail(at, 'classes are not part of the dialect', 'use interfaces for data and top-level functions for code');
    case 'YieldExpression':
      return L.fail(at, 'generators are not part of the dialect', 'use a loop');
    case 'TaggedTemplateExpression':
      return L.fail(at, 'tagged templates are not part of the dialect', 'use printk for formatting');
    default:
      return L.fail(at, `this expression (${e.type}) is not part of the dialect`, 'see docs/compiler.md for what kernel programs can use');
  }
}

/** Lowers to a scalar (loading places, checking presence). */
export function scalar(L: Lowerer, e: Expression, expected?: Type): Scalar {
  // `expected` only shapes aggregates and zero(); literals keep their literal type until an
  // operator or an assignment gives them one.
  return L.scalarOf(lowerExpr(L, e, expected && isAggregate(expected) ? expected : undefined), spanOf(e));
}

/** The static type of a Val, when it has one. */
export function typeOfVal(v: Val): Type | undefined {
  return v.k === 'scalar' || v.k === 'place' || v.k === 'nullable' ? v.type : v.k === 'string' ? { kind: 'string' } : undefined;
}

// ---- literals and names ------------------------------------------------------------------

function literal(L: Lowerer, e: Expression & { type: 'Literal' }, at: Span, expected: Type | undefined): Val {
  const lit = e as { value: unknown; bigint?: string; raw?: string | null };
  if (typeof lit.bigint === 'string') return { k: 'scalar', type: BIG_LITERAL, v: imm(BigInt(lit.bigint)) };
  const v = lit.value;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) L.fail(at, `${lit.raw ?? v} is not an integer; the kernel has no floating point`, 'use integers (e.g. scale to milliseconds)');
    if (!Number.isSafeInteger(v)) L.fail(at, `${lit.raw ?? v} is beyond 2^53 and loses precision as a number`, 'write a bigint literal (with n) for a u64');
    return { k: 'scalar', type: NUM_LITERAL, v: imm(BigInt(v)) };
  }
  if (typeof v === 'bigint') return { k: 'scalar', type: BIG_LITERAL, v: imm(v) };
  if (typeof v === 'string') return { k: 'string', text: v };
  if (typeof v === 'boolean') return { k: 'scalar', type: BOOL, v: imm(v ? 1 : 0) };
  if (v === null) return L.fail(at, "'null' is not part of the dialect", "a missing value is 'undefined' (what lookup returns)");
  void expected;
  return L.fail(at, 'regular expressions are not part of the dialect', 'compare bytes with strEq or byteAt');
}

/** A compile-time constant as a Val. */
export function constVal(L: Lowerer, c: ConstValue, name: string, at: Span, expected?: Type): Val {
  switch (c.kind) {
    case 'int':
      return { k: 'scalar', type: c.type, v: imm(c.value) };
    case 'bool':
      return { k: 'scalar', type: BOOL, v: imm(c.value ? 1 : 0) };
    case 'string':
      return { k: 'string', text: c.value };
    case 'object':
      return { k: 'consts', name, members: c.members };
    case 'zero':
    case 'array':
      if (!expected) return L.fail(at, `'${name}' needs a type here`, 'annotate it');
      return L.fail(at, `'${name}' is a constant table; declare it with a type annotation to place it in .rodata`, `const ${name}: FixedArray<u32, N> = [...]`);
  }
}

function identifier(L: Lowerer, name: string, at: Span, expected: Type | undefined): Val {
  const b = L.lookup(name);
  if (b) {
    switch (b.kind) {
      case 'reg':
        return { k: 'scalar', type: b.type, v: reg(b.reg) };
      case 'place':
        return { k: 'place', type: b.type, place: b.place };
      case 'nullable':
        return { k: 'nullable', type: b.type, ref: b.ref, binding: b };
      case 'value':
        return b.val;
    }
  }
  const m = L.module;
  if (name === 'undefined') return L.fail(at, "'undefined' can only be compared with (v === undefined)", 'check a lookup result with if (!v) or if (v === undefined)');
  const c = m.consts.get(name);
  if (c) return constVal(L, c, name, at, expected);
  const map = m.maps.find((x) => x.name === name);
  if (map) return { k: 'map', map };
  const g = m.globals.find((x) => x.name === name);
  if (g) {
    const place = L.globalPlace(g);
    return { k: 'place', type: g.type, place: { ...place, shared: g.section !== '.rodata' } };
  }
  if (m.functions.has(name)) return { k: 'callee', name, what: 'local' };
  const imp = m.imports.get(name);
  if (imp) {
    switch (imp.kind) {
      case 'helpers':
        return { k: 'helpers' };
      case 'constants': {
        const members = new Map<string, ConstValue>();
        for (const [k, n] of Object.entries(CONSTANT_OBJECTS[imp.name]!)) members.set(k, { kind: 'int', value: BigInt(n), type: NUM_LITERAL });
        return { k: 'consts', name: imp.name, members };
      }
      case 'function':
      case 'declarator':
        return { k: 'callee', name: imp.name, what: 'lang' };
      case 'int':
        return { k: 'callee', name: imp.name, what: 'int' };
      default:
        return L.fail(at, `'${name}' is a type, not a value`, 'use it in a type annotation');
    }
  }
  if (m.programs.some((p) => p.name === name)) return L.fail(at, `'${name}' is a program; programs cannot call each other`, 'move shared code into a top-level function, or use a ProgArray tail call');
  return L.fail(at, `'${name}' is not defined`, 'declare it, or import it from tsbpf/lang');
}

// ---- coercion ----------------------------------------------------------------------------

/** Converts a scalar to `target` where the dialect allows it implicitly (literals, same type). */
export function coerce(L: Lowerer, s: Scalar, target: Type, at: Span): Value {
  const t = s.type;
  if (target.kind === 'int') {
    if (t.kind === 'literal') {
      if (t.bigint !== isBigint(target)) L.fail(at, `a ${t.bigint ? 'bigint' : 'number'} literal cannot be a ${target.name} (${isBigint(target) ? 'bigint' : 'number'})`, isBigint(target) ? 'write it with an n suffix, e.g. 1n' : 'write it without the n suffix');
      if (!isReg(s.v)) {
        checkRange(s.v.imm, target, at);
        return s.v;
      }
      return s.v;
    }
    if (t.kind === 'int' && t.name === target.name) return s.v;
    if (t.kind === 'int') L.fail(at, `a ${t.name} is not a ${target.name}`, `convert explicitly: ${target.name}(x)`);
    if (t.kind === 'bool') L.fail(at, `a bool is not a ${target.name}`, `convert explicitly: ${target.name}(x)`);
    if (t.kind === 'ptr') L.fail(at, `a pointer is not a ${target.name}`, 'convert it with u64(p)');
    L.fail(at, `${typeName(t)} is not a ${target.name}`, 'use a value of the right type');
  }
  if (target.kind === 'bool') {
    if (t.kind === 'bool') return s.v;
    L.fail(at, `a ${typeName(t)} is not a bool`, 'compare it: x !== 0');
  }
  if (target.kind === 'ptr') {
    if (t.kind === 'ptr') return s.v;
    if (t.kind === 'int' && t.name === 'u64') return s.v;
    if (t.kind === 'literal' && !isReg(s.v) && s.v.imm === 0n) return s.v;
    L.fail(at, `a ${typeName(t)} is not a pointer`, 'pass a Ptr<T> value or a u64 address');
  }
  return L.fail(at, `a ${typeName(t)} cannot be used as a ${typeName(target)}`, 'use a value of the right type');
}

/**
 * The common type of two operands of an arithmetic operator: the same integer type, a literal
 * adopting the other side's type, or a narrower integer of the same signedness and register
 * class widening losslessly (u8 + u32 is a u32, as C promotes it).
 */
function unify(L: Lowerer, a: Type, b: Type, op: string, at: Span): Type {
  if (a.kind === 'literal' && b.kind === 'literal') {
    if (a.bigint !== b.bigint) L.fail(at, `cannot mix number and bigint in '${op}'`, 'write both as bigints (1n) or both as numbers');
    return a;
  }
  if (a.kind === 'literal') return unify(L, b, a, op, at);
  if (a.kind === 'int') {
    if (b.kind === 'literal') {
      if (b.bigint !== isBigint(a)) L.fail(at, `cannot mix ${a.name} and a ${b.bigint ? 'bigint' : 'number'} literal in '${op}'`, isBigint(a) ? 'write the literal with an n suffix' : 'write the literal without the n suffix');
      return a;
    }
    if (b.kind === 'int') {
      if (a.name === b.name) return a;
      if (a.signed === b.signed && is64(a) === is64(b)) return a.size >= b.size ? a : b;
      L.fail(at, `cannot mix ${a.name} and ${b.name} in '${op}'`, is64(a) !== is64(b) ? `convert one side explicitly: ${is64(a) ? `u64(x) or ${b.signed ? 'i' : 'u'}32(y)` : 'u64(x)'} (number and bigint do not mix in TypeScript either)` : `convert one side explicitly: ${a.name}(x) or ${b.name}(x)`);
    }
  }
  if (a.kind === 'bool' || b.kind === 'bool') L.fail(at, `'${op}' does not apply to bool`, 'use && || ! on bools, or convert with u32(b)');
  if (a.kind === 'ptr' || b.kind === 'ptr') L.fail(at, `'${op}' does not apply to pointers`, 'convert the address with u64(p) first');
  return L.fail(at, `'${op}' does not apply to ${typeName(a)} and ${typeName(b)}`, 'use integer operands');
}

/**
 * An arithmetic operand in type `t`: a narrower integer of the same signedness widened, a
 * literal wrapped into `t` as C would (x + -1n on a u64 subtracts one).
 */
function widen(s: Scalar, t: Type): Scalar {
  if (s.type.kind === 'int' && t.kind === 'int' && s.type.name !== t.name && s.type.signed === t.signed && is64(s.type) === is64(t)) return { type: t, v: s.v };
  if (s.type.kind === 'literal' && t.kind === 'int' && !isReg(s.v) && s.type.bigint === isBigint(t)) {
    const bits = t.size * 8;
    return { type: t, v: imm(t.signed ? BigInt.asIntN(bits, s.v.imm) : BigInt.asUintN(bits, s.v.imm)) };
  }
  return s;
}

// ---- operators ---------------------------------------------------------------------------

const ARITH: Record<string, AluName | undefined> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh', '>>>': 'rsh' };
const COMPARE = new Set(['==', '===', '!=', '!==', '<', '<=', '>', '>=']);

/** `a op b` on scalars of type `t` (already unified), folding constants. */
export function arith(L: Lowerer, op: string, a: Scalar, b: Scalar, t: Type, at: Span): Scalar {
  const ty = t.kind === 'literal' ? t : t;
  if (!isReg(a.v) && !isReg(b.v)) {
    const r = foldBinary(op, a.v.imm, b.v.imm, ty);
    if (typeof r === 'bigint') return { type: ty, v: imm(r) };
  }
  const it = ty.kind === 'literal' ? (ty.bigint ? INT.u64 : INT.i32) : (ty as IntType);
  if (op === '>>>' && it.kind === 'int' && it.size === 8 && false) L.fail(at, '', '');
  let alu = ARITH[op];
  if (!alu) L.fail(at, `operator '${op}' is not part of the dialect`, 'use + - * / % & | ^ << >> >>>');
  const signed = it.kind === 'int' && it.signed;
  if (op === '/' && signed) alu = 'sdiv';
  if (op === '%' && signed) alu = 'smod';
  if (op === '>>' && signed) alu = 'arsh';
  const w = is64(it) ? 64 : 32;
  const dst = L.copy(a.v, w);
  const bv = !isReg(b.v) && w === 64 && (b.v.imm < -0x80000000n || b.v.imm > 0x7fffffffn) ? reg(L.toReg(b.v)) : b.v;
  L.emit({ op: 'alu', alu, dst, b: bv, w });
  if (it.kind === 'int' && it.size < 4 && (op === '+' || op === '-' || op === '*' || op === '<<' || (op === '>>>' && signed))) normalize(L, dst, it);
  return { type: ty, v: reg(dst) };
}

/**
 * The type of a shift: 8- and 16-bit operands give a 32-bit result of the same signedness, as C
 * promotes them to int before shifting (`u8 << 8` keeps its bits). Compound `x <<= n` still
 * stores at x's width.
 */
function promoteShift(op: string, t: Type): Type {
  if ((op !== '<<' && op !== '>>' && op !== '>>>') || t.kind !== 'int' || t.size >= 4) return t;
  return t.signed ? INT.i32 : INT.u32;
}

/** A shift by a constant must be below the width (the verifier rejects larger ones). */
function checkShift(L: Lowerer, op: string, t: Type, b: Value, at: Span): void {
  if ((op !== '<<' && op !== '>>' && op !== '>>>') || isReg(b) || t.kind !== 'int') return;
  const bits = is64(t) ? 64n : 32n;
  if (b.imm < 0n || b.imm >= bits) L.fail(at, `a shift by ${b.imm} is out of range for ${t.name} (0..${bits - 1n})`, is64(t) ? 'shift by less than 64' : 'shift by less than 32, or convert to u64 first');
}

/** Brings an 8/16-bit result back into its range (zero- or sign-extended in 32 bits). */
export function normalize(L: Lowerer, r: number, t: IntType): void {
  if (t.size >= 4) return;
  if (!t.signed) L.emit({ op: 'alu', alu: 'and', dst: r, b: imm(t.size === 1 ? 0xff : 0xffff), w: 32 });
  else {
    const sh = 32 - t.size * 8;
    L.emit({ op: 'alu', alu: 'lsh', dst: r, b: imm(sh), w: 32 });
    L.emit({ op: 'alu', alu: 'arsh', dst: r, b: imm(sh), w: 32 });
  }
}

function unary(L: Lowerer, e: Expression & { type: 'UnaryExpression' }, at: Span, expected: Type | undefined): Val {
  switch (e.operator) {
    case '!':
      return boolValue(L, e, at);
    case '+':
      return lowerExpr(L, e.argument, expected);
    case '-':
    case '~': {
      const s = scalar(L, e.argument, expected);
      if (s.type.kind !== 'int' && s.type.kind !== 'literal') L.fail(at, `'${e.operator}' needs an integer, not ${typeName(s.type)}`, 'apply it to an integer');
      if (!isReg(s.v)) {
        const v = e.operator === '-' ? -s.v.imm : ~s.v.imm;
        const t = s.type;
        return { k: 'scalar', type: t, v: imm(t.kind === 'int' ? (t.signed ? BigInt.asIntN(t.size * 8, v) : BigInt.asUintN(t.size * 8, v)) : v) };
      }
      if (e.operator === '-' && s.type.kind === 'int' && !s.type.signed) L.fail(at, `negating a ${s.type.name} wraps around`, `convert to a signed type first: -i${s.type.size * 8}(x), or write 0 - x`);
      const w = is64(s.type) ? 64 : 32;
      const r = L.copy(s.v, w);
      if (e.operator === '-') L.emit({ op: 'neg', dst: r, w });
      else L.emit({ op: 'alu', alu: 'xor', dst: r, b: imm(-1), w });
      if (s.type.kind === 'int') normalize(L, r, s.type);
      return { k: 'scalar', type: s.type, v: reg(r) };
    }
    case 'typeof':
      return L.fail(at, "'typeof' is not part of the dialect", 'types are known at compile time');
    case 'void':
      return L.fail(at, "'void' is not part of the dialect", 'write the expression as a statement');
    case 'delete':
      return L.fail(at, "'delete' is not part of the dialect", 'use map.delete(key) for map entries');
  }
}

function binary(L: Lowerer, e: Expression & { type: 'BinaryExpression' }, at: Span, expected: Type | undefined): Val {
  const op = e.operator;
  if (COMPARE.has(op)) return boolValue(L, e, at);
  if (op === 'in' || op === 'instanceof') return L.fail(at, `'${op}' is not part of the dialect`, 'types are known at compile time');
  if (op === '**') {
    const c = L.module.constEval(e);
    if (c?.kind === 'int') return { k: 'scalar', type: c.type, v: imm(c.value) };
    return L.fail(at, "'**' is only allowed on constants", 'multiply in a loop, or shift for powers of two');
  }
  void expected;
  const a = scalar(L, e.left as Expression);
  const b = scalar(L, e.right);
  const t = promoteShift(op, unify(L, a.type, b.type, op, at));
  if (op === '>>>' && isBigint(t)) L.fail(at, "'>>>' does not apply to bigints", "use '>>' (it is a logical shift on u64)");
  const av = t.kind === 'int' ? coerce(L, widen(a, t), t, spanOf(e.left)) : a.v;
  const bv = t.kind === 'int' && op !== '<<' && op !== '>>' && op !== '>>>' ? coerce(L, widen(b, t), t, spanOf(e.right)) : b.v;
  if (!isReg(bv) && (op === '/' || op === '%') && bv.imm === 0n) L.fail(spanOf(e.right), 'division by zero', 'BPF defines x / 0 as 0 and x % 0 as x; write that instead if you mean it');
  checkShift(L, op, t, bv, spanOf(e.right));
  return { k: 'scalar', ...arith(L, op, { type: t, v: av }, { type: t, v: bv }, t, at) };
}

function logical(L: Lowerer, e: Expression & { type: 'LogicalExpression' }, at: Span, expected: Type | undefined): Val {
  if (e.operator === '??') return nullish(L, e.left, e.right, at, expected);
  // a && b, a || b on bools give bools; on integers, the chosen operand (as in TypeScript).
  const left = lowerExpr(L, e.left, expected);
  const lt = typeOfVal(left);
  if (!lt || lt.kind === 'bool' || left.k === 'nullable' || lt.kind === 'ptr') return boolValueFrom(L, (t, f) => condOfLowered(L, e, t, f), at);
  const a = L.scalarOf(left, spanOf(e.left));
  if (a.type.kind !== 'int' && a.type.kind !== 'literal') L.fail(at, `'${e.operator}' needs bools or integers`, 'compare explicitly');
  const result = L.newReg();
  const w = is64(a.type) ? 64 : 32;
  L.emit({ op: 'mov', dst: result, src: a.v, w: isReg(a.v) ? 64 : w });
  const rhs = L.newBlock();
  const join = L.newBlock();
  const flow = L.flow;
  // || keeps a truthy left side; && keeps a falsy one.
  if (e.operator === '||') L.branch('jne', reg(result), imm(0), w, join, rhs);
  else L.branch('jeq', reg(result), imm(0), w, join, rhs);
  L.enter(rhs, flow);
  const b = scalar(L, e.right, a.type.kind === 'int' ? a.type : undefined);
  const t = unify(L, a.type, b.type, e.operator, at);
  L.emit({ op: 'mov', dst: result, src: coerce(L, b, t.kind === 'literal' ? (t.bigint ? INT.u64 : INT.u32) : t, spanOf(e.right)), w });
  L.enter(join, flow);
  return { k: 'scalar', type: t.kind === 'literal' ? (t.bigint ? INT.u64 : INT.u32) : t, v: reg(result) };
}

/** `a ?? b`: a maybe-missing value or a default. */
function nullish(L: Lowerer, left: Expression, right: Expression, at: Span, expected: Type | undefined): Val {
  let inner = unwrap(left);
  let fieldPath: string[] = [];
  if (inner.type === 'ChainExpression') {
    // v?.a.b ?? d
    let x: Expression = inner.expression as Expression;
    while (x.type === 'MemberExpression' && !x.computed) {
      fieldPath.unshift((x.property as { name: string }).name);
      if (x.optional) {
        x = x.object;
        break;
      }
      x = x.object;
    }
    inner = x;
  }
  const v = lowerExpr(L, inner, expected);
  if (v.k !== 'nullable') {
    if (fieldPath.length === 0) return L.fail(at, "'??' needs a value that may be undefined on its left", 'remove the ?? default: this value is always present');
    return L.fail(at, "'?.' needs a value that may be undefined on its left", 'use . instead');
  }
  let type = v.type;
  const result = L.newReg();
  const present = L.newBlock();
  const absent = L.newBlock();
  const join = L.newBlock();
  const flow = L.flow;
  presenceBranch(L, v, present, absent);
  L.enter(present, flow);
  let place = L.refPlace(v.ref);
  for (const name of fieldPath) {
    if (type.kind !== 'struct') L.fail(at, `${typeName(type)} has no field '${name}'`, 'check the field name');
    const f = L.field(type, name, at);
    place = Lowerer.offset(place, f.offset);
    type = f.type;
  }
  if (isAggregate(type)) L.fail(at, `'??' needs a single value, not a ${typeName(type)}`, 'pick a field');
  const loaded = L.load(place, type, at);
  const w = is64(type) ? 64 : 32;
  L.emit({ op: 'mov', dst: result, src: reg(loaded), w: 64 });
  L.jump(join);
  L.enter(absent, flow);
  const d = scalar(L, right, type);
  L.emit({ op: 'mov', dst: result, src: coerce(L, d, type, spanOf(right)), w });
  L.enter(join, flow);
  return { k: 'scalar', type, v: reg(result) };
}

function conditional(L: Lowerer, e: Expression & { type: 'ConditionalExpression' }, at: Span, expected: Type | undefined): Val {
  const ca = L.module.constEval(e.consequent);
  const cb = L.module.constEval(e.alternate);
  if (ca?.kind === 'int' && cb?.kind === 'int') {
    // c ? K1 : K2 with constants: r = K2; if (c) r = K1.
    // Two literal arms stay an untyped integer (as in TypeScript), typed by how it is used.
    const type = unify(L, ca.type, cb.type, '?:', at);
    const va = type.kind === 'literal' ? imm(ca.value) : coerce(L, { type: ca.type, v: imm(ca.value) }, type, spanOf(e.consequent));
    const vb = type.kind === 'literal' ? imm(cb.value) : coerce(L, { type: cb.type, v: imm(cb.value) }, type, spanOf(e.alternate));
    const r = L.newReg();
    const w = is64(type) ? 64 : 32;
    L.emit({ op: 'mov', dst: r, src: vb, w });
    const t = L.newBlock();
    const join = L.newBlock();
    const flows = lowerCond(L, e.test, t, join);
    L.enter(t, flows.t);
    L.emit({ op: 'mov', dst: r, src: va, w });
    L.enter(join, Flow.merge(L.cur ? L.flow : undefined, flows.f) ?? L.flow);
    return { k: 'scalar', type, v: reg(r) };
  }
  const t = L.newBlock();
  const f = L.newBlock();
  const join = L.newBlock();
  const flows = lowerCond(L, e.test, t, f);
  const result = L.newReg();
  L.enter(t, flows.t);
  const a = scalar(L, e.consequent, expected);
  const endT = L.flow;
  const aAt = spanOf(e.consequent);
  // The type comes from the first branch unless it is a literal.
  let type = a.type;
  let av = a.v;
  const movA = { op: 'mov' as const, dst: result, src: av, w: 64 as 32 | 64 };
  L.emit(movA);
  L.jump(join);
  L.enter(f, flows.f);
  const b = scalar(L, e.alternate, type.kind === 'literal' ? expected : type);
  if (type.kind === 'literal' && b.type.kind !== 'literal') {
    av = coerce(L, { type, v: av }, b.type, aAt);
    movA.src = av;
    type = b.type;
  } else if (type.kind === 'literal' && b.type.kind === 'literal') {
    type = unify(L, type, b.type, '?:', at);
  }
  const bv = type.kind === 'literal' ? b.v : coerce(L, b, type, spanOf(e.alternate));
  if (!isReg(movA.src)) movA.w = is64(type) ? 64 : 32;
  L.emit({ op: 'mov', dst: result, src: bv, w: is64(type) ? 64 : 32 });
  L.enter(join, Flow.merge(endT, L.flow));
  return { k: 'scalar', type, v: reg(result) };
}

// ---- conditions --------------------------------------------------------------------------

/** Flow facts on the true and false edges of a condition. */
export interface CondFlows {
  t: Flow | undefined;
  f: Flow | undefined;
}

/** Lowers a condition as branches to `t` and `f`; the current block ends. */
export function lowerCond(L: Lowerer, e: Expression, t: Block, f: Block): CondFlows {
  const prevAt = L.at;
  L.at = e.start;
  try {
    return condInner(L, e, t, f);
  } finally {
    L.at = prevAt;
  }
}

function condInner(L: Lowerer, e: Expression, t: Block, f: Block): CondFlows {
  const at = spanOf(e);
  switch (e.type) {
    case 'ParenthesizedExpression':
      return lowerCond(L, e.expression, t, f);
    case 'UnaryExpression':
      if (e.operator === '!') {
        const r = lowerCond(L, e.argument, f, t);
        return { t: r.f, f: r.t };
      }
      break;
    case 'LogicalExpression':
      if (e.operator === '&&') {
        const mid = L.newBlock();
        const a = lowerCond(L, e.left, mid, f);
        L.enter(mid, a.t);
        if (!L.cur) return { t: undefined, f: a.f };
        const b = lowerCond(L, e.right, t, f);
        return { t: b.t, f: Flow.merge(a.f, b.f) };
      }
      if (e.operator === '||') {
        const mid = L.newBlock();
        const a = lowerCond(L, e.left, t, mid);
        L.enter(mid, a.f);
        if (!L.cur) return { t: a.t, f: undefined };
        const b = lowerCond(L, e.right, t, f);
        return { t: Flow.merge(a.t, b.t), f: b.f };
      }
      break;
    case 'Literal':
      if (typeof (e as { value: unknown }).value === 'boolean') {
        const flow = L.flow;
        L.jump((e as { value: boolean }).value ? t : f);
        return (e as { value: boolean }).value ? { t: flow, f: undefined } : { t: undefined, f: flow };
      }
      break;
    case 'BinaryExpression':
      if (COMPARE.has(e.operator) && e.left.type !== 'PrivateIdentifier') return compareCond(L, e.operator, e.left as Expression, e.right, t, f, at);
      break;
    case 'CallExpression': {
      // strEq and has() branch directly.
      const v = lowerCall(L, e, at, undefined, false, { t, f });
      if (v.k === 'branched') return { t: v.t, f: v.f };
      return truthiness(L, v, t, f, at);
    }
    default:
      break;
  }
  return truthiness(L, lowerExpr(L, e), t, f, at);
}

function condOfLowered(L: Lowerer, e: Expression, t: Block, f: Block): CondFlows {
  return lowerCond(L, e, t, f);
}

/** Branches on whether a maybe-missing value is present. */
export function presenceBranch(L: Lowerer, v: Extract<Val, { k: 'nullable' }>, t: Block, f: Block): CondFlows {
  const flow = L.flow;
  if (v.ref.ok !== undefined) L.branch('jeq', reg(v.ref.ok), imm(0), 64, t, f);
  else L.branch('jne', reg(v.ref.ptr), imm(0), 64, t, f);
  if (!v.binding) return { t: flow, f: flow };
  return { t: flow.withPresence(v.binding.id, 'present'), f: flow.withPresence(v.binding.id, 'absent') };
}

/** Branches on the truth of a value, as TypeScript defines it. */
function truthiness(L: Lowerer, v: Val, t: Block, f: Block, at: Span): CondFlows {
  if (v.k === 'nullable') {
    if (isAggregate(v.type) || v.ref.source === 'packet' || v.ref.source === 'reserve') return presenceBranch(L, v, t, f);
    // A present number that is 0 is falsy too.
    const mid = L.newBlock();
    const p = presenceBranch(L, v, mid, f);
    L.enter(mid, p.t);
    const s = L.scalarOf(v, at);
    const before = L.flow;
    L.branch('jne', s.v, imm(0), is64(v.type) ? 64 : 32, t, f);
    const cleared = v.binding ? before.withPresence(v.binding.id, undefined) : before;
    return { t: p.t, f: Flow.merge(p.f ? p.f.withPresence(v.binding?.id ?? -1, undefined) : undefined, cleared) };
  }
  const s = L.scalarOf(v, at);
  const flow = L.flow;
  if (!isReg(s.v)) {
    L.jump(s.v.imm !== 0n ? t : f);
    return s.v.imm !== 0n ? { t: flow, f: undefined } : { t: undefined, f: flow };
  }
  L.branch('jne', s.v, imm(0), is64(s.type) ? 64 : 32, t, f);
  return { t: flow, f: flow };
}

function isUndefined(e: Expression): boolean {
  const u = unwrap(e);
  return u.type === 'Identifier' && u.name === 'undefined';
}

function compareCond(L: Lowerer, op: string, le: Expression, re: Expression, t: Block, f: Block, at: Span): CondFlows {
  const eq = op === '==' || op === '===';
  const ne = op === '!=' || op === '!==';
  if ((eq || ne) && (isUndefined(le) || isUndefined(re))) {
    const v = lowerExpr(L, isUndefined(le) ? re : le);
    if (v.k !== 'nullable') L.fail(at, 'only values that may be missing (lookup, reserve, pop) can be compared with undefined', 'this value is always present');
    const r = presenceBranch(L, v, eq ? f : t, eq ? t : f);
    return eq ? { t: r.f, f: r.t } : r;
  }
  const a = scalar(L, le);
  const b = scalar(L, re, a.type.kind === 'int' || a.type.kind === 'bool' ? a.type : undefined);
  let type: Type;
  if (a.type.kind === 'bool' || b.type.kind === 'bool') {
    if (!(eq || ne)) L.fail(at, `'${op}' does not order bools`, 'compare bools with === or !==');
    if (a.type.kind !== b.type.kind) L.fail(at, `cannot compare ${typeName(a.type)} with ${typeName(b.type)}`, 'compare values of the same type');
    type = BOOL;
  } else if (a.type.kind === 'ptr' || b.type.kind === 'ptr') {
    type = INT.u64;
  } else {
    type = unify(L, a.type, b.type, op, at);
    if (type.kind === 'int') {
      a.v = coerce(L, widen(a, type), type, spanOf(le));
      b.v = coerce(L, widen(b, type), type, spanOf(re));
    }
  }
  const signed = type.kind === 'int' ? type.signed : type.kind === 'literal';
  const cond: CondName = eq ? 'jeq' : ne ? 'jne' : op === '<' ? (signed ? 'jslt' : 'jlt') : op === '<=' ? (signed ? 'jsle' : 'jle') : op === '>' ? (signed ? 'jsgt' : 'jgt') : signed ? 'jsge' : 'jge';
  const w = is64(type) ? 64 : 32;
  const flow = L.flow;
  if (!isReg(a.v) && !isReg(b.v)) {
    const r = evalCond(cond, a.v.imm, b.v.imm, w);
    L.jump(r ? t : f);
    return r ? { t: flow, f: undefined } : { t: undefined, f: flow };
  }
  L.branch(cond, a.v, b.v, w, t, f);
  return { t: flow, f: flow };
}

/** A bool value of a condition: 1 or 0 in a register. */
function boolValue(L: Lowerer, e: Expression, at: Span): Val {
  return boolValueFrom(L, (t, f) => lowerCond(L, e, t, f), at);
}

function boolValueFrom(L: Lowerer, cond: (t: Block, f: Block) => CondFlows, _at: Span): Val {
  // r = 0; if (cond) r = 1: one branch, no jump.
  const t = L.newBlock();
  const join = L.newBlock();
  const r = L.newReg();
  L.emit({ op: 'mov', dst: r, src: imm(0), w: 32 });
  const flows = cond(t, join);
  L.enter(t, flows.t);
  L.emit({ op: 'mov', dst: r, src: imm(1), w: 32 });
  const ft = L.cur ? L.flow : undefined;
  L.enter(join, Flow.merge(ft, flows.f) ?? L.flow);
  return { k: 'scalar', type: BOOL, v: reg(r) };
}

// ---- member access -----------------------------------------------------------------------

/** The space a pointer's target is read in. */
function spaceOfPointer(t: Type & { kind: 'ptr' }): Space {
  switch (t.space) {
    case 'btf':
      return 'btf';
    case 'user':
      return 'user';
    default:
      return 'kernel';
  }
}

/** The place a pointer value points at. */
export function deref(L: Lowerer, p: Scalar, at: Span): { type: Type; place: Place } {
  const t = p.type;
  if (t.kind !== 'ptr') return L.fail(at, `a ${typeName(t)} is not a pointer`, 'only Ptr<T> values can be dereferenced');
  if (t.pointee.kind === 'void') L.fail(at, 'this pointer has no type to read', 'give it one: Ptr<TaskStruct>, or read it with bpf.probeReadKernel');
  const r = L.toReg(p.v);
  const space: Space = t.direct ?? spaceOfPointer(t);
  const place: Place = { base: { reg: r }, off: 0, space, align: 8 };
  if (t.pointee.kind === 'struct' && t.pointee.origin === 'kernel' && (space === 'kernel' || space === 'btf' || space === 'user')) place.core = { root: t.pointee, access: [] };
  return { type: t.pointee, place };
}

/** `obj.name` on a place of struct type `s`. */
export function fieldOf(L: Lowerer, place: Place, s: StructType, name: string, at: Span): { type: Type; place: Place } {
  const f = L.field(s, name, at);
  if (s.origin === 'kernel' && place.core) {
    L.unit.btf.kernelMember(s, name, f.type, f.offset);
    const core = { root: place.core.root, access: [...place.core.access, { struct: s, member: name }] };
    return { type: f.type, place: Lowerer.offset(place, f.offset, core) };
  }
  return { type: f.type, place: Lowerer.offset(place, f.offset) };
}

function member(L: Lowerer, e: Expression & { type: 'MemberExpression' }, at: Span): Val {
  if (e.optional) L.fail(at, "optional chaining '?.' is only supported as 'v?.field ?? default'", 'check the value first: if (!v) return 0;');
  if (e.property.type === 'PrivateIdentifier') L.fail(at, 'private names are not part of the dialect', '');
  const obj = lowerExpr(L, e.object);
  if (e.computed) {
    const key = unwrap(e.property as Expression);
    if (key.type === 'Literal' && typeof (key as { value: unknown }).value === 'string') {
      L.fail(at, `dynamic property access (['${(key as { value: string }).value}']) is not part of the dialect`, `write .${(key as { value: string }).value}`);
    }
    return index(L, obj, e.property as Expression, at, spanOf(e.object));
  }
  const name = (e.property as { name: string }).name;
  switch (obj.k) {
    case 'consts': {
      const c = obj.members.get(name);
      if (!c) L.fail(spanOf(e.property), `${obj.name} has no member '${name}'`, `its members are: ${[...obj.members.keys()].join(', ')}`);
      return constVal(L, c, `${obj.name}.${name}`, at);
    }
    case 'callee':
      return L.fail(at, `'${obj.name}' has no member '${name}'`, 'call it instead');
    case 'map':
      return L.fail(at, `map method '${name}' must be called: ${obj.map.name}.${name}(...)`, 'call it');
    case 'helpers':
      return L.fail(at, `helper '${name}' must be called: bpf.${name}(...)`, 'call it');
    case 'string':
      if (name === 'length') return { k: 'scalar', type: NUM_LITERAL, v: imm(new TextEncoder().encode(obj.text).length) };
      return L.fail(at, `strings have no member '${name}' in the dialect`, 'use strEq, strCopy or byteAt');
    case 'nullable': {
      L.requirePresent(obj, spanOf(e.object));
      return memberOfPlace(L, L.refPlace(obj.ref), obj.type, name, at);
    }
    case 'place':
      return memberOfPlace(L, obj.place, obj.type, name, at);
    case 'scalar': {
      if (obj.type.kind === 'ptr') {
        const d = deref(L, { type: obj.type, v: obj.v }, spanOf(e.object));
        return memberOfPlace(L, d.place, d.type, name, at);
      }
      return L.fail(at, `a ${typeName(obj.type)} has no field '${name}'`, 'only structs and pointers to structs have fields');
    }
    default:
      return L.fail(at, `this has no field '${name}'`, 'use a struct');
  }
}

function memberOfPlace(L: Lowerer, place: Place, type: Type, name: string, at: Span): Val {
  if ((type.kind === 'array' || type.kind === 'chars') && name === 'length') return { k: 'scalar', type: NUM_LITERAL, v: imm(type.length) };
  if (type.kind === 'ptr') {
    // A pointer stored in memory: read it, then follow it.
    const p = L.load(place, type, at);
    const d = deref(L, { type: space(type, place), v: reg(p) }, at);
    return memberOfPlace(L, d.place, d.type, name, at);
  }
  if (type.kind !== 'struct') return L.fail(at, `a ${typeName(type)} has no field '${name}'`, 'only structs have fields');
  const f = fieldOf(L, place, type, name, at);
  if (f.type.kind === 'ptr') {
    // Pointers read from kernel memory stay in that space.
    return { k: 'place', type: space(f.type, place), place: f.place };
  }
  return { k: 'place', type: f.type, place: f.place };
}

/** A pointer type read from `place` keeps its space (btf pointers yield btf pointers). */
function space(t: Type & { kind: 'ptr' }, from: Place): Type & { kind: 'ptr' } {
  if (from.space === 'btf') return { ...t, space: 'btf' };
  if (from.space === 'user') return { ...t, space: 'user' };
  if (t.space === 'btf' && from.space === 'kernel') return { ...t, space: 'kernel' };
  return t;
}

/** `a[i]` on an array or C string. */
function index(L: Lowerer, obj: Val, ie: Expression, at: Span, objAt: Span): Val {
  let place: Place;
  let type: Type;
  if (obj.k === 'nullable') {
    L.requirePresent(obj, objAt);
    place = L.refPlace(obj.ref);
    type = obj.type;
  } else if (obj.k === 'place') {
    place = obj.place;
    type = obj.type;
  } else if (obj.k === 'string') {
    return L.fail(at, 'indexing a string literal is not part of the dialect', 'compare with strEq');
  } else {
    return L.fail(at, 'only FixedArray and CharArray values can be indexed', 'index an array');
  }
  if (type.kind !== 'array' && type.kind !== 'chars') return L.fail(at, `a ${typeName(type)} cannot be indexed`, 'dynamic property access is not part of the dialect; use fields by name');
  const elem: Type = type.kind === 'chars' ? INT.u8 : type.elem;
  const es = sizeOf(elem);
  const iv = scalar(L, ie);
  if (iv.type.kind !== 'int' && iv.type.kind !== 'literal') L.fail(spanOf(ie), `an index must be an integer, not ${typeName(iv.type)}`, 'index with a u32');
  if (!isReg(iv.v)) {
    const k = Number(iv.v.imm);
    if (k < 0 || k >= type.length) L.fail(spanOf(ie), `index ${k} is out of bounds of ${typeName(type)}`, `use 0..${type.length - 1}`);
    const core = place.core ? { root: place.core.root, access: [...place.core.access, { index: k }] } : undefined;
    return { k: 'place', type: elem, place: Lowerer.offset(place, k * es, core) };
  }
  if (!Lowerer.direct(place.space) || place.space === 'btf') L.fail(at, 'kernel arrays can only be indexed with constants', 'read the element with a constant index, or copy the array with bpf.readKernel first');
  if (place.space === 'ctx') L.fail(at, 'context arrays can only be indexed with constants', 'the verifier refuses a context pointer moved by a run-time offset; copy the array into a local first (const a = ctx.cb) and index that');
  return { k: 'place', type: elem, place: { ...place, dynamic: { index: iv, length: type.length, size: es } } };
}

// ---- assignment --------------------------------------------------------------------------

/** Initialises a place of aggregate type from an object/array literal, zero() or a value. */
export function initPlace(L: Lowerer, place: Place, type: Type, e: Expression, at: Span): void {
  const u = unwrap(e);
  if (u.type === 'ObjectExpression') {
    if (type.kind !== 'struct') L.fail(at, `an object literal cannot initialise a ${typeName(type)}`, 'use a struct type');
    initObject(L, place, type, u);
    return;
  }
  if (u.type === 'ArrayExpression') {
    if (type.kind !== 'array') L.fail(at, `an array literal cannot initialise a ${typeName(type)}`, 'use a FixedArray type');
    initArray(L, place, type, u, at);
    return;
  }
  assignTo(L, place, type, e, at);
}

function initObject(L: Lowerer, place: Place, type: StructType, o: ObjectExpression): void {
  const seen = new Set<string>();
  for (const p of o.properties) {
    if (p.type !== 'Property' || p.computed || p.kind !== 'init' || p.method) L.fail(spanOf(p), 'only plain fields can initialise a struct', 'write { field: value }');
    const key = p.key.type === 'Identifier' ? p.key.name : String((p.key as { value: unknown }).value);
    if (seen.has(key)) L.fail(spanOf(p.key), `field '${key}' is set twice`, 'remove one');
    seen.add(key);
    const f = type.fields.find((x) => x.name === key);
    if (!f) L.fail(spanOf(p.key), `${type.name} has no field '${key}'`, `its fields are: ${type.fields.map((x) => x.name).join(', ')}`);
    const fp = Lowerer.offset(place, f.offset);
    const value = p.shorthand ? ({ type: 'Identifier', name: key, start: p.start, end: p.end } as Expression) : p.value;
    if (isAggregate(f.type)) initPlace(L, fp, f.type, value, spanOf(p.value));
    else storeScalar(L, fp, f.type, value, spanOf(p.value));
  }
}

function initArray(L: Lowerer, place: Place, type: Extract<Type, { kind: 'array' }>, a: ArrayExpression, at: Span): void {
  if (a.elements.length > type.length) L.fail(at, `${a.elements.length} elements do not fit ${typeName(type)}`, 'remove elements');
  const es = sizeOf(type.elem);
  a.elements.forEach((el, i) => {
    if (!el || el.type === 'SpreadElement') L.fail(at, 'holes and spreads are not part of array literals in the dialect', 'write each element');
    const ep = Lowerer.offset(place, i * es);
    if (isAggregate(type.elem)) initPlace(L, ep, type.elem, el, spanOf(el));
    else storeScalar(L, ep, type.elem, el, spanOf(el));
  });
}

/** Stores the value of `e` into a scalar place. */
export function storeScalar(L: Lowerer, place: Place, type: Type, e: Expression, at: Span): void {
  const s = scalar(L, e, type);
  const v = coerce(L, s, type.kind === 'ptr' ? type : type, at);
  L.withPlace(place, (q) => L.store(q, v, sizeOf(type), at));
}

/** `place = e` for any type (aggregates are copied). */
export function assignTo(L: Lowerer, place: Place, type: Type, e: Expression, at: Span): void {
  if (!isAggregate(type)) {
    storeScalar(L, place, type, e, at);
    return;
  }
  const u = unwrap(e);
  if (u.type === 'ObjectExpression' || u.type === 'ArrayExpression') {
    L.copyable(type, place, undefined, at);
    L.memzero(place, sizeOf(type), at);
    initPlace(L, place, type, e, at);
    return;
  }
  if (u.type === 'CallExpression' && u.callee.type === 'Identifier' && L.module.imports.get(u.callee.name)?.kind === 'function' && (L.module.imports.get(u.callee.name) as { name: string }).name === 'zero') {
    L.writable(place, at);
    L.copyable(type, place, undefined, at);
    L.memzero(place, sizeOf(type), at);
    return;
  }
  const v = lowerExpr(L, e, type);
  if (v.k === 'string') {
    if (type.kind !== 'chars') L.fail(at, `a string cannot be assigned to a ${typeName(type)}`, 'use a CharArray');
    L.writable(place, at);
    storeString(L, place, type.length, v.text, at);
    return;
  }
  let src: Place;
  let st: Type;
  if (v.k === 'place') {
    src = v.place;
    st = v.type;
  } else if (v.k === 'nullable') {
    L.requirePresent(v, at);
    src = L.refPlace(v.ref);
    st = v.type;
  } else {
    return L.fail(at, `cannot assign this to a ${typeName(type)}`, 'assign a value of the same type');
  }
  if (!sameType(st, type) && !(st.kind === 'struct' && type.kind === 'struct' && st === type)) L.fail(at, `a ${typeName(st)} is not a ${typeName(type)}`, 'assign a value of the same type');
  if (src.dynamic) L.fail(at, 'copying an element at a run-time index is not supported', 'copy fields one by one');
  L.copyable(type, place, src, at);
  L.withPlace(place, (q) => L.memcopy(q, src, sizeOf(type), at));
}

/** Writes a string literal into a C string buffer (NUL-padded). */
export function storeString(L: Lowerer, place: Place, length: number, text: string, at: Span): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) L.fail(at, `'${text}' is ${bytes.length} bytes, longer than CharArray<${length}>`, 'shorten it');
  const buf = new Uint8Array(length);
  buf.set(bytes);
  let off = 0;
  while (off < length) {
    const a = gcdAlign(place.align, off);
    const chunk = ([8, 4, 2, 1] as const).find((s) => s <= length - off && s <= a && s <= 4) ?? 1;
    let v = 0n;
    for (let i = chunk - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i]!);
    L.store(Lowerer.offset(place, off), imm(chunk === 4 ? BigInt.asIntN(32, v) : v), chunk, at);
    off += chunk;
  }
}

/** The place an assignment writes, for fields, elements and globals. */
export function targetPlace(L: Lowerer, target: SimpleAssignmentTarget | Expression, at: Span): { type: Type; place: Place } | undefined {
  const t = unwrap(target as Expression);
  if (t.type === 'Identifier') {
    const b = L.lookup(t.name);
    if (b) {
      if (b.kind === 'place') return { type: b.type, place: b.place };
      return undefined;
    }
    const g = L.module.globals.find((x) => x.name === t.name);
    if (g) return { type: g.type, place: { ...L.globalPlace(g), shared: true } };
    if (L.module.consts.has(t.name)) L.fail(at, `'${t.name}' is a constant`, "declare it with 'let' to change it");
    return undefined;
  }
  if (t.type === 'MemberExpression') {
    const v = lowerExpr(L, t);
    if (v.k !== 'place') L.fail(at, 'this cannot be assigned to', 'assign to a variable, a field or an element');
    return { type: v.type, place: v.place };
  }
  return L.fail(at, 'this cannot be assigned to', 'assign to a variable, a field or an element');
}

function assignment(L: Lowerer, e: AssignmentExpression, at: Span, discard: boolean): Val {
  const target = e.left;
  if (target.type === 'ObjectPattern' || target.type === 'ArrayPattern') L.fail(at, 'destructuring is not part of the dialect', 'assign fields one by one');
  const op = e.operator;
  const u = unwrap(target as Expression);
  // A local scalar or maybe-missing variable.
  if (u.type === 'Identifier') {
    const b = L.lookup(u.name);
    if (b && b.kind === 'value') L.fail(spanOf(u), `'${u.name}' is a const`, "declare it with 'let' to change it");
    if (b && (b.kind === 'reg' || b.kind === 'nullable')) {
      if (!b.mutable) L.fail(spanOf(u), `'${u.name}' is a const`, "declare it with 'let' to change it");
      if (b.kind === 'nullable') {
        if (op !== '=') L.fail(at, `'${op}' does not apply to a maybe-missing value`, 'check it first');
        const v = lowerExpr(L, e.right);
        if (v.k !== 'nullable' || !sameType(v.type, b.type)) L.fail(spanOf(e.right), `'${u.name}' holds a ${typeName(b.type)} | undefined; assign another lookup of the same type`, 'use a new variable');
        // Reservations are tracked per variable from its declaration; a reassignment would lose one.
        if (b.ref.source === 'reserve' || v.ref.source === 'reserve') L.fail(at, 'a variable holding a ring buffer record cannot be assigned again', 'declare a new const for each reservation');
        const lock = L.cur ? L.flow.lock : undefined;
        if (lock && lock.reg === b.ref.ptr) L.fail(at, `'${u.name}' holds the spin lock '${lock.name}' (taken on line ${L.lineOf(lock.at)}); assigning it another value would lose the lock`, `call bpf.spinUnlock(${lock.name}) first`);
        L.emit({ op: 'mov', dst: b.ref.ptr, src: reg(v.ref.ptr), w: 64 });
        if (b.ref.ok !== undefined && v.ref.ok !== undefined) L.emit({ op: 'mov', dst: b.ref.ok, src: reg(v.ref.ok), w: 64 });
        else if ((b.ref.ok === undefined) !== (v.ref.ok === undefined)) L.fail(spanOf(e.right), 'the value comes from a different kind of operation', 'use a new variable');
        // The variable now holds what it was given: as present or absent as that (unknown for a new lookup).
        L.flow = L.flow.withPresence(b.id, v.binding ? L.flow.presence.get(v.binding.id) : undefined);
        return discard ? { k: 'void' } : { k: 'nullable', type: b.type, ref: b.ref, binding: b };
      }
      let value: Value;
      if (op === '=') value = coerce(L, scalar(L, e.right, b.type), b.type, spanOf(e.right));
      else {
        const bop = op.slice(0, -1);
        if (bop === '&&' || bop === '||' || bop === '??') L.fail(at, `'${op}' is not part of the dialect`, `write if (...) ${u.name} = ...`);
        const rhs = scalar(L, e.right, b.type);
        const t = unify(L, b.type, rhs.type, bop, at);
        const rv = bop === '<<' || bop === '>>' || bop === '>>>' ? rhs.v : coerce(L, widen(rhs, t), t, spanOf(e.right));
        checkShift(L, bop, b.type, rv, spanOf(e.right));
        value = arith(L, bop, { type: b.type, v: reg(b.reg) }, { type: t, v: rv }, b.type, at).v;
      }
      L.emit({ op: 'mov', dst: b.reg, src: value, w: is64(b.type) || isReg(value) ? 64 : 32 });
      return discard ? { k: 'void' } : { k: 'scalar', type: b.type, v: reg(b.reg) };
    }
    if (b && b.kind === 'place') {
      if (op !== '=') L.fail(at, `'${op}' does not apply to a ${typeName(b.type)}`, 'use a field');
      L.fail(at, `'${u.name}' is a const`, 'assign its fields instead');
    }
  }
  const tp = targetPlace(L, target, at);
  if (!tp) return L.fail(at, 'this cannot be assigned to', 'assign to a let variable, a field or an element');
  if (tp.place.space === 'ctx' && !isAggregate(tp.type)) {
    // Refused context fields are reported at the field, before the value is computed.
    L.writable(tp.place, spanOf(target));
    if (op !== '=') L.contextAccess(tp.place, 0, sizeOf(tp.type), false, spanOf(target));
    L.contextAccess(tp.place, 0, sizeOf(tp.type), true, spanOf(target));
  }
  if (op === '=') {
    assignTo(L, tp.place, tp.type, e.right, spanOf(e.right));
    return { k: 'void' };
  }
  if (isAggregate(tp.type)) L.fail(at, `'${op}' does not apply to a ${typeName(tp.type)}`, 'apply it to a field');
  const bop = op.slice(0, -1);
  if (bop === '&&' || bop === '||' || bop === '??') L.fail(at, `'${op}' is not part of the dialect`, 'write an if statement');
  const rhs = scalar(L, e.right, tp.type);
  const t = unify(L, tp.type, rhs.type, bop, at);
  const rv = bop === '<<' || bop === '>>' || bop === '>>>' ? rhs.v : coerce(L, widen(rhs, t), t, spanOf(e.right));
  checkShift(L, bop, tp.type, rv, spanOf(e.right));
  compoundStore(L, tp.place, tp.type, bop, rv, at, discard);
  return { k: 'void' };
}

/** `place op= v`: an atomic add on shared memory (map values, globals) when nobody reads the result. */
function compoundStore(L: Lowerer, place: Place, type: Type, bop: string, v: Value, at: Span, discard: boolean): void {
  L.writable(place, at);
  const size = sizeOf(type);
  const shared = place.shared === true;
  L.withPlace(place, (q) => {
    if (discard && shared && (bop === '+' || bop === '-' || bop === '|' || bop === '&' || bop === '^') && (size === 4 || size === 8) && Lowerer.direct(q.space)) {
      let src = L.toReg(v, size === 8);
      if (bop === '-') {
        src = L.copy(reg(src), size === 8 ? 64 : 32);
        L.emit({ op: 'neg', dst: src, w: size === 8 ? 64 : 32 });
      }
      const aop = bop === '+' || bop === '-' ? 'add' : bop === '|' ? 'or' : bop === '&' ? 'and' : 'xor';
      L.emit({ op: 'atomic', aop, base: q.base, off: q.off, src, size: size as 4 | 8 });
      return;
    }
    const cur = L.load(q, type, at);
    const r = arith(L, bop, { type, v: reg(cur) }, { type, v }, type, at);
    L.store(q, r.v, size, at);
  });
}

function update(L: Lowerer, e: Expression & { type: 'UpdateExpression' }, at: Span, discard: boolean): Val {
  const one: Scalar = { type: NUM_LITERAL, v: imm(1) };
  const bop = e.operator === '++' ? '+' : '-';
  const u = unwrap(e.argument as Expression);
  if (u.type === 'Identifier') {
    const b = L.lookup(u.name);
    if (b && b.kind === 'reg') {
      if (!b.mutable) L.fail(at, `'${u.name}' is a const`, "declare it with 'let'");
      if (b.type.kind !== 'int') L.fail(at, `'${e.operator}' needs an integer, not ${typeName(b.type)}`, 'use an integer variable');
      let old: number | undefined;
      if (!discard && !e.prefix) old = L.copy(reg(b.reg), 64);
      const r = arith(L, bop, { type: b.type, v: reg(b.reg) }, { type: b.type, v: imm(1) }, b.type, at);
      L.emit({ op: 'mov', dst: b.reg, src: r.v, w: 64 });
      return discard ? { k: 'void' } : { k: 'scalar', type: b.type, v: reg(old ?? b.reg) };
    }
  }
  const tp = targetPlace(L, e.argument, at);
  if (!tp) return L.fail(at, `'${e.operator}' needs a variable, a field or an element`, 'apply it to one');
  if (tp.type.kind !== 'int') L.fail(at, `'${e.operator}' needs an integer, not ${typeName(tp.type)}`, 'apply it to an integer');
  if (!discard) L.fail(at, `the value of '${e.operator}' on a field is not part of the dialect`, 'increment it in its own statement');
  compoundStore(L, tp.place, tp.type, bop, coerce(L, one, tp.type, at), at, true);
  return { k: 'void' };
}

/** Type of a nullable binding's value, for messages. */
export function describeBinding(b: NullableBinding): string {
  return `${b.name}: ${typeName(b.type)} | undefined`;
}
