/**
 * Differential property test: random valid programs (straight-line code, forward branches,
 * loops, local calls, memory and atomics on the stack and the context, including accesses
 * that fault) run on the interpreter and on the compiled engine must give the same r0, the
 * same memory, the same instruction count and the same errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInstruction, type Instruction, splitImm64 } from '../../src/asm/instruction.js';
import { AluOp, AtomicOp, Class, JmpOp, LD_IMM64, Mode, Size, Source } from '../../src/asm/opcodes.js';
import { formatUbpf } from '../../src/asm/ubpf.js';
import { VmError } from '../../src/vm/errors.js';
import { Engine, Vm } from '../../src/vm/vm.js';

/** An instruction whose jump target is an item index (resolved to slots later). */
interface Item {
  insn: Instruction;
  /** Forward distance in items for conditional jumps. */
  skip?: number;
  /** Call the subprogram. */
  call?: boolean;
}

const IMM = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.constantFrom(0, 1, -1, 2, 7, 31, 32, 33, 63, 64, 0x7fffffff, -0x80000000, 0xffff, 0x8000),
);
const REG = fc.integer({ min: 0, max: 9 }).filter((r) => r !== 1);
const ANY_REG = fc.integer({ min: 0, max: 10 });

const ALU_OPS = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH, AluOp.NEG, AluOp.MOD, AluOp.XOR, AluOp.MOV, AluOp.ARSH, AluOp.END];

const alu = fc
  .record({
    is64: fc.boolean(),
    op: fc.constantFrom(...ALU_OPS),
    x: fc.boolean(),
    dst: REG,
    src: ANY_REG,
    imm: IMM,
    variant: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ is64, op, x, dst, src, imm, variant }): Instruction => {
    const cls = is64 ? Class.ALU64 : Class.ALU;
    if (op === AluOp.NEG) return { code: cls | op, dst, src: 0, off: 0, imm: 0 };
    if (op === AluOp.END) {
      const width = [16, 32, 64][variant % 3]!;
      return { code: cls | op | (is64 ? 0 : x ? Source.X : 0), dst, src: 0, off: 0, imm: width };
    }
    let off = 0;
    if (op === AluOp.DIV || op === AluOp.MOD) off = variant & 1;
    if (op === AluOp.MOV && x) off = [0, 8, 16, is64 ? 32 : 0][variant]!;
    return x ? { code: cls | op | Source.X, dst, src, off, imm: 0 } : { code: cls | op, dst, src: 0, off, imm };
  });

const SIZES = [Size.B, Size.H, Size.W, Size.DW];
const memOff = fc.oneof(fc.integer({ min: -520, max: -1 }), fc.integer({ min: 0, max: 70 }), fc.constantFrom(-8, -16, -512, 0, 56, 60));
const mem = fc
  .record({
    kind: fc.constantFrom('ldx', 'ldsx', 'st', 'stx', 'atomic'),
    base: fc.constantFrom(1, 10),
    size: fc.constantFrom(...SIZES),
    reg: REG,
    off: memOff,
    imm: IMM,
    aop: fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110),
  })
  .map(({ kind, base, size, reg, off, imm, aop }): Instruction => {
    switch (kind) {
      case 'ldx':
        return { code: Class.LDX | Mode.MEM | size, dst: reg, src: base, off, imm: 0 };
      case 'ldsx':
        return { code: Class.LDX | Mode.MEMSX | (size === Size.DW ? Size.W : size), dst: reg, src: base, off, imm: 0 };
      case 'st':
        return { code: Class.ST | Mode.MEM | size, dst: base, src: 0, off, imm };
      case 'stx':
        return { code: Class.STX | Mode.MEM | size, dst: base, src: reg, off, imm: 0 };
      default: {
        const rmw = aop < 0x100;
        const sz = rmw ? (size === Size.DW ? Size.DW : Size.W) : size;
        if (aop === AtomicOp.LOAD_ACQ) return { code: Class.STX | Mode.ATOMIC | sz, dst: reg, src: base, off, imm: aop };
        return { code: Class.STX | Mode.ATOMIC | sz, dst: base, src: reg, off, imm: aop };
      }
    }
  });

const JMP_OPS = [JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET, JmpOp.JNE, JmpOp.JSGT, JmpOp.JSGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSLT, JmpOp.JSLE];
const branch = fc
  .record({ is32: fc.boolean(), op: fc.constantFrom(...JMP_OPS), x: fc.boolean(), dst: ANY_REG, src: ANY_REG, imm: IMM, skip: fc.integer({ min: 0, max: 6 }) })
  .map(({ is32, op, x, dst, src, imm, skip }): Item => ({
    insn: { code: (is32 ? Class.JMP32 : Class.JMP) | op | (x ? Source.X : 0), dst, src: x ? src : 0, off: 0, imm: x ? 0 : imm },
    skip,
  }));

const lddw = fc.record({ dst: REG, v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }).map(({ dst, v }): Instruction => ({ code: LD_IMM64, dst, src: 0, off: 0, ...splitImm64(v) }));

const item = fc.oneof(
  { weight: 6, arbitrary: alu.map((insn): Item => ({ insn })) },
  { weight: 3, arbitrary: mem.map((insn): Item => ({ insn })) },
  { weight: 2, arbitrary: branch },
  { weight: 1, arbitrary: lddw.map((insn): Item => ({ insn })) },
  { weight: 1, arbitrary: fc.constant<Item>({ insn: { code: Class.JMP | JmpOp.CALL, dst: 0, src: 1, off: 0, imm: 0 }, call: true }) },
);

const EXIT: Instruction = { code: Class.JMP | JmpOp.EXIT, dst: 0, src: 0, off: 0, imm: 0 };

/** Lays out main (with an optional loop around its body) and the subprogram; resolves jumps. */
function build(main: Item[], sub: Item[], loops: number): Instruction[] {
  const items: Item[] = [];
  if (loops > 0) items.push({ insn: { code: Class.ALU64 | AluOp.MOV, dst: 9, src: 0, off: 0, imm: loops } });
  const bodyStart = items.length;
  items.push(...main.map((m) => ({ ...m, insn: { ...m.insn, ...(m.insn.dst === 9 && loops > 0 ? { dst: 8 } : {}) } })));
  const bodyEnd = items.length;
  if (loops > 0) {
    items.push({ insn: { code: Class.ALU64 | AluOp.SUB, dst: 9, src: 0, off: 0, imm: 1 } });
    items.push({ insn: { code: Class.JMP | JmpOp.JNE, dst: 9, src: 0, off: 0, imm: 0 }, skip: -(items.length - bodyStart + 1) });
  }
  items.push({ insn: EXIT });
  const subStart = items.length;
  items.push(...sub.filter((s) => !s.call), { insn: EXIT });
  // Slot of each item.
  const slot: number[] = [];
  let s = 0;
  for (const it of items) {
    slot.push(s);
    s += it.insn.code === LD_IMM64 ? 2 : 1;
  }
  const fnEnd = (i: number): number => (i < subStart ? subStart - 1 : items.length - 1);
  return items.map((it, i) => {
    const insn = { ...it.insn };
    if (it.call) insn.imm = slot[subStart]! - slot[i]! - 1;
    else if (it.skip !== undefined) {
      // Forward skips stay inside the loop body (or the function); the back edge is exact.
      const limit = it.skip < 0 ? i + 1 + it.skip : Math.min(i + 1 + it.skip, i < bodyEnd && loops > 0 ? bodyEnd : fnEnd(i));
      insn.off = slot[limit]! - slot[i]! - 1;
    }
    return insn;
  });
}

type Outcome = { r0: bigint; steps: number } | { error: string; kind: string; pc: number };

function execute(program: Instruction[], engine: Engine, budget: number, ctx: Uint8Array): Outcome {
  try {
    const vm = new Vm(program, { engine, budget, context: ctx });
    return { r0: vm.run({ registers: { r2: 0x1234n, r3: 0xffffffff80000000n } }), steps: vm.steps };
  } catch (e) {
    if (e instanceof VmError) return { error: e.message, kind: e.kind, pc: e.pc };
    throw e;
  }
}

test('interpreter and compiled code agree on random programs', () => {
  const program = fc.record({
    main: fc.array(item, { minLength: 1, maxLength: 30 }),
    sub: fc.array(item, { maxLength: 8 }),
    loops: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
    budget: fc.oneof(fc.constant(100000), fc.integer({ min: 1, max: 400 })),
    ctx: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  });
  let ran = 0;
  fc.assert(
    fc.property(program, ({ main, sub, loops, budget, ctx }) => {
      const insns = build(main, sub, loops);
      for (const i of insns) assert.equal(checkInstruction(i), undefined, formatUbpf(i));
      const ctxA = ctx.slice();
      const ctxB = ctx.slice();
      const a = execute(insns, Engine.INTERPRETER, budget, ctxA);
      const b = execute(insns, Engine.JIT, budget, ctxB);
      const listing = insns.map(formatUbpf).join('\n');
      assert.deepEqual(b, a, listing);
      assert.deepEqual(ctxB, ctxA, listing);
      if ('r0' in a) ran++;
    }),
    { numRuns: 1500 },
  );
  assert.ok(ran > 100, `only ${ran} programs ran to completion`);
});

test('the compiled code hands over to the interpreter at the exact budget on long loops', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), (budget) => {
      const src: Instruction[] = build(
        [
          { insn: { code: Class.ALU64 | AluOp.ADD | Source.X, dst: 0, src: 9, off: 0, imm: 0 } },
          { insn: { code: Class.STX | Mode.MEM | Size.DW, dst: 10, src: 0, off: -8, imm: 0 } },
          { insn: { code: Class.ALU64 | AluOp.MUL, dst: 0, src: 0, off: 0, imm: 3 } },
        ],
        [],
        500,
      );
      const ctx = new Uint8Array(64);
      assert.deepEqual(execute(src, Engine.JIT, budget, ctx), execute(src, Engine.INTERPRETER, budget, ctx));
    }),
    { numRuns: 200 },
  );
});
