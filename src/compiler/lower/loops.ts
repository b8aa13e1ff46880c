/**
 * Loop bounds the compiler can prove, so that the verifier (which walks every iteration) will
 * accept the loop: a counter compared with a constant and stepped towards it by a constant,
 * changed nowhere else. Anything else is a compile error pointing at boundedLoop().
 */
import type { Expression, ForStatement, Statement } from 'oxc-parser';
import { isReg } from '../ir.js';
import { unwrap } from '../module.js';
import type { Lowerer } from './core.js';
import { spanOf } from './expr.js';
import { assignedNames, forEachAssignment } from './stmt.js';

interface Step {
  name: string;
  /** +1 counts up, -1 down. */
  dir: 1 | -1;
  step: bigint;
}

const HINT = 'write for (let i = 0; i < N; i++) with a constant N, or use boundedLoop(N, (i) => { ... })';

/** The verifier walks every iteration; past this many it gives up (1M instructions). */
const MAX_ITERATIONS = 1_000_000n;

/** A compile-time constant: a literal, a top-level const, a local const of a literal, an array length. */
function constant(L: Lowerer, e: Expression): bigint | 'length' | undefined {
  const c = L.module.constEval(e);
  if (c?.kind === 'int') return c.value;
  const u = unwrap(e);
  if (u.type === 'Identifier') {
    const b = L.lookup(u.name);
    if (b?.kind === 'value' && b.val.k === 'scalar' && !isReg(b.val.v)) return b.val.v.imm;
  }
  if (u.type === 'MemberExpression' && !u.computed && (u.property as { name?: string }).name === 'length') return 'length';
  return undefined;
}

function stepOf(L: Lowerer, e: Expression | null | undefined): Step | undefined {
  if (!e) return undefined;
  const u = unwrap(e);
  if (u.type === 'UpdateExpression' && u.argument.type === 'Identifier') return { name: u.argument.name, dir: u.operator === '++' ? 1 : -1, step: 1n };
  if (u.type === 'AssignmentExpression' && u.left.type === 'Identifier') {
    const name = u.left.name;
    if (u.operator === '+=' || u.operator === '-=') {
      const k = constant(L, u.right);
      if (typeof k !== 'bigint' || k <= 0n) return undefined;
      return { name, dir: u.operator === '+=' ? 1 : -1, step: k };
    }
    if (u.operator === '=') {
      const r = unwrap(u.right);
      if (r.type === 'BinaryExpression' && (r.operator === '+' || r.operator === '-') && r.left.type === 'Identifier' && r.left.name === name) {
        const k = constant(L, r.right);
        if (typeof k !== 'bigint' || k <= 0n) return undefined;
        return { name, dir: r.operator === '+' ? 1 : -1, step: k };
      }
    }
  }
  return undefined;
}

/** The conjuncts of `a && b && c`. */
function conjuncts(e: Expression): Expression[] {
  const u = unwrap(e);
  if (u.type === 'LogicalExpression' && u.operator === '&&') return [...conjuncts(u.left), ...conjuncts(u.right)];
  return [u];
}

/** Whether `test` bounds counter `s` (counting towards a constant); returns the limit. */
function boundOf(L: Lowerer, test: Expression, s: Step): bigint | 'length' | undefined {
  for (const c of conjuncts(test)) {
    if (c.type !== 'BinaryExpression' || c.left.type === 'PrivateIdentifier') continue;
    let op: string = c.operator;
    let other: Expression;
    if (c.left.type === 'Identifier' && c.left.name === s.name) other = c.right;
    else if (c.right.type === 'Identifier' && c.right.name === s.name) {
      other = c.left as Expression;
      op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[op] ?? op;
    } else continue;
    const limit = constant(L, other);
    if (limit === undefined) continue;
    if (s.dir === 1 && (op === '<' || op === '<=')) return limit;
    if (s.dir === -1 && (op === '>' || op === '>=')) return limit;
    if ((op === '!=' || op === '!==') && s.step === 1n) return limit;
  }
  return undefined;
}

/** Checks a for loop; throws a compile error when its bound cannot be proven. */
export function checkLoopBound(L: Lowerer, s: ForStatement): void {
  const at = spanOf(s);
  const step = stepOf(L, s.update);
  if (!step) L.fail(s.update ? spanOf(s.update) : at, 'loop without a provable bound: its update must step a counter by a constant (i++, i--, i += 2)', HINT);
  if (!s.test) L.fail(at, 'loop without a provable bound: it has no condition', HINT);
  const limit = boundOf(L, s.test, step);
  if (limit === undefined) L.fail(spanOf(s.test), `loop without a provable bound: the condition must compare '${step.name}' with a constant (${step.dir === 1 ? `${step.name} < N` : `${step.name} > N`})`, HINT);
  if (assignedNames(s.body).has(step.name)) L.fail(spanOf(s.body), `the loop changes its counter '${step.name}' in its body, so its bound cannot be proven`, 'change the counter only in the for header');
  let start: bigint | undefined;
  if (s.init?.type === 'VariableDeclaration') {
    const d = s.init.declarations.find((x) => x.id.type === 'Identifier' && x.id.name === step.name);
    if (d?.init) {
      const c = constant(L, d.init);
      if (typeof c === 'bigint') start = c;
    }
  }
  if (typeof limit === 'bigint' && start !== undefined) {
    const n = step.dir === 1 ? (limit - start) / step.step : (start - limit) / step.step;
    if (n > MAX_ITERATIONS) L.fail(spanOf(s.test), `this loop runs ${n} times; the verifier walks every iteration and stops at 1M instructions`, 'loop fewer times (process data in chunks, or across several events)');
  }
}

/** Checks a while or do-while loop: a counter bounded by the condition and stepped once per iteration. */
export function checkWhileBound(L: Lowerer, test: Expression, body: Statement, kind: string): void {
  const stmts = body.type === 'BlockStatement' ? body.body : [body];
  const at = spanOf(test);
  let step: Step | undefined;
  for (const st of stmts) {
    if (st.type !== 'ExpressionStatement') continue;
    const s = stepOf(L, st.expression);
    if (s && boundOf(L, test, s) !== undefined) step = s;
  }
  if (!step) L.fail(at, `${kind} loop without a provable bound: the condition must compare a counter with a constant, and the body must step it (i++) in a top-level statement`, HINT);
  let assignments = 0;
  forEachAssignment(body, (name) => {
    if (name === step.name) assignments++;
  });
  if (assignments !== 1) L.fail(spanOf(body), `the ${kind} loop changes its counter '${step.name}' more than once, so its bound cannot be proven`, HINT);
  if (hasContinue(body)) L.fail(spanOf(body), `'continue' in this ${kind} loop could skip the counter's step, so its bound cannot be proven`, 'use a for loop (its update runs on continue), or boundedLoop');
}

/** Whether a continue targets this loop (not one nested inside it). */
function hasContinue(n: unknown): boolean {
  if (!n || typeof n !== 'object') return false;
  if (Array.isArray(n)) return n.some(hasContinue);
  const x = n as { type?: string };
  if (x.type === 'ContinueStatement') return true;
  if (x.type === 'ForStatement' || x.type === 'WhileStatement' || x.type === 'DoWhileStatement' || x.type === 'ForOfStatement') return false;
  return Object.entries(n).some(([k, v]) => k !== 'parent' && hasContinue(v));
}
