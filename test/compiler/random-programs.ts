/**
 * Random integer programs for differential tests: expressions, ifs, counted loops and
 * switches over u32/i32/u64 variables, rendered as a raw tracepoint program body and evaluated
 * in JavaScript with C's wrapping (what the VM and the kernel must compute too).
 */
import fc from 'fast-check';


type Ty = 'u32' | 'i32' | 'u64';
type Expr =
  | { k: 'var'; name: string; ty: Ty }
  | { k: 'lit'; v: bigint; ty: Ty }
  | { k: 'bin'; op: string; a: Expr; b: Expr; ty: Ty }
  | { k: 'cmp'; op: string; a: Expr; b: Expr }
  | { k: 'ite'; c: Expr; a: Expr; b: Expr; ty: Ty }
  | { k: 'conv'; to: Ty; a: Expr };
type Stmt =
  | { k: 'assign'; name: string; e: Expr }
  | { k: 'if'; c: Expr; then: Stmt[]; else: Stmt[] }
  | { k: 'for'; n: number; body: Stmt[] }
  | { k: 'switch'; on: Expr; cases: Array<{ v: bigint; body: Stmt[] }> };

const VARS: Array<{ name: string; ty: Ty }> = [
  { name: 'a', ty: 'u32' }, { name: 'b', ty: 'u32' }, { name: 'c', ty: 'i32' }, { name: 'd', ty: 'i32' },
  { name: 'x', ty: 'u64' }, { name: 'y', ty: 'u64' },
];
const bits = (t: Ty): number => (t === 'u64' ? 64 : 32);
const wrapTo = (t: Ty, v: bigint): bigint => (t === 'i32' ? BigInt.asIntN(32, v) : BigInt.asUintN(bits(t), v));
const isBig = (t: Ty): boolean => t === 'u64';

function exprOf(ty: Ty, depth: number): fc.Arbitrary<Expr> {
  const leaf = fc.oneof(
    fc.constantFrom(...VARS.filter((v) => v.ty === ty)).map((v): Expr => ({ k: 'var', name: v.name, ty })),
    fc.bigInt({ min: ty === 'i32' ? -100n : 0n, max: ty === 'u64' ? 1n << 40n : 1000n }).map((v): Expr => ({ k: 'lit', v, ty })),
  );
  if (depth <= 0) return leaf;
  const sub = exprOf(ty, depth - 1);
  const ops = ty === 'i32' ? ['+', '-', '*', '&', '|', '^', '>>'] : ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'];
  return fc.oneof(
    { weight: 2, arbitrary: leaf },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...ops), sub, sub, fc.nat(bits(ty) - 1)).map(([op, a, b, sh]): Expr => {
        if (op === '<<' || op === '>>') return { k: 'bin', op, a, b: { k: 'lit', v: BigInt(sh), ty }, ty };
        // A constant divisor of 0 is a compile error by design: divide by a non-zero constant.
        if ((op === '/' || op === '%') && constant(b)) return { k: 'bin', op, a, b: { k: 'lit', v: 7n, ty }, ty };
        return { k: 'bin', op, a, b, ty };
      }),
    },
    { weight: 1, arbitrary: fc.tuple(condOf(depth - 1), sub, sub).map(([c, a, b]): Expr => ({ k: 'ite', c, a, b, ty })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom<Ty>('u32', 'i32', 'u64'), fc.constant(null)).chain(([from]) => exprOf(from, depth - 1).map((a): Expr => ({ k: 'conv', to: ty, a }))) },
  );
}

function condOf(depth: number): fc.Arbitrary<Expr> {
  return fc.constantFrom<Ty>('u32', 'i32', 'u64').chain((ty) =>
    fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '===', '!=='), exprOf(ty, Math.max(0, depth)), exprOf(ty, Math.max(0, depth))).map(([op, a, b]): Expr => ({ k: 'cmp', op, a, b })),
  );
}

export function stmts(depth: number): fc.Arbitrary<Stmt[]> {
  const assign = fc.constantFrom(...VARS).chain((v) => exprOf(v.ty, 2).map((e): Stmt => ({ k: 'assign', name: v.name, e })));
  if (depth <= 0) return fc.array(assign, { minLength: 1, maxLength: 3 });
  const inner = stmts(depth - 1);
  const stmt: fc.Arbitrary<Stmt> = fc.oneof(
    { weight: 4, arbitrary: assign },
    { weight: 1, arbitrary: fc.tuple(condOf(1), inner, inner).map(([c, t, e]): Stmt => ({ k: 'if', c, then: t, else: e })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), inner).map(([n, body]): Stmt => ({ k: 'for', n, body })) },
    {
      weight: 1,
      arbitrary: fc.tuple(exprOf('u32', 1), fc.uniqueArray(fc.bigInt({ min: 0n, max: 6n }), { minLength: 1, maxLength: 3 }), fc.array(inner, { minLength: 3, maxLength: 3 })).map(([on, vs, bodies]): Stmt => ({ k: 'switch', on, cases: vs.map((v, i) => ({ v, body: bodies[i % 3]! })) })),
    },
  );
  return fc.array(stmt, { minLength: 1, maxLength: 4 });
}

/** Whether an expression has no variables (the dialect folds it as an untyped constant). */
function constant(e: Expr): boolean {
  switch (e.k) {
    case 'var':
      return false;
    case 'lit':
      return true;
    case 'bin':
    case 'cmp':
      return constant(e.a) && constant(e.b);
    case 'ite':
      return constant(e.c) && constant(e.a) && constant(e.b);
    case 'conv':
      return false;
  }
}

/**
 * TypeScript for an expression. Literals next to other literals are written as typed
 * constants (u32(5)): the dialect folds untyped constants mathematically and rejects, say,
 * -1 stored in a u32, where the typed arithmetic this test models wraps.
 */
function render(e: Expr, typed = false): string {
  switch (e.k) {
    case 'var':
      return e.name;
    case 'lit': {
      const text = isBig(e.ty) ? `${e.v}n` : `${e.v}`;
      return typed ? `${e.ty}(${text})` : e.v < 0n ? `(${text})` : text;
    }
    case 'bin': {
      if (e.op === '<<' || e.op === '>>') return `(${render(e.a, constant(e.a))} ${e.op} ${render(e.b)})`;
      const both = constant(e.a) && constant(e.b);
      return `(${render(e.a, both)} ${e.op} ${render(e.b, both)})`;
    }
    case 'cmp': {
      const both = constant(e.a) && constant(e.b);
      return `(${render(e.a, both)} ${e.op} ${render(e.b, both)})`;
    }
    case 'ite':
      return `(${render(e.c)} ? ${render(e.a, true)} : ${render(e.b, true)})`;
    case 'conv':
      return `${e.to}(${render(e.a)})`;
  }
}

function renderStmts(list: Stmt[], indent: string, loopVar: { n: number }): string {
  return list.map((s) => {
    switch (s.k) {
      case 'assign':
        return `${indent}${s.name} = ${render(s.e, constant(s.e))};`;
      case 'if':
        return `${indent}if ${render(s.c)} {\n${renderStmts(s.then, `${indent}  `, loopVar)}\n${indent}} else {\n${renderStmts(s.else, `${indent}  `, loopVar)}\n${indent}}`;
      case 'for': {
        const i = `i${loopVar.n++}`;
        return `${indent}for (let ${i} = 0; ${i} < ${s.n}; ${i}++) {\n${renderStmts(s.body, `${indent}  `, loopVar)}\n${indent}}`;
      }
      case 'switch':
        return `${indent}switch (${render(s.on)}) {\n${s.cases.map((c) => `${indent}  case ${c.v}: {\n${renderStmts(c.body, `${indent}    `, loopVar)}\n${indent}    break;\n${indent}  }`).join('\n')}\n${indent}}`;
    }
  }).join('\n');
}

function evalExpr(e: Expr, env: Map<string, bigint>): bigint {
  switch (e.k) {
    case 'var':
      return env.get(e.name)!;
    case 'lit':
      return e.v;
    case 'bin': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      const t = e.ty;
      const ua = BigInt.asUintN(bits(t), a);
      const ub = BigInt.asUintN(bits(t), b);
      switch (e.op) {
        case '+': return wrapTo(t, a + b);
        case '-': return wrapTo(t, a - b);
        case '*': return wrapTo(t, a * b);
        case '/': return ub === 0n ? 0n : wrapTo(t, ua / ub);
        case '%': return ub === 0n ? wrapTo(t, a) : wrapTo(t, ua % ub);
        case '&': return wrapTo(t, a & b);
        case '|': return wrapTo(t, a | b);
        case '^': return wrapTo(t, a ^ b);
        case '<<': return wrapTo(t, a << b);
        case '>>': return t === 'i32' ? wrapTo(t, BigInt.asIntN(32, a) >> b) : wrapTo(t, ua >> b);
      }
      throw new Error(e.op);
    }
    case 'cmp': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      switch (e.op) {
        case '<': return a < b ? 1n : 0n;
        case '<=': return a <= b ? 1n : 0n;
        case '>': return a > b ? 1n : 0n;
        case '>=': return a >= b ? 1n : 0n;
        case '===': return a === b ? 1n : 0n;
        default: return a !== b ? 1n : 0n;
      }
    }
    case 'ite':
      return evalExpr(e.c, env) !== 0n ? evalExpr(e.a, env) : evalExpr(e.b, env);
    case 'conv':
      return wrapTo(e.to, evalExpr(e.a, env));
  }
}

function run(list: Stmt[], env: Map<string, bigint>): void {
  for (const s of list) {
    switch (s.k) {
      case 'assign':
        env.set(s.name, wrapTo(VARS.find((v) => v.name === s.name)!.ty, evalExpr(s.e, env)));
        break;
      case 'if':
        run(evalExpr(s.c, env) !== 0n ? s.then : s.else, env);
        break;
      case 'for':
        for (let i = 0; i < s.n; i++) run(s.body, env);
        break;
      case 'switch': {
        const v = evalExpr(s.on, env);
        const c = s.cases.find((x) => x.v === v);
        if (c) run(c.body, env);
        break;
      }
    }
  }
}

/** A random program: its body (reading three u64 arguments) and its expected result. */
export interface RandomProgram {
  body: string;
  args: [bigint, bigint, bigint];
  want: bigint;
}

/** Random programs with inputs, and the u32 each returns. */
export function randomPrograms(depth = 2): fc.Arbitrary<RandomProgram> {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  return fc.tuple(stmts(depth), u64, u64, u64).map(([program, p, q, r]) => {
    const body = `let a = u32(ctx.args[0]); let b = u32(ctx.args[1]); let c = i32(ctx.args[2]); let d = i32(ctx.args[0] >> 32n); let x = ctx.args[1]; let y = ctx.args[2];
${renderStmts(program, '  ', { n: 0 })}
  return u32(u64(a ^ b) ^ u64(u32(c) ^ u32(d)) ^ x ^ (y >> 7n));`;
    const env = new Map<string, bigint>([
      ['a', BigInt.asUintN(32, p)], ['b', BigInt.asUintN(32, q)], ['c', BigInt.asIntN(32, r)], ['d', BigInt.asIntN(32, p >> 32n)], ['x', q], ['y', r],
    ]);
    run(program, env);
    const want = BigInt.asUintN(32, BigInt.asUintN(64, env.get('a')! ^ env.get('b')!) ^ BigInt.asUintN(64, BigInt.asUintN(32, env.get('c')!) ^ BigInt.asUintN(32, env.get('d')!)) ^ env.get('x')! ^ (env.get('y')! >> 7n));
    return { body, args: [p, q, r], want };
  });
}
