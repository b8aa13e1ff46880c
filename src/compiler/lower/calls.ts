/**
 * Calls: map methods (with the NULL checks and reference tracking the verifier wants), helper
 * functions (typed, checked against the program type), the lang functions (conversions, C
 * string operations, bounded loops, packet access) and the program's own functions (inlined
 * when small, BPF-to-BPF calls otherwise).
 */
import type { ArrowFunctionExpression, CallExpression, Expression } from 'oxc-parser';
import { FuncId } from '../../uapi/enums.js';
import type { Span } from '../diagnostics.js';
import { imm, isReg, reg, type Block, type Value } from '../ir.js';
import type { MapDecl } from '../module.js';
import { BOOL, INT, is64, isAggregate, sameType, sizeOf, typeName, type IntName, type Type } from '../types.js';
import { Lowerer } from './core.js';
import { arith, coerce, constVal, deref, lowerCond, lowerExpr, normalize, scalar, spanOf, storeString, typeOfVal, type Scalar } from './expr.js';
import { Flow, type HeldLock } from './flow.js';
import { callFunction } from './functions.js';
import { lowerLoopBody } from './stmt.js';
import type { NullableBinding, Place, Val } from './values.js';

/** Branch targets when a call is lowered as a condition. */
export interface BranchTo {
  t: Block;
  f: Block;
}

const I64 = INT.i64;

/** Lowers a call expression. */
export function lowerCall(L: Lowerer, e: CallExpression, at: Span, expected: Type | undefined, discard: boolean, branch?: BranchTo): Val {
  if (e.optional) L.fail(at, "optional calls '?.()' are not part of the dialect", 'call it directly');
  const args = e.arguments.map((a) => {
    if (a.type === 'SpreadElement') return L.fail(spanOf(a), 'spread arguments are not part of the dialect', 'pass the arguments one by one');
    return a as Expression;
  });
  const callee = e.callee;
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier') {
    const obj = lowerExpr(L, callee.object);
    const name = callee.property.name;
    if (obj.k === 'map') return mapMethod(L, obj.map, name, args, e, at, discard, branch);
    if (obj.k === 'helpers') return helper(L, name, args, e, at, expected);
    return L.fail(at, `method calls are only for maps and helpers (not '.${name}()')`, 'call a top-level function with the value as an argument');
  }
  if (callee.type === 'Identifier') {
    const v = lowerExpr(L, callee);
    if (v.k === 'callee') {
      if (v.what === 'int') return convert(L, v.name as IntName, args, at);
      if (v.what === 'local') return callFunction(L, v.name, args, at, expected);
      return langFunction(L, v.name, args, e, at, expected, branch);
    }
    if (v.k === 'scalar' || v.k === 'place') L.fail(at, `'${callee.name}' is not a function`, 'call a function');
  }
  return L.fail(at, 'only functions, map methods and helpers can be called', 'call a top-level function, a map method or a helper');
}

function argCount(L: Lowerer, args: Expression[], min: number, max: number, what: string, at: Span): void {
  if (args.length < min || args.length > max) L.fail(at, `${what} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, not ${args.length}`, `see ${what} in tsbpf/lang`);
}

// ---- memory arguments --------------------------------------------------------------------

/** The address of memory holding a value of `type` (a temporary for scalars and literals). */
export function memoryArg(L: Lowerer, e: Expression, type: Type, what: string): number {
  const at = spanOf(e);
  if (isAggregate(type)) {
    const v = lowerExpr(L, e, type);
    if (v.k === 'place' && !v.place.dynamic) {
      if (!sameType(v.type, type) && v.type !== type) L.fail(at, `${what} must be a ${typeName(type)}, not a ${typeName(v.type)}`, 'pass a value of the declared type');
      L.helperMemory(type, v.place.space, what, at);
      if (Lowerer.direct(v.place.space) && v.place.space !== 'btf') return L.address(v.place);
      const tmp = L.stackObject(type, 'copy', false);
      L.memcopy(tmp, v.place, sizeOf(type), at);
      return L.address(tmp);
    }
    if (v.k === 'nullable') {
      L.requirePresent(v, at);
      if (!sameType(v.type, type)) L.fail(at, `${what} must be a ${typeName(type)}, not a ${typeName(v.type)}`, 'pass a value of the declared type');
      L.helperMemory(type, v.ref.space, what, at);
      return v.ref.ptr;
    }
    if (v.k === 'string' && type.kind === 'chars') {
      const tmp = L.stackObject(type, 'string', false);
      storeString(L, tmp, type.length, v.text, at);
      return L.address(tmp);
    }
    return L.fail(at, `${what} must be a ${typeName(type)}`, 'pass a value of the declared type');
  }
  const s = scalar(L, e, type);
  const v = coerce(L, s, type, at);
  const tmp = L.slot(8, 8, what);
  const place: Place = { base: { slot: tmp }, off: 0, space: 'stack', align: 8 };
  L.store(place, v, sizeOf(type), at);
  return L.address(place);
}

/** A nullable binding that must be a held ring buffer record. */
function recordArg(L: Lowerer, e: Expression, m: MapDecl, op: string, at: Span): NullableBinding {
  const v = lowerExpr(L, e);
  if (v.k !== 'nullable' || v.ref.source !== 'reserve' || !v.binding) L.fail(at, `${m.name}.${op}() takes a record from ${m.name}.reserve() held in a variable`, `const e = ${m.name}.reserve(); if (!e) return 0; ...; ${m.name}.${op}(e);`);
  if (v.ref.map !== m) L.fail(at, `this record was reserved in ${v.ref.map?.name}, not ${m.name}`, `call ${v.ref.map?.name}.${op}()`);
  L.requirePresent(v, at);
  return v.binding;
}

// ---- map methods -------------------------------------------------------------------------

function mapMethod(L: Lowerer, m: MapDecl, name: string, args: Expression[], e: CallExpression, at: Span, discard: boolean, branch?: BranchTo): Val {
  const what = `${m.name}.${name}()`;
  const check = (id: number): void => L.checkHelper(id, what, at);
  const perCpu = m.type.startsWith('PERCPU') || m.type === 'LRU_PERCPU_HASH';
  const ops: Record<string, string[]> = {
    HASH: ['lookup', 'update', 'delete', 'increment'],
    ARRAY: ['lookup', 'update', 'increment'],
    LPM_TRIE: ['lookup', 'update', 'delete'],
    RINGBUF: ['reserve', 'submit', 'discard', 'output'],
    PERF_EVENT_ARRAY: ['output'],
    PROG_ARRAY: ['tailCall'],
    STACK_TRACE: ['getStackId'],
    QUEUE: ['push', 'pop', 'peek'],
    STACK: ['push', 'pop', 'peek'],
    BLOOM_FILTER: ['add', 'has'],
  };
  const kind = m.type.replace(/^(LRU_)?(PERCPU_)?/, '').replace(/^LRU_/, '');
  const allowed = ops[kind] ?? ops[m.type] ?? [];
  if (!allowed.includes(name)) L.fail(spanOf(e.callee), `${m.className} has no method '${name}'`, `its methods are: ${allowed.join(', ')}`);
  void discard;
  switch (name) {
    case 'lookup': {
      argCount(L, args, 1, 1, what, at);
      check(FuncId.map_lookup_elem);
      const key = memoryArg(L, args[0]!, m.key!, 'key');
      const mp = L.mapRef(m);
      const r = L.call(FuncId.map_lookup_elem, [reg(mp), reg(key)]);
      return { k: 'nullable', type: m.value!, ref: { ptr: r, space: 'map', source: 'lookup', map: m, shared: !perCpu } };
    }
    case 'update': {
      argCount(L, args, 2, 3, what, at);
      check(FuncId.map_update_elem);
      const key = memoryArg(L, args[0]!, m.key!, 'key');
      const value = memoryArg(L, args[1]!, m.value!, 'value');
      const flags = args[2] ? flagsArg(L, args[2]) : imm(0);
      const mp = L.mapRef(m);
      return { k: 'scalar', type: I64, v: reg(L.call(FuncId.map_update_elem, [reg(mp), reg(key), reg(value), flags])) };
    }
    case 'delete': {
      argCount(L, args, 1, 1, what, at);
      check(FuncId.map_delete_elem);
      const key = memoryArg(L, args[0]!, m.key!, 'key');
      const mp = L.mapRef(m);
      return { k: 'scalar', type: I64, v: reg(L.call(FuncId.map_delete_elem, [reg(mp), reg(key)])) };
    }
    case 'increment':
      return increment(L, m, args, at, perCpu, what);
    case 'reserve': {
      argCount(L, args, 0, 0, what, at);
      check(FuncId.ringbuf_reserve);
      const mp = L.mapRef(m);
      const r = L.call(FuncId.ringbuf_reserve, [reg(mp), imm(sizeOf(m.record!)), imm(0)]);
      return { k: 'nullable', type: m.record!, ref: { ptr: r, space: 'ringbuf', source: 'reserve', map: m } };
    }
    case 'submit':
    case 'discard': {
      argCount(L, args, 1, 2, what, at);
      const id = name === 'submit' ? FuncId.ringbuf_submit : FuncId.ringbuf_discard;
      check(id);
      const b = recordArg(L, args[0]!, m, name, at);
      const flags = args[1] ? flagsArg(L, args[1]) : imm(0);
      L.call(id, [reg(b.ref.ptr), flags]);
      L.flow = L.flow.withRef(b.id, 'released');
      return { k: 'void' };
    }
    case 'output': {
      if (m.type === 'RINGBUF') {
        argCount(L, args, 1, 2, what, at);
        check(FuncId.ringbuf_output);
        const data = memoryArg(L, args[0]!, m.record!, 'record');
        const flags = args[1] ? flagsArg(L, args[1]) : imm(0);
        const mp = L.mapRef(m);
        return { k: 'scalar', type: I64, v: reg(L.call(FuncId.ringbuf_output, [reg(mp), reg(data), imm(sizeOf(m.record!)), flags])) };
      }
      argCount(L, args, 2, 2, what, at);
      check(FuncId.perf_event_output);
      const ctx = contextArg(L, args[0]!, what);
      const data = memoryArg(L, args[1]!, m.record!, 'record');
      const mp = L.mapRef(m);
      // BPF_F_CURRENT_CPU: the low 32 bits all set, the high ones clear.
      return { k: 'scalar', type: I64, v: reg(L.call(FuncId.perf_event_output, [reg(ctx), reg(mp), imm(0xffffffffn), reg(data), imm(sizeOf(m.record!))])) };
    }
    case 'tailCall': {
      argCount(L, args, 2, 2, what, at);
      check(FuncId.tail_call);
      const ctx = contextArg(L, args[0]!, what);
      const idx = coerce(L, scalar(L, args[1]!, INT.u32), INT.u32, spanOf(args[1]!));
      const mp = L.mapRef(m);
      L.call(FuncId.tail_call, [reg(ctx), reg(mp), idx]);
      return { k: 'void' };
    }
    case 'getStackId': {
      argCount(L, args, 1, 2, what, at);
      check(FuncId.get_stackid);
      const ctx = contextArg(L, args[0]!, what);
      const flags = args[1] ? flagsArg(L, args[1]) : imm(0);
      const mp = L.mapRef(m);
      return { k: 'scalar', type: I64, v: reg(L.call(FuncId.get_stackid, [reg(ctx), reg(mp), flags])) };
    }
    case 'push':
    case 'add': {
      argCount(L, args, 1, name === 'push' ? 2 : 1, what, at);
      check(FuncId.map_push_elem);
      const value = memoryArg(L, args[0]!, m.value!, 'value');
      const flags = args[1] ? flagsArg(L, args[1]) : imm(0);
      const mp = L.mapRef(m);
      return { k: 'scalar', type: I64, v: reg(L.call(FuncId.map_push_elem, [reg(mp), reg(value), flags])) };
    }
    case 'pop':
    case 'peek': {
      argCount(L, args, 0, 0, what, at);
      const id = name === 'pop' ? FuncId.map_pop_elem : FuncId.map_peek_elem;
      check(id);
      const tmp = L.stackObject(m.value!, name, false);
      const addr = L.address(tmp);
      const mp = L.mapRef(m);
      const ok = L.call(id, [reg(mp), reg(addr)]);
      const ptr = L.address(tmp);
      return { k: 'nullable', type: m.value!, ref: { ptr, ok, space: 'stack', source: 'pop', map: m } };
    }
    case 'has': {
      argCount(L, args, 1, 1, what, at);
      check(FuncId.map_peek_elem);
      const value = memoryArg(L, args[0]!, m.value!, 'value');
      const mp = L.mapRef(m);
      const r = L.call(FuncId.map_peek_elem, [reg(mp), reg(value)]);
      if (branch) {
        const flow = L.flow;
        L.branch('jeq', reg(r), imm(0), 64, branch.t, branch.f);
        return { k: 'branched', t: flow, f: flow };
      }
      const b = L.newReg();
      L.emit({ op: 'mov', dst: b, src: imm(0), w: 32 });
      const yes = L.newBlock();
      const join = L.newBlock();
      const flow = L.flow;
      L.branch('jne', reg(r), imm(0), 64, join, yes);
      L.enter(yes, flow);
      L.emit({ op: 'mov', dst: b, src: imm(1), w: 32 });
      L.enter(join, flow);
      return { k: 'scalar', type: BOOL, v: reg(b) };
    }
    default:
      return L.fail(at, `${m.className}.${name}() is not supported`, 'see tsbpf/lang');
  }
}

/**
 * `m.increment(key, by)`: add to the value under `key`, inserting it when missing. On shared
 * maps the add is atomic and a lost race to insert (-EEXIST) retries the add.
 */
function increment(L: Lowerer, m: MapDecl, args: Expression[], at: Span, perCpu: boolean, what: string): Val {
  argCount(L, args, 1, 2, what, at);
  const vt = m.value!;
  if (vt.kind !== 'int') L.fail(at, `${what} needs integer values, not ${typeName(vt)}`, 'look the value up and change its fields');
  L.checkHelper(FuncId.map_lookup_elem, what, at);
  const by: Value = args[1] ? coerce(L, scalar(L, args[1], vt), vt, spanOf(args[1])) : imm(1);
  const key = memoryArg(L, args[0]!, m.key!, 'key');
  const size = vt.size;
  const atomic = !perCpu && (size === 4 || size === 8);
  const addTo = (ptr: number): void => {
    const place: Place = { base: { reg: ptr }, off: 0, space: 'map', align: 8 };
    if (atomic) L.emit({ op: 'atomic', aop: 'add', base: place.base, off: 0, src: L.toReg(by, size === 8), size: size as 4 | 8 });
    else {
      const cur = L.load(place, vt, at);
      const r = arith(L, '+', { type: vt, v: reg(cur) }, { type: vt, v: by }, vt, at);
      L.store(place, r.v, size, at);
    }
  };
  const flow = L.flow;
  const add = L.newBlock();
  const missing = L.newBlock();
  const done = L.newBlock();
  // One pointer register for both lookups, so both paths share the add.
  const ptr = L.newReg();
  L.emit({ op: 'mov', dst: ptr, src: reg(L.call(FuncId.map_lookup_elem, [reg(L.mapRef(m)), reg(key)])), w: 64 });
  L.branch('jeq', reg(ptr), imm(0), 64, missing, add);
  L.enter(missing, flow);
  if (m.type === 'ARRAY' || m.type === 'PERCPU_ARRAY') {
    // Array slots always exist; a missing one is an index out of range.
    L.jump(done);
  } else {
    L.checkHelper(FuncId.map_update_elem, what, at);
    const init = L.slot(8, 8, 'initial value');
    const initPlace: Place = { base: { slot: init }, off: 0, space: 'stack', align: 8 };
    L.store(initPlace, by, size, at);
    const r = L.call(FuncId.map_update_elem, [reg(L.mapRef(m)), reg(key), reg(L.address(initPlace)), imm(1 /* BPF_NOEXIST */)]);
    if (atomic) {
      // Another CPU inserted the key first (-EEXIST): add to its value.
      const raced = L.newBlock();
      L.branch('jne', reg(r), imm(-17), 64, done, raced);
      L.enter(raced, flow);
      L.emit({ op: 'mov', dst: ptr, src: reg(L.call(FuncId.map_lookup_elem, [reg(L.mapRef(m)), reg(key)])), w: 64 });
      L.branch('jeq', reg(ptr), imm(0), 64, done, add);
    } else L.jump(done);
  }
  L.enter(add, flow);
  addTo(ptr);
  L.enter(done, flow);
  return { k: 'void' };
}

/**
 * A flags argument (the helpers take `u64 flags`): a non-negative literal, number or bigint
 * (`UpdateFlags.NOEXIST`, `2`, `4n`), or an unsigned integer of any width, zero-extended as C
 * converts it. Signed values are refused: C would sign-extend a negative one into 64 set bits.
 */
function flagsArg(L: Lowerer, e: Expression): Value {
  const s = scalar(L, e, INT.u64);
  const at = spanOf(e);
  if (s.type.kind === 'literal') {
    if (!isReg(s.v) && s.v.imm < 0n) L.fail(at, 'flags cannot be negative', 'pass the flag constants');
    return s.v;
  }
  // Unsigned values are zero-extended in their registers already.
  if (s.type.kind === 'int' && !s.type.signed) return s.v;
  if (s.type.kind === 'int') L.fail(at, `flags are unsigned, not ${s.type.name}`, `convert it: u${s.type.size * 8}(x)`);
  return coerce(L, s, INT.u64, at);
}

/** The program's context, as helpers that take `ctx` need it. */
function contextArg(L: Lowerer, e: Expression, what: string): number {
  const v = lowerExpr(L, e);
  const ok = v.k === 'scalar' && isReg(v.v) && L.ctxReg !== undefined && v.v.reg === L.ctxReg;
  if (!ok) L.fail(spanOf(e), `${what} takes the program's context (its first parameter) as the first argument`, 'pass ctx, the parameter of the program body');
  return L.ctxReg!;
}

// ---- conversions -------------------------------------------------------------------------

/** `u32(x)` etc.: explicit conversions, wrapping like C casts. */
function convert(L: Lowerer, name: IntName, args: Expression[], at: Span): Val {
  argCount(L, args, 1, 1, `${name}()`, at);
  const target = INT[name];
  const v = lowerExpr(L, args[0]!, target);
  if (v.k === 'string') L.fail(at, `${name}() cannot convert a string`, 'use byteAt for characters');
  const s = L.scalarOf(v, spanOf(args[0]!));
  const t = s.type;
  const bits = BigInt(target.size * 8);
  if (!isReg(s.v)) {
    const x = s.v.imm;
    return { k: 'scalar', type: target, v: imm(target.signed ? BigInt.asIntN(Number(bits), x) : BigInt.asUintN(Number(bits), x)) };
  }
  const src = s.v.reg;
  const from64 = is64(t);
  const to64 = target.size === 8;
  // 64 -> 64 bits (i64 <-> u64, pointers) reinterprets the register; narrower unsigned values
  // and bools are already zero-extended in it.
  if (to64 && (from64 || t.kind === 'bool' || (t.kind === 'int' && !t.signed))) return { k: 'scalar', type: target, v: reg(src) };
  if (to64) {
    // Signed 8..32-bit to 64: sign-extend.
    const r = L.newReg();
    L.emit({ op: 'mov', dst: r, src: reg(src), w: 64 });
    L.emit({ op: 'alu', alu: 'lsh', dst: r, b: imm(32), w: 64 });
    L.emit({ op: 'alu', alu: 'arsh', dst: r, b: imm(32), w: 64 });
    return { k: 'scalar', type: target, v: reg(r) };
  }
  let r = src;
  if (from64) {
    r = L.newReg();
    L.emit({ op: 'zext', dst: r, src });
  } else if (t.kind === 'int' && t.size <= target.size && (t.signed === target.signed || (!t.signed && t.size < target.size))) {
    return { k: 'scalar', type: target, v: reg(src) };
  } else if (t.kind === 'bool') {
    return { k: 'scalar', type: target, v: reg(src) };
  }
  if (target.size < 4 || (from64 === false && t.kind === 'int' && t.size < 4 && target.size === 4 && t.signed && !target.signed)) {
    if (r === src) r = L.copy(reg(src), 32);
    if (target.size < 4) normalize(L, r, target);
  }
  return { k: 'scalar', type: target, v: reg(r) };
}

// ---- lang functions ----------------------------------------------------------------------

function langFunction(L: Lowerer, name: string, args: Expression[], e: CallExpression, at: Span, expected: Type | undefined, branch?: BranchTo): Val {
  switch (name) {
    case 'zero': {
      argCount(L, args, 0, 0, 'zero()', at);
      const t = e.typeArguments?.params[0] ? L.module.resolveType(e.typeArguments.params[0]) : expected;
      if (!t) return L.fail(at, 'zero() needs to know its type here', 'annotate the variable (const k: Key = zero()) or write zero<Key>()');
      if (isAggregate(t)) return { k: 'place', type: t, place: L.stackObject(t, 'zero') };
      return { k: 'scalar', type: t, v: imm(0) };
    }
    case 'strEq':
      return strEq(L, args, at, branch);
    case 'strCopy': {
      argCount(L, args, 2, 2, 'strCopy()', at);
      const dst = lowerExpr(L, args[0]!);
      const dp = dst.k === 'place' ? dst.place : dst.k === 'nullable' ? (L.requirePresent(dst, at), L.refPlace(dst.ref)) : undefined;
      const dt = typeOfVal(dst);
      if (!dp || dp.dynamic || dt?.kind !== 'chars') return L.fail(spanOf(args[0]!), 'strCopy() copies into a CharArray', 'pass a CharArray field or variable');
      L.writable(dp, at);
      const src = lowerExpr(L, args[1]!);
      if (src.k === 'string') {
        // Truncated to leave room for the NUL, padded with NULs.
        const bytes = new TextEncoder().encode(src.text).subarray(0, dt.length - 1);
        storeString(L, dp, dt.length, new TextDecoder().decode(bytes), at);
        return { k: 'void' };
      }
      const st = typeOfVal(src);
      const sp = src.k === 'place' ? src.place : src.k === 'nullable' ? (L.requirePresent(src, at), L.refPlace(src.ref)) : undefined;
      if (!sp || sp.dynamic || st?.kind !== 'chars') return L.fail(spanOf(args[1]!), 'strCopy() copies a CharArray or a string literal', 'pass a CharArray or a string literal');
      const n = Math.min(dt.length, st.length);
      L.memcopy(dp, sp, n, at);
      if (n < dt.length) L.memzero(Lowerer.offset(dp, n), dt.length - n, at);
      L.store(Lowerer.offset(dp, dt.length - 1), imm(0), 1, at);
      return { k: 'void' };
    }
    case 'byteAt': {
      argCount(L, args, 2, 2, 'byteAt()', at);
      const s = lowerExpr(L, { type: 'MemberExpression', object: args[0]!, property: args[1]!, computed: true, optional: false, start: args[0]!.start, end: args[1]!.end } as Expression);
      return { k: 'scalar', type: INT.u8, v: reg(L.load((s as { place: Place }).place, INT.u8, at)) };
    }
    case 'setByte': {
      argCount(L, args, 3, 3, 'setByte()', at);
      const s = lowerExpr(L, { type: 'MemberExpression', object: args[0]!, property: args[1]!, computed: true, optional: false, start: args[0]!.start, end: args[1]!.end } as Expression);
      const v = coerce(L, scalar(L, args[2]!, INT.u8), INT.u8, spanOf(args[2]!));
      L.store((s as { place: Place }).place, v, 1, at);
      return { k: 'void' };
    }
    case 'boundedLoop':
      return boundedLoop(L, args, at);
    case 'be16':
    case 'be32':
    case 'be64': {
      argCount(L, args, 1, 1, `${name}()`, at);
      const bits = Number(name.slice(2)) as 16 | 32 | 64;
      const t = bits === 64 ? INT.u64 : INT.u32;
      const s = scalar(L, args[0]!, t);
      if (s.type.kind !== 'int' && s.type.kind !== 'literal') L.fail(at, `${name}() takes an integer`, 'pass an integer');
      if (!isReg(s.v)) {
        let v = BigInt.asUintN(bits, s.v.imm);
        let r = 0n;
        for (let i = 0; i < bits / 8; i++) {
          r = (r << 8n) | (v & 0xffn);
          v >>= 8n;
        }
        return { k: 'scalar', type: t, v: imm(r) };
      }
      const r = L.copy(s.v, bits === 64 ? 64 : 32);
      L.emit({ op: 'endian', dst: r, kind: 'be', bits });
      return { k: 'scalar', type: t, v: reg(r) };
    }
    case 'packetAt':
      return packetAt(L, args, e, at);
    case 'packetLength': {
      argCount(L, args, 1, 1, 'packetLength()', at);
      const { data, end } = packetBounds(L, args[0]!, 'packetLength()', at);
      const r = L.copy(reg(end), 64);
      L.emit({ op: 'alu', alu: 'sub', dst: r, b: reg(data), w: 64 });
      const out = L.newReg();
      L.emit({ op: 'zext', dst: out, src: r });
      return { k: 'scalar', type: INT.u32, v: reg(out) };
    }
    case 'license':
    case 'constant':
      return L.fail(at, `${name}() belongs at the top level`, 'move it out of the function');
    default:
      return L.fail(at, `'${name}' cannot be called here`, 'programs are declared at the top level');
  }
}

/** ctx.data and ctx.data_end loaded as packet pointers. */
function packetBounds(L: Lowerer, ctxExpr: Expression, what: string, at: Span): { data: number; end: number } {
  const pk = L.program.packet;
  if (!pk) L.fail(at, `${what} needs a program with packet access (xdp, tc, cgroupSkb)`, `${L.program.declarator} programs have no packet; use helpers to read data`);
  const ctx = contextArg(L, ctxExpr, what);
  const data = L.newReg();
  const end = L.newReg();
  L.emit({ op: 'ld', dst: data, base: { reg: ctx }, off: pk.data, size: 4 });
  L.emit({ op: 'ld', dst: end, base: { reg: ctx }, off: pk.end, size: 4 });
  return { data, end };
}

/** The largest packet offset the verifier tracks (MAX_PACKET_OFF in kernel/bpf/verifier.c). */
const MAX_PACKET_OFF = 0xffff;

/** `packetAt<T>(ctx, offset)`: a T in the packet, or undefined when the packet is too short. */
function packetAt(L: Lowerer, args: Expression[], e: CallExpression, at: Span): Val {
  argCount(L, args, 2, 2, 'packetAt()', at);
  const targ = e.typeArguments?.params[0];
  if (!targ) L.fail(at, 'packetAt() needs the type to read', 'write packetAt<EthHdr>(ctx, 0)');
  const t = L.module.resolveType(targ);
  const { data, end } = packetBounds(L, args[0]!, 'packetAt()', at);
  const off = coerce(L, scalar(L, args[1]!, INT.u32), INT.u32, spanOf(args[1]!));
  const size = sizeOf(t);
  if (size > MAX_PACKET_OFF) L.fail(at, `a ${typeName(t)} (${size} bytes) is larger than any packet the verifier allows (64 KiB)`, 'read a smaller header type');
  if (!isReg(off) && off.imm + BigInt(size) > BigInt(MAX_PACKET_OFF)) L.fail(spanOf(args[1]!), `offset ${off.imm} plus the ${size} bytes read passes the verifier's packet limit of ${MAX_PACKET_OFF}`, 'read at an offset under 64 KiB');
  // ok = 0 when in bounds; the verifier learns the range from the comparison itself.
  const ok = L.newReg();
  L.emit({ op: 'mov', dst: ok, src: imm(1), w: 64 });
  const ptr = L.copy(reg(data), 64);
  const inside = L.newBlock();
  const join = L.newBlock();
  const flow = L.flow;
  if (!isReg(off)) {
    if (off.imm !== 0n) L.emit({ op: 'alu', alu: 'add', dst: ptr, b: off, w: 64 });
  } else {
    // The verifier gives a packet pointer no range unless its offset plus the size read is
    // provably at most MAX_PACKET_OFF (find_good_pkt_pointers), so a run-time offset is
    // bounded first: past the limit, the packet is as too short as it can be.
    const o = L.newReg();
    L.emit({ op: 'zext', dst: o, src: off.reg });
    const bounded = L.newBlock();
    L.branch('jgt', reg(o), imm(MAX_PACKET_OFF - size), 64, join, bounded);
    L.enter(bounded, flow);
    L.emit({ op: 'alu', alu: 'add', dst: ptr, b: reg(o), w: 64 });
  }
  const last = L.copy(reg(ptr), 64);
  L.emit({ op: 'alu', alu: 'add', dst: last, b: imm(size), w: 64 });
  L.branch('jgt', reg(last), reg(end), 64, join, inside);
  L.enter(inside, flow);
  L.emit({ op: 'mov', dst: ok, src: imm(0), w: 64 });
  L.enter(join, flow);
  return { k: 'nullable', type: t, ref: { ptr, ok, space: 'packet', source: 'packet' } };
}

/** strEq(a, b): C string equality, inline. */
function strEq(L: Lowerer, args: Expression[], at: Span, branch?: BranchTo): Val {
  argCount(L, args, 2, 2, 'strEq()', at);
  const operand = (e: Expression): { place: Place; length: number } | { text: Uint8Array } => {
    const v = lowerExpr(L, e);
    if (v.k === 'string') return { text: new TextEncoder().encode(v.text) };
    const t = typeOfVal(v);
    let place: Place | undefined;
    if (v.k === 'place') place = v.place;
    else if (v.k === 'nullable') {
      L.requirePresent(v, spanOf(e));
      place = L.refPlace(v.ref);
    }
    if (!place || t?.kind !== 'chars') return L.fail(spanOf(e), 'strEq() compares CharArray values or string literals', 'pass a CharArray (e.g. a Comm) or a string literal');
    if (!Lowerer.direct(place.space) || place.space === 'btf' || place.dynamic) {
      const tmp = L.stackObject(t, 'string copy', false);
      L.memcopy(tmp, place, t.length, spanOf(e));
      place = tmp;
    }
    return { place, length: t.length };
  };
  const a = operand(args[0]!);
  const b = operand(args[1]!);
  const len = (x: typeof a): number => ('text' in x ? x.text.length : x.length);
  if (Math.min(len(a), len(b)) > 256) L.fail(at, 'strEq compares at most 256 bytes inline', 'compare a shorter prefix, or loop over the bytes with boundedLoop');
  const t = branch?.t ?? L.newBlock();
  const f = branch?.f ?? L.newBlock();
  const flow = L.flow;
  const byte = (p: Place, i: number): number => L.load(Lowerer.offset(p, i), INT.u8, at);
  if ('text' in a && 'text' in b) {
    L.jump(new TextDecoder().decode(a.text) === new TextDecoder().decode(b.text) ? t : f);
  } else if ('text' in a || 'text' in b) {
    const lit = ('text' in a ? a : b) as { text: Uint8Array };
    const buf = ('text' in a ? b : a) as { place: Place; length: number };
    if (lit.text.length >= buf.length + 1 && lit.text.length > buf.length) L.jump(f);
    else {
      const n = Math.min(lit.text.length, buf.length);
      // Compare 4 bytes at a time where the buffer is aligned for it.
      let i = 0;
      while (i < n) {
        const aligned = (buf.place.align >= 4 && (buf.place.off + i) % 4 === 0) || buf.place.space === 'map' || buf.place.space === 'ringbuf' ? gcd4(buf.place, i) : 1;
        if (aligned === 4 && n - i >= 4) {
          const word = L.load(Lowerer.offset(buf.place, i), INT.u32, at);
          const v = lit.text[i]! | (lit.text[i + 1]! << 8) | (lit.text[i + 2]! << 16) | (lit.text[i + 3]! << 24);
          const nb = L.newBlock();
          L.branch('jne', reg(word), imm(v | 0), 32, f, nb);
          L.enter(nb, flow);
          i += 4;
          continue;
        }
        const c = byte(buf.place, i);
        const nb = L.newBlock();
        L.branch('jne', reg(c), imm(lit.text[i]!), 32, f, nb);
        L.enter(nb, flow);
        i++;
      }
      if (n < buf.length) {
        const c = byte(buf.place, n);
        L.branch('jne', reg(c), imm(0), 32, f, t);
      } else L.jump(t);
    }
  } else {
    const pa = a as { place: Place; length: number };
    const pb = b as { place: Place; length: number };
    const n = Math.min(pa.length, pb.length);
    for (let i = 0; i < n; i++) {
      const ca = byte(pa.place, i);
      const cb = byte(pb.place, i);
      const same = L.newBlock();
      L.branch('jne', reg(ca), reg(cb), 32, f, same);
      L.enter(same, flow);
      if (i < n - 1) {
        const more = L.newBlock();
        L.branch('jeq', reg(ca), imm(0), 32, t, more);
        L.enter(more, flow);
      }
    }
    if (pa.length === pb.length) L.jump(t);
    else {
      const longer = pa.length > pb.length ? pa : pb;
      const c = byte(longer.place, n);
      L.branch('jne', reg(c), imm(0), 32, f, t);
    }
  }
  if (branch) return { k: 'branched', t: flow, f: flow };
  const r = L.newReg();
  const join = L.newBlock();
  L.enter(t, flow);
  L.emit({ op: 'mov', dst: r, src: imm(1), w: 32 });
  L.jump(join);
  L.enter(f, flow);
  L.emit({ op: 'mov', dst: r, src: imm(0), w: 32 });
  L.enter(join, flow);
  return { k: 'scalar', type: BOOL, v: reg(r) };
}

function gcd4(p: Place, i: number): number {
  return (p.align >= 4 || p.space === 'map' || p.space === 'ringbuf') && (p.off + i) % 4 === 0 ? 4 : 1;
}

/** boundedLoop(max, (i) => { ... }): an inline counted loop; `return true` breaks. */
function boundedLoop(L: Lowerer, args: Expression[], at: Span): Val {
  argCount(L, args, 2, 2, 'boundedLoop()', at);
  const max = L.module.constEval(args[0]!);
  if (!max || max.kind !== 'int' || max.value < 0n || max.value > 1_000_000n) L.fail(spanOf(args[0]!), 'boundedLoop() needs a constant iteration count (0 to 1000000)', 'write boundedLoop(16, (i) => { ... })');
  const fn = args[1]!;
  if (fn.type !== 'ArrowFunctionExpression') L.fail(spanOf(fn), 'boundedLoop() takes an arrow function as its body', 'write boundedLoop(16, (i) => { ... })');
  lowerLoopBody(L, fn as ArrowFunctionExpression, Number(max.value), at);
  return { k: 'void' };
}

// ---- helpers -----------------------------------------------------------------------------

function helper(L: Lowerer, name: string, args: Expression[], e: CallExpression, at: Span, _expected: Type | undefined): Val {
  const what = `bpf.${name}()`;
  const call = (id: number, vals: Value[]): number => {
    L.checkHelper(id, what, at);
    return L.call(id, vals);
  };
  const u32 = (r: number): Val => {
    const out = L.newReg();
    L.emit({ op: 'zext', dst: out, src: r });
    return { k: 'scalar', type: INT.u32, v: reg(out) };
  };
  const u64 = (r: number): Val => ({ k: 'scalar', type: INT.u64, v: reg(r) });
  const i64 = (r: number): Val => ({ k: 'scalar', type: I64, v: reg(r) });
  const high = (r: number): Val => {
    const out = L.copy(reg(r), 64);
    L.emit({ op: 'alu', alu: 'rsh', dst: out, b: imm(32), w: 64 });
    return { k: 'scalar', type: INT.u32, v: reg(out) };
  };
  const none = (n: number): void => argCount(L, args, n, n, what, at);
  switch (name) {
    case 'pid':
      none(0);
      return high(call(FuncId.get_current_pid_tgid, []));
    case 'tid':
      none(0);
      return u32(call(FuncId.get_current_pid_tgid, []));
    case 'pidTgid':
      none(0);
      return u64(call(FuncId.get_current_pid_tgid, []));
    case 'uid':
      none(0);
      return u32(call(FuncId.get_current_uid_gid, []));
    case 'gid':
      none(0);
      return high(call(FuncId.get_current_uid_gid, []));
    case 'uidGid':
      none(0);
      return u64(call(FuncId.get_current_uid_gid, []));
    case 'comm': {
      none(0);
      const t: Type = { kind: 'chars', length: 16 };
      // zeroed: some kernels (6.1 among them) copy the comm without padding, leaving the bytes
      // after the NUL as the stack held them, and a comm used as a map key must equal itself
      const place = L.stackObject(t, 'comm');
      call(FuncId.get_current_comm, [reg(L.address(place)), imm(16)]);
      return { k: 'place', type: t, place };
    }
    case 'getCurrentComm': {
      none(1);
      const buf = charsArg(L, args[0]!, what);
      return i64(call(FuncId.get_current_comm, [reg(L.address(buf.place)), imm(buf.length)]));
    }
    case 'ktimeNs':
      none(0);
      return u64(call(FuncId.ktime_get_ns, []));
    case 'bootNs':
      none(0);
      return u64(call(FuncId.ktime_get_boot_ns, []));
    case 'coarseNs':
      none(0);
      return u64(call(FuncId.ktime_get_coarse_ns, []));
    case 'jiffies':
      none(0);
      return u64(call(FuncId.jiffies64, []));
    case 'smpProcessorId':
      none(0);
      return u32(call(FuncId.get_smp_processor_id, []));
    case 'numaNodeId':
      none(0);
      return u32(call(FuncId.get_numa_node_id, []));
    case 'prandom':
      none(0);
      return u32(call(FuncId.get_prandom_u32, []));
    case 'cgroupId':
      none(0);
      return u64(call(FuncId.get_current_cgroup_id, []));
    case 'getCurrentTask':
    case 'getCurrentTaskBtf': {
      none(0);
      const task = L.module.kernel.structByName('task_struct', at);
      if (!task) L.fail(at, "the kernel's BTF has no task_struct", 'compile against a kernel BTF');
      const btf = name === 'getCurrentTaskBtf';
      const r = call(btf ? FuncId.get_current_task_btf : FuncId.get_current_task, []);
      return { k: 'scalar', type: { kind: 'ptr', pointee: task, space: btf ? 'btf' : 'kernel' }, v: reg(r) };
    }
    case 'printk':
      return printk(L, args, at, what);
    case 'probeReadKernel':
    case 'probeReadUser': {
      none(2);
      const dst = lowerExpr(L, args[0]!);
      const dp = writablePlace(L, dst, args[0]!, what);
      const src = addressArg(L, args[1]!, what);
      const id = name === 'probeReadUser' ? FuncId.probe_read_user : FuncId.probe_read_kernel;
      return i64(call(id, [reg(L.address(dp.place)), imm(sizeOf(dp.type)), src]));
    }
    case 'probeReadKernelStr':
    case 'probeReadUserStr': {
      none(2);
      const buf = charsArg(L, args[0]!, what);
      const src = addressArg(L, args[1]!, what);
      const id = name === 'probeReadUserStr' ? FuncId.probe_read_user_str : FuncId.probe_read_kernel_str;
      return i64(call(id, [reg(L.address(buf.place)), imm(buf.length), src]));
    }
    case 'readKernel':
    case 'readUser': {
      none(1);
      const p = scalar(L, args[0]!);
      if (p.type.kind !== 'ptr' || p.type.pointee.kind === 'void') L.fail(spanOf(args[0]!), `${what} takes a Ptr<T> with a known T`, 'pass a typed pointer, e.g. Ptr<u64>');
      const t = p.type.pointee;
      const place = L.stackObject(t, name, false);
      const id = name === 'readUser' ? FuncId.probe_read_user : FuncId.probe_read_kernel;
      call(id, [reg(L.address(place)), imm(sizeOf(t)), reg(L.toReg(p.v))]);
      if (isAggregate(t)) return { k: 'place', type: t, place };
      return { k: 'scalar', type: t, v: reg(L.load(place, t, at)) };
    }
    case 'sendSignal': {
      none(1);
      const sig = coerce(L, scalar(L, args[0]!, INT.u32), INT.u32, spanOf(args[0]!));
      return i64(call(FuncId.send_signal, [sig]));
    }
    case 'spinLock':
    case 'spinUnlock': {
      none(1);
      const v = lowerExpr(L, args[0]!);
      const arg = spanOf(args[0]!);
      if (v.k !== 'place' || v.type.kind !== 'opaque' || v.place.space !== 'map' || v.place.dynamic) L.fail(arg, `${what} takes a SpinLock field of a map value`, 'declare lock: SpinLock in the value struct and pass v.lock');
      const base = v.place.base;
      const lock: HeldLock = {
        key: `${'reg' in base ? `r${base.reg}` : `s${base.slot.id}`}+${v.place.off}`,
        reg: 'reg' in base ? base.reg : undefined,
        name: L.module.sink.source.text.slice(arg.start, arg.end),
        at: at.start,
      };
      // The verifier's rules, checked before the call: one lock at a time, unlock what is held.
      if (name === 'spinLock') L.takeLock(lock, at);
      else L.releaseLock(lock, at);
      call(name === 'spinLock' ? FuncId.spin_lock : FuncId.spin_unlock, [reg(L.address(v.place))]);
      return { k: 'void' };
    }
    case 'skbLoadBytes': {
      none(3);
      const ctx = contextArg(L, args[0]!, what);
      const off = coerce(L, scalar(L, args[1]!, INT.u32), INT.u32, spanOf(args[1]!));
      const dst = writablePlace(L, lowerExpr(L, args[2]!), args[2]!, what);
      return i64(call(FuncId.skb_load_bytes, [reg(ctx), off, reg(L.address(dst.place)), imm(sizeOf(dst.type))]));
    }
    case 'redirect': {
      argCount(L, args, 1, 2, what, at);
      const ifindex = coerce(L, scalar(L, args[0]!, INT.u32), INT.u32, spanOf(args[0]!));
      const flags = args[1] ? flagsArg(L, args[1]) : imm(0);
      return i64(call(FuncId.redirect, [ifindex, flags]));
    }
    case 'attachCookie': {
      none(1);
      const ctx = contextArg(L, args[0]!, what);
      return u64(call(FuncId.get_attach_cookie, [reg(ctx)]));
    }
    default:
      void e;
      return L.fail(spanOf(e.callee), `tsbpf/lang has no helper '${name}'`, 'see the Helpers interface in tsbpf/lang for the helpers');
  }
}

function writablePlace(L: Lowerer, v: Val, e: Expression, what: string): { place: Place; type: Type } {
  if (v.k === 'nullable') {
    L.requirePresent(v, spanOf(e));
    return { place: L.refPlace(v.ref), type: v.type };
  }
  if (v.k !== 'place' || v.place.dynamic) return L.fail(spanOf(e), `${what} writes into a variable, a field or a map value`, 'pass a struct, array or CharArray (declare one with zero())');
  L.writable(v.place, spanOf(e));
  return { place: v.place, type: v.type };
}

function charsArg(L: Lowerer, e: Expression, what: string): { place: Place; length: number } {
  const v = lowerExpr(L, e);
  const p = writablePlace(L, v, e, what);
  if (p.type.kind !== 'chars') L.fail(spanOf(e), `${what} fills a CharArray, not a ${typeName(p.type)}`, 'pass a CharArray field (e.g. a Comm)');
  return { place: p.place, length: p.type.length };
}

/** An address argument: a pointer, or a u64. */
function addressArg(L: Lowerer, e: Expression, what: string): Value {
  const s: Scalar = scalar(L, e, INT.u64);
  if (s.type.kind === 'ptr' || (s.type.kind === 'int' && s.type.name === 'u64') || s.type.kind === 'literal') return s.v;
  return L.fail(spanOf(e), `${what} reads from an address: a Ptr<T> or a u64, not a ${typeName(s.type)}`, 'pass a pointer');
}

/** printk: bpf_trace_printk(fmt, sizeof(fmt), a1, a2, a3) with the format checked. */
function printk(L: Lowerer, args: Expression[], at: Span, what: string): Val {
  if (args.length < 1) L.fail(at, 'printk() needs a format string', "write bpf.printk('pid %d\\n', pid)");
  const f = lowerExpr(L, args[0]!);
  if (f.k !== 'string') L.fail(spanOf(args[0]!), 'the printk format must be a string literal', "write bpf.printk('value %d\\n', x)");
  const specs = parseFormat(L, f.text, spanOf(args[0]!));
  const rest = args.slice(1);
  if (rest.length > 3) L.fail(spanOf(rest[3]!), 'bpf_trace_printk takes at most 3 arguments', 'split it into several printk calls, or use a ring buffer');
  if (rest.length !== specs.length) L.fail(at, `the format has ${specs.length} conversion${specs.length === 1 ? '' : 's'} but ${rest.length} argument${rest.length === 1 ? ' is' : 's are'} given`, 'give one argument per % conversion');
  const vals: Value[] = [];
  rest.forEach((a, i) => {
    const spec = specs[i]!;
    const as = spanOf(a);
    if (spec === 's') {
      const v = lowerExpr(L, a);
      if (v.k === 'string') {
        const g = L.unit.rodataString(v.text);
        vals.push(reg(L.address(L.globalPlace(g))));
        return;
      }
      const t = typeOfVal(v);
      let place: Place | undefined = v.k === 'place' ? v.place : v.k === 'nullable' ? (L.requirePresent(v, as), L.refPlace(v.ref)) : undefined;
      if (!place || t?.kind !== 'chars') return L.fail(as, '%s takes a CharArray or a string literal', 'pass a CharArray (e.g. a Comm)');
      if (!Lowerer.direct(place.space) || place.space === 'btf') {
        const tmp = L.stackObject(t, 'string copy', false);
        L.memcopy(tmp, place, t.length, as);
        place = tmp;
      }
      vals.push(reg(L.address(place)));
      return;
    }
    const s = scalar(L, a);
    const t = s.type;
    if (spec === 'p') {
      if (t.kind !== 'ptr' && !(t.kind === 'int' && t.size === 8)) L.fail(as, `%p takes a pointer or a u64, not ${typeName(t)}`, 'pass a pointer');
      vals.push(s.v);
      return;
    }
    const wide = spec === '64';
    if (t.kind === 'bool') {
      vals.push(s.v);
      return;
    }
    if (t.kind === 'literal') {
      vals.push(s.v);
      return;
    }
    if (t.kind !== 'int') return L.fail(as, `this conversion takes an integer, not ${typeName(t)}`, 'pass an integer');
    if (wide !== (t.size === 8)) L.fail(as, `${wide ? '%ld/%lld/%lu/%lx take' : '%d/%u/%x/%c take'} a ${wide ? '64' : '32'}-bit value, and this is a ${t.name}`, wide ? 'use %d/%u/%x for 32-bit values' : 'use %lld/%llu/%llx for 64-bit values');
    if (t.signed && t.size < 4) {
      // already sign-extended in 32 bits
    }
    vals.push(s.v);
  });
  const g = L.unit.rodataString(f.text);
  const fmt = L.globalPlace(g);
  const bytes = new TextEncoder().encode(f.text).length + 1;
  L.checkHelper(FuncId.trace_printk, what, at);
  return { k: 'scalar', type: I64, v: reg(L.call(FuncId.trace_printk, [reg(L.address(fmt)), imm(bytes), ...vals])) };
}

/** The conversions of a printk format: '32', '64', 'p' or 's' each; rejects what the kernel rejects. */
export function parseFormat(L: Lowerer, fmt: string, at: Span): Array<'32' | '64' | 'p' | 's'> {
  const out: Array<'32' | '64' | 'p' | 's'> = [];
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%') continue;
    i++;
    if (fmt[i] === '%') continue;
    while ('0+- '.includes(fmt[i] ?? 'x')) i++;
    while (/[0-9]/.test(fmt[i] ?? '')) i++;
    let longs = 0;
    while (fmt[i] === 'l') {
      longs++;
      i++;
    }
    const c = fmt[i];
    if (c === 'p') {
      if (longs) L.fail(at, `'%l${c}' is not a conversion printk knows`, 'use %p');
      if (fmt[i + 1] && /[KxsSBiI]/.test(fmt[i + 1]!)) i++;
      out.push('p');
    } else if (c === 's') {
      if (longs) L.fail(at, "'%ls' is not a conversion printk knows", 'use %s');
      out.push('s');
    } else if (c && 'diuxXc'.includes(c)) {
      if (longs > 2) L.fail(at, 'too many l modifiers', 'use %lld');
      out.push(longs > 0 ? '64' : '32');
    } else L.fail(at, `'%${'l'.repeat(longs)}${c ?? ''}' is not a conversion bpf_trace_printk supports`, 'use %d %i %u %x %X %c %ld %lu %lx %lld %llu %llx %p %s or %%');
  }
  if (out.length > 3) L.fail(at, `the format has ${out.length} conversions; bpf_trace_printk takes at most 3`, 'split it into several printk calls');
  return out;
}

export { Flow, lowerCond, constVal, deref };
