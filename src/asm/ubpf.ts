/**
 * The ubpf assembly dialect, as used by the ubpf project and the bpf_conformance suite:
 * `%r0` registers, `add`/`add32` mnemonics, `ldxw %r1, [%r2+16]`, `lock fetch add [%r10-8], %r1`,
 * `call local f`, labels, and the first `exit` doubling as a label named `exit`. Also the suite's
 * test-file format (`-- asm`, `-- raw`, `-- mem`, `-- result`, `-- error`) and a printer that
 * writes instructions back in the same dialect.
 *
 * Mnemonics follow bpf_conformance's assembler (lib/src/bpf_assembler.cc) and ubpf's
 * (ubpf/assembler.py). Extensions of this module, for instructions those two cannot spell:
 * `gotol` (= `ja32`), `callx %rN` (= `call %rN`), `may_goto`, `ldabs{b,h,w} imm`,
 * `ldind{b,h,w} %rS, imm`, `ldacq{b,h,w,dw} %rD, [%rS+off]`, `strel{b,h,w,dw} [%rD+off], %rS`,
 * `ldmapfd %rD, N`, `ldmapvalue %rD, N, off`, `ldmapidx %rD, N`, `ldmapidxvalue %rD, N, off`,
 * `ldbtfid %rD, N`, `ldfunc %rD, target`, `addr_space_cast %rD, %rS, imm`, and
 * `.insn code, dst, src, off, imm[, imm2]` for any raw encoding.
 */
import { ParseError } from '../errors.js';
import { encode } from './codec.js';
import { type Instruction, splitImm64 } from './instruction.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from './opcodes.js';
import { ALU_OPS, ATOMIC_OPS, JUMP_OPS } from './op-names.js';

const LANG = 'ubpf-asm';
const TEST_LANG = 'ubpf-test';

/** Options of {@link parseUbpf}. */
export interface UbpfParseOptions {
  /** File name used in errors. */
  file?: string;
  /** Line number of the first line of `text`, when it was cut out of a larger file (default 1). */
  firstLine?: number;
}

interface Token {
  text: string;
  column: number;
}

/** Where a label reference goes once the label's slot is known. */
interface Fixup {
  index: number;
  field: 'off' | 'imm';
  label: Token;
  line: number;
}

const SIZE_SUFFIX: Record<string, number> = { b: Size.B, h: Size.H, w: Size.W, dw: Size.DW };
const SIZE_NAME: Record<number, string> = { [Size.B]: 'b', [Size.H]: 'h', [Size.W]: 'w', [Size.DW]: 'dw' };

const INT_RE = /^([+-]?)(0x[0-9a-f]+|[0-9]+)$/i;
const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;

/** Parses an integer literal (decimal or 0x-hex, optionally signed) into its sign and magnitude. */
function parseLiteral(text: string): { negative: boolean; hex: boolean; magnitude: bigint } | undefined {
  const m = INT_RE.exec(text);
  if (!m) return undefined;
  return { negative: m[1] === '-', hex: /^0x/i.test(m[2]!), magnitude: BigInt(m[2]!) };
}

/** One statement's worth of parsing context: reports errors at the right line and column. */
class LineParser {
  constructor(
    readonly line: number,
    readonly file: string | undefined,
  ) {}

  fail(column: number, detail: string): never {
    throw new ParseError(LANG, this.line, column, detail, this.file);
  }

  register(tok: Token): number {
    const m = /^%r(\d+)$/.exec(tok.text);
    if (!m) this.fail(tok.column, `invalid register '${tok.text}': expected %r0 to %r10`);
    const n = Number(m[1]);
    if (n > 10) this.fail(tok.column, `invalid register '${tok.text}': expected %r0 to %r10`);
    return n;
  }

  isRegister(tok: Token): boolean {
    return tok.text.startsWith('%');
  }

  /** A 32-bit immediate: hex 0..0xffffffff (or -0x80000000..) or decimal in the signed 32-bit range. */
  imm32(tok: Token): number {
    const lit = parseLiteral(tok.text);
    if (!lit) this.fail(tok.column, `invalid immediate '${tok.text}': expected a decimal or 0x-hex integer`);
    const value = lit.negative ? -lit.magnitude : lit.magnitude;
    const max = lit.hex && !lit.negative ? 0xffffffffn : 0x7fffffffn;
    if (value > max || value < -0x80000000n) {
      this.fail(tok.column, `immediate ${tok.text} is out of the 32-bit range`);
    }
    return Number(BigInt.asIntN(32, value));
  }

  /** A 64-bit immediate (lddw): hex up to 0xffffffffffffffff, decimal from -2^63 to 2^64-1. */
  imm64(tok: Token): bigint {
    const lit = parseLiteral(tok.text);
    if (!lit) this.fail(tok.column, `invalid immediate '${tok.text}': expected a decimal or 0x-hex integer`);
    const value = lit.negative ? -lit.magnitude : lit.magnitude;
    if (value > 0xffffffffffffffffn || value < -0x8000000000000000n) {
      this.fail(tok.column, `immediate ${tok.text} is out of the 64-bit range`);
    }
    return BigInt.asUintN(64, value);
  }

  /** A signed 16-bit offset; hex up to 0xffff wraps like the suite's assembler. */
  offset(text: string, column: number): number {
    const lit = parseLiteral(text);
    if (!lit) this.fail(column, `invalid offset '${text}': expected a decimal or 0x-hex integer`);
    const value = lit.negative ? -lit.magnitude : lit.magnitude;
    const max = lit.hex && !lit.negative ? 0xffffn : 0x7fffn;
    if (value > max || value < -0x8000n) this.fail(column, `offset ${text} is out of the 16-bit range`);
    return Number(BigInt.asIntN(16, value));
  }

  /** `[%rN]`, `[%rN+off]` or `[%rN-off]`. */
  memory(tok: Token): { reg: number; off: number } {
    const m = /^\[\s*(%?\w+)\s*(?:([+-])\s*(\w+)\s*)?\]$/.exec(tok.text);
    if (!m) this.fail(tok.column, `expected a memory operand like [%r1+8], got '${tok.text}'`);
    const reg = this.register({ text: m[1]!, column: tok.column + 1 });
    const off = m[2] === undefined ? 0 : this.offset(m[2] + m[3]!, tok.column + tok.text.indexOf(m[2]));
    return { reg, off };
  }

  /** A jump target: `+N`/`-N` (returned as a number) or a label name (returned as the token). */
  target(tok: Token, bits: 16 | 32): number | Token {
    if (tok.text.startsWith('+') || tok.text.startsWith('-')) {
      if (bits === 16) return this.offset(tok.text, tok.column);
      const lit = parseLiteral(tok.text);
      if (!lit) this.fail(tok.column, `invalid jump offset '${tok.text}'`);
      const value = lit.negative ? -lit.magnitude : lit.magnitude;
      if (value > 0x7fffffffn || value < -0x80000000n) this.fail(tok.column, `jump offset ${tok.text} is out of range`);
      return Number(value);
    }
    if (!LABEL_RE.test(tok.text)) this.fail(tok.column, `invalid jump target '${tok.text}': expected +N, -N or a label`);
    return tok;
  }
}

/** Splits operand text into tokens at top-level commas and blanks; brackets group. */
function tokenize(p: LineParser, text: string, startColumn: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  let expectOperand = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === ',') {
      if (expectOperand) p.fail(startColumn + i, 'empty operand');
      expectOperand = true;
      i++;
      continue;
    }
    const start = i;
    if (c === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) p.fail(startColumn + i, "missing ']' in memory operand");
      i = close + 1;
    } else {
      while (i < text.length && !' \t,['.includes(text[i]!)) i++;
    }
    out.push({ text: text.slice(start, i), column: startColumn + start });
    expectOperand = false;
  }
  if (out.length > 0 && expectOperand) p.fail(startColumn + text.length, 'trailing comma');
  return out;
}

/**
 * Assembles ubpf-dialect source into instructions. Jump offsets count 8-byte slots, so a label
 * after an `lddw` accounts for its two slots. Throws a ParseError ('ubpf-asm', line, column)
 * for an unknown mnemonic, a wrong operand count, an invalid register, an out-of-range
 * immediate or offset, or an undefined or duplicate label.
 *
 * @example
 * parseUbpf('mov %r0, 1\nadd32 %r0, 2\nexit');
 */
export function parseUbpf(text: string, options: UbpfParseOptions = {}): Instruction[] {
  const firstLine = options.firstLine ?? 1;
  const out: Instruction[] = [];
  const labels = new Map<string, number>();
  const fixups: Fixup[] = [];
  let slot = 0;
  let firstExit: number | undefined;
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = firstLine + li;
    const p: LineParser = new LineParser(lineNo, options.file);
    let raw = lines[li]!.replace(/\r$/, '');
    const hash = raw.indexOf('#');
    if (hash >= 0) raw = raw.slice(0, hash);
    // ';' separates statements (ubpf accepts it as a terminator).
    let base = 0;
    for (const stmt of raw.split(';')) {
      const column = base + 1;
      base += stmt.length + 1;
      let rest = stmt;
      let col = column;
      // Labels: `name:` possibly followed by an instruction on the same line.
      for (;;) {
        const m = /^(\s*)([^\s:,[\]]+):/.exec(rest);
        if (!m) break;
        const name = m[2]!;
        const labelCol = col + m[1]!.length;
        if (!LABEL_RE.test(name)) p.fail(labelCol, `invalid label name '${name}'`);
        if (labels.has(name)) p.fail(labelCol, `duplicate label '${name}'`);
        labels.set(name, slot);
        rest = rest.slice(m[0].length);
        col += m[0].length;
      }
      const lead = /^\s*/.exec(rest)![0].length;
      rest = rest.slice(lead);
      col += lead;
      if (rest.trim() === '') continue;
      const mm = /^[^\s,]+/.exec(rest);
      if (!mm) p.fail(col, `expected a mnemonic, got '${rest.trim()}'`);
      const mnemonic: Token = { text: mm[0], column: col };
      const tokens = tokenize(p, rest.slice(mm[0].length), col + mm[0].length);
      const insnIndex = out.length;
      const insn = assembleOne(p, mnemonic, tokens, (tok, field) => {
        fixups.push({ index: insnIndex, field, label: tok, line: lineNo });
      });
      if (insn.code === (Class.JMP | JmpOp.EXIT) && firstExit === undefined) firstExit = slot;
      out.push(insn);
      slot += insn.code === LD_IMM64 ? 2 : 1;
    }
  }
  if (firstExit !== undefined && !labels.has('exit')) labels.set('exit', firstExit);
  // Slot index of every instruction, for label arithmetic.
  const slots: number[] = [];
  let s = 0;
  for (const insn of out) {
    slots.push(s);
    s += insn.code === LD_IMM64 ? 2 : 1;
  }
  for (const f of fixups) {
    const target = labels.get(f.label.text);
    const p: LineParser = new LineParser(f.line, options.file);
    if (target === undefined) p.fail(f.label.column, `undefined label '${f.label.text}'`);
    const distance = target - slots[f.index]! - 1;
    if (f.field === 'off' && (distance < -0x8000 || distance > 0x7fff)) {
      p.fail(f.label.column, `label '${f.label.text}' is too far away for a 16-bit jump offset`);
    }
    out[f.index]![f.field] = distance;
  }
  return out;
}

type LabelSink = (tok: Token, field: 'off' | 'imm') => void;

function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Instruction {
  return { code, dst, src, off, imm };
}

function count(p: LineParser, mnemonic: Token, ops: Token[], n: number | number[]): void {
  const ok = typeof n === 'number' ? ops.length === n : n.includes(ops.length);
  if (!ok) {
    const want = typeof n === 'number' ? String(n) : n.join(' or ');
    p.fail(mnemonic.column, `invalid number of operands for ${mnemonic.text}: expected ${want}, got ${ops.length}`);
  }
}

function setTarget(p: LineParser, i: Instruction, field: 'off' | 'imm', tok: Token, sink: LabelSink): void {
  const t = p.target(tok, field === 'off' ? 16 : 32);
  if (typeof t === 'number') i[field] = t;
  else sink(t, field);
}

function assembleOne(p: LineParser, mn: Token, ops: Token[], sink: LabelSink): Instruction {
  const m = mn.text;
  let r: RegExpExecArray | null;

  if (m === 'exit') {
    count(p, mn, ops, 0);
    return insn(Class.JMP | JmpOp.EXIT);
  }
  if (m === 'ja' || m === 'ja32' || m === 'gotol' || m === 'may_goto') {
    count(p, mn, ops, 1);
    const code = m === 'ja' ? Class.JMP | JmpOp.JA : m === 'may_goto' ? Class.JMP | JmpOp.JCOND : Class.JMP32 | JmpOp.JA;
    const i = insn(code);
    setTarget(p, i, code === (Class.JMP32 | JmpOp.JA) ? 'imm' : 'off', ops[0]!, sink);
    return i;
  }
  if ((r = /^(j[a-z]+?)(32)?$/.exec(m)) && (JUMP_OPS as Record<string, number>)[r[1]!] !== undefined) {
    count(p, mn, ops, 3);
    const cls = r[2] ? Class.JMP32 : Class.JMP;
    const i = insn(cls | (JUMP_OPS as Record<string, number>)[r[1]!]!, p.register(ops[0]!));
    if (p.isRegister(ops[1]!)) {
      i.code |= Source.X;
      i.src = p.register(ops[1]!);
    } else {
      i.imm = p.imm32(ops[1]!);
    }
    setTarget(p, i, 'off', ops[2]!, sink);
    return i;
  }
  if (m === 'call' || m === 'callx') {
    let mode = 'helper';
    let args = ops;
    if (m === 'call' && ops.length === 2 && ['local', 'helper', 'runtime'].includes(ops[0]!.text)) {
      mode = ops[0]!.text;
      args = ops.slice(1);
    }
    if (args.length !== 1) {
      p.fail(mn.column, `invalid number of operands for ${m}: expected 1 (call [local|helper|runtime] target)`);
    }
    const arg = args[0]!;
    if (mode === 'local') {
      const i = insn(Class.JMP | JmpOp.CALL, 0, CallSrc.LOCAL);
      setTarget(p, i, 'imm', arg, sink);
      return i;
    }
    if (p.isRegister(arg)) {
      if (mode === 'runtime') p.fail(arg.column, 'call runtime takes a BTF id, not a register');
      return insn(Class.JMP | JmpOp.CALL | Source.X, p.register(arg));
    }
    if (m === 'callx') p.fail(arg.column, 'callx takes a register');
    return insn(Class.JMP | JmpOp.CALL, 0, mode === 'runtime' ? CallSrc.KFUNC : CallSrc.HELPER, 0, p.imm32(arg));
  }
  if (m === 'lock') {
    // lock [fetch] op [%rD+off], %rS
    let rest = ops;
    let fetch = false;
    if (rest.length > 0 && rest[0]!.text === 'fetch') {
      fetch = true;
      rest = rest.slice(1);
    }
    if (rest.length !== 3) p.fail(mn.column, `invalid number of operands for lock: expected 'lock [fetch] op [%rD+off], %rS'`);
    const opTok = rest[0]!;
    const om = /^([a-z]+?)(32|64)?$/.exec(opTok.text);
    const base = om ? (ATOMIC_OPS as Record<string, number>)[om[1]!] : undefined;
    if (!om || base === undefined) p.fail(opTok.column, `invalid atomic operation '${opTok.text}'`);
    if (fetch && (base === AtomicOp.XCHG || base === AtomicOp.CMPXCHG)) {
      p.fail(opTok.column, `${om[1]} always fetches; drop 'fetch'`);
    }
    const mem = p.memory(rest[1]!);
    const size = om[2] === '32' ? Size.W : Size.DW;
    return insn(Class.STX | Mode.ATOMIC | size, mem.reg, p.register(rest[2]!), mem.off, base | (fetch ? AtomicOp.FETCH : 0));
  }
  if (m === 'lddw') {
    count(p, mn, ops, 2);
    const dst = p.register(ops[0]!);
    const { imm, imm2 } = splitImm64(p.imm64(ops[1]!));
    return { code: LD_IMM64, dst, src: PseudoSrc.IMM64, off: 0, imm, imm2 };
  }
  if ((r = /^ld(mapfd|mapvalue|mapidx|mapidxvalue|btfid|func)$/.exec(m))) {
    const kind = r[1]!;
    const withOffset = kind === 'mapvalue' || kind === 'mapidxvalue';
    count(p, mn, ops, withOffset ? 3 : 2);
    const src = {
      mapfd: PseudoSrc.MAP_FD,
      mapvalue: PseudoSrc.MAP_VALUE,
      mapidx: PseudoSrc.MAP_IDX,
      mapidxvalue: PseudoSrc.MAP_IDX_VALUE,
      btfid: PseudoSrc.BTF_ID,
      func: PseudoSrc.FUNC,
    }[kind]!;
    const i: Instruction = { code: LD_IMM64, dst: p.register(ops[0]!), src, off: 0, imm: 0, imm2: 0 };
    if (kind === 'func') setTarget(p, i, 'imm', ops[1]!, sink);
    else i.imm = p.imm32(ops[1]!);
    if (withOffset) i.imm2 = p.imm32(ops[2]!);
    return i;
  }
  if ((r = /^ld(abs|ind)(b|h|w)$/.exec(m))) {
    const abs = r[1] === 'abs';
    count(p, mn, ops, abs ? 1 : 2);
    const code = Class.LD | (abs ? Mode.ABS : Mode.IND) | SIZE_SUFFIX[r[2]!]!;
    return abs ? insn(code, 0, 0, 0, p.imm32(ops[0]!)) : insn(code, 0, p.register(ops[0]!), 0, p.imm32(ops[1]!));
  }
  if ((r = /^ldx(s?)(b|h|w|dw)$/.exec(m)) && !(r[1] && r[2] === 'dw')) {
    count(p, mn, ops, 2);
    const dst = p.register(ops[0]!);
    const mem = p.memory(ops[1]!);
    return insn(Class.LDX | (r[1] ? Mode.MEMSX : Mode.MEM) | SIZE_SUFFIX[r[2]!]!, dst, mem.reg, mem.off);
  }
  if ((r = /^ldacq(b|h|w|dw)$/.exec(m))) {
    count(p, mn, ops, 2);
    const dst = p.register(ops[0]!);
    const mem = p.memory(ops[1]!);
    return insn(Class.STX | Mode.ATOMIC | SIZE_SUFFIX[r[1]!]!, dst, mem.reg, mem.off, AtomicOp.LOAD_ACQ);
  }
  if ((r = /^strel(b|h|w|dw)$/.exec(m))) {
    count(p, mn, ops, 2);
    const mem = p.memory(ops[0]!);
    return insn(Class.STX | Mode.ATOMIC | SIZE_SUFFIX[r[1]!]!, mem.reg, p.register(ops[1]!), mem.off, AtomicOp.STORE_REL);
  }
  if ((r = /^st(x?)(b|h|w|dw)$/.exec(m))) {
    count(p, mn, ops, 2);
    const mem = p.memory(ops[0]!);
    const size = SIZE_SUFFIX[r[2]!]!;
    if (r[1]) return insn(Class.STX | Mode.MEM | size, mem.reg, p.register(ops[1]!), mem.off);
    return insn(Class.ST | Mode.MEM | size, mem.reg, 0, mem.off, p.imm32(ops[1]!));
  }
  if ((r = /^(le|be|swap|bswap)(16|32|64)$/.exec(m))) {
    count(p, mn, ops, 1);
    const code =
      r[1] === 'le' ? Class.ALU | AluOp.END | Source.K : r[1] === 'be' ? Class.ALU | AluOp.END | Source.X : Class.ALU64 | AluOp.END;
    return insn(code, p.register(ops[0]!), 0, 0, Number(r[2]));
  }
  if ((r = /^neg(32|64)?$/.exec(m))) {
    count(p, mn, ops, 1);
    return insn((r[1] === '32' ? Class.ALU : Class.ALU64) | AluOp.NEG, p.register(ops[0]!));
  }
  if ((r = /^movsx(8|16|32)(32|64)$/.exec(m)) && !(r[1] === '32' && r[2] === '32')) {
    count(p, mn, ops, 2);
    const dst = p.register(ops[0]!);
    if (!p.isRegister(ops[1]!)) p.fail(ops[1]!.column, `${m} takes a register source`);
    const cls = r[2] === '32' ? Class.ALU : Class.ALU64;
    return insn(cls | AluOp.MOV | Source.X, dst, p.register(ops[1]!), Number(r[1]));
  }
  if (m === 'addr_space_cast') {
    count(p, mn, ops, 3);
    return insn(Class.ALU64 | AluOp.MOV | Source.X, p.register(ops[0]!), p.register(ops[1]!), 1, p.imm32(ops[2]!));
  }
  if ((r = /^([a-z]+?)(32|64)?$/.exec(m)) && (ALU_OPS as Record<string, { op: number; off: number }>)[r[1]!] !== undefined) {
    count(p, mn, ops, 2);
    const { op, off } = (ALU_OPS as Record<string, { op: number; off: number }>)[r[1]!]!;
    const cls = r[2] === '32' ? Class.ALU : Class.ALU64;
    const i = insn(cls | op, p.register(ops[0]!), 0, off);
    if (p.isRegister(ops[1]!)) {
      i.code |= Source.X;
      i.src = p.register(ops[1]!);
    } else {
      i.imm = p.imm32(ops[1]!);
    }
    return i;
  }
  if (m === '.insn') {
    count(p, mn, ops, [5, 6]);
    const field = (t: Token, lo: number, hi: number, what: string): number => {
      const lit = parseLiteral(t.text);
      const v = lit ? Number(lit.negative ? -lit.magnitude : lit.magnitude) : NaN;
      if (!(v >= lo && v <= hi)) p.fail(t.column, `${what} '${t.text}' is out of range ${lo}..${hi}`);
      return v;
    };
    const i = insn(
      field(ops[0]!, 0, 0xff, 'opcode'),
      field(ops[1]!, 0, 15, 'dst'),
      field(ops[2]!, 0, 15, 'src'),
      field(ops[3]!, -0x8000, 0x7fff, 'offset'),
      p.imm32(ops[4]!),
    );
    if (i.code === LD_IMM64) i.imm2 = ops[5] ? p.imm32(ops[5]) : 0;
    else if (ops[5]) p.fail(ops[5].column, 'only ld_imm64 (opcode 0x18) has a second immediate');
    return i;
  }
  return p.fail(mn.column, `invalid mnemonic '${m}'`);
}

// ---------------------------------------------------------------------------------------------
// Printer

function reg(n: number): string {
  return `%r${n}`;
}

function mem(r: number, off: number): string {
  return off === 0 ? `[${reg(r)}]` : `[${reg(r)}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;
}

function rel(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/**
 * Prints one instruction in the ubpf dialect, with jump targets as `+N`/`-N` slot offsets.
 * {@link parseUbpf} reads the output back to the same instruction; encodings without a
 * mnemonic are printed as `.insn code, dst, src, off, imm`.
 */
export function formatUbpf(i: Instruction): string {
  const raw = (): string =>
    `.insn ${hex(i.code)}, ${i.dst}, ${i.src}, ${i.off}, ${i.imm}` + (i.code === LD_IMM64 ? `, ${i.imm2 ?? 0}` : '');
  const cls = i.code & 0x07;
  const x = (i.code & Source.X) !== 0;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const op = i.code & 0xf0;
      const sfx = cls === Class.ALU ? '32' : '';
      if (op === AluOp.END) {
        const kind = cls === Class.ALU64 ? 'bswap' : x ? 'be' : 'le';
        return `${kind}${i.imm} ${reg(i.dst)}`;
      }
      if (op === AluOp.NEG) return `neg${sfx} ${reg(i.dst)}`;
      if (op === AluOp.MOV && x && i.off !== 0) {
        if (cls === Class.ALU64 && i.off === 1) return `addr_space_cast ${reg(i.dst)}, ${reg(i.src)}, ${i.imm}`;
        if ([8, 16, 32].includes(i.off)) return `movsx${i.off}${cls === Class.ALU ? '32' : '64'} ${reg(i.dst)}, ${reg(i.src)}`;
        return raw();
      }
      const name = Object.entries(ALU_OPS).find(([, v]) => v.op === op && v.off === i.off)?.[0];
      if (!name || op > AluOp.END) return raw();
      return `${name}${sfx} ${reg(i.dst)}, ${x ? reg(i.src) : String(i.imm)}`;
    }
    case Class.JMP:
    case Class.JMP32: {
      const op = i.code & 0xf0;
      const sfx = cls === Class.JMP32 ? '32' : '';
      if (op === JmpOp.JA) return cls === Class.JMP32 ? `ja32 ${rel(i.imm)}` : `ja ${rel(i.off)}`;
      if (op === JmpOp.EXIT) return 'exit';
      if (op === JmpOp.JCOND) return `may_goto ${rel(i.off)}`;
      if (op === JmpOp.CALL) {
        if (x) return i.imm === 0 ? `callx ${reg(i.dst)}` : raw();
        if (i.src === CallSrc.LOCAL) return `call local ${rel(i.imm)}`;
        if (i.src === CallSrc.KFUNC) return `call runtime ${i.imm}`;
        return `call ${i.imm}`;
      }
      const name = Object.entries(JUMP_OPS).find(([, v]) => v === op)?.[0];
      if (!name) return raw();
      return `${name}${sfx} ${reg(i.dst)}, ${x ? reg(i.src) : String(i.imm)}, ${rel(i.off)}`;
    }
    case Class.LD: {
      if (i.code === LD_IMM64) {
        const noImm2 = [PseudoSrc.MAP_FD, PseudoSrc.BTF_ID, PseudoSrc.FUNC, PseudoSrc.MAP_IDX] as number[];
        if (noImm2.includes(i.src) && (i.imm2 ?? 0) !== 0) return raw();
        switch (i.src) {
          case PseudoSrc.IMM64: {
            const v = (BigInt(i.imm2 ?? 0) << 32n) | BigInt(i.imm >>> 0);
            return `lddw ${reg(i.dst)}, 0x${BigInt.asUintN(64, v).toString(16)}`;
          }
          case PseudoSrc.MAP_FD:
            return `ldmapfd ${reg(i.dst)}, ${i.imm}`;
          case PseudoSrc.MAP_VALUE:
            return `ldmapvalue ${reg(i.dst)}, ${i.imm}, ${i.imm2 ?? 0}`;
          case PseudoSrc.BTF_ID:
            return `ldbtfid ${reg(i.dst)}, ${i.imm}`;
          case PseudoSrc.FUNC:
            return `ldfunc ${reg(i.dst)}, ${rel(i.imm)}`;
          case PseudoSrc.MAP_IDX:
            return `ldmapidx ${reg(i.dst)}, ${i.imm}`;
          case PseudoSrc.MAP_IDX_VALUE:
            return `ldmapidxvalue ${reg(i.dst)}, ${i.imm}, ${i.imm2 ?? 0}`;
          default:
            return raw();
        }
      }
      const mode = i.code & 0xe0;
      const size = SIZE_NAME[i.code & 0x18]!;
      if (mode === Mode.ABS && size !== 'dw') return `ldabs${size} ${i.imm}`;
      if (mode === Mode.IND && size !== 'dw') return `ldind${size} ${reg(i.src)}, ${i.imm}`;
      return raw();
    }
    case Class.LDX: {
      const mode = i.code & 0xe0;
      const size = SIZE_NAME[i.code & 0x18]!;
      if (mode === Mode.MEM) return `ldx${size} ${reg(i.dst)}, ${mem(i.src, i.off)}`;
      if (mode === Mode.MEMSX && size !== 'dw') return `ldxs${size} ${reg(i.dst)}, ${mem(i.src, i.off)}`;
      return raw();
    }
    case Class.ST: {
      if ((i.code & 0xe0) !== Mode.MEM) return raw();
      return `st${SIZE_NAME[i.code & 0x18]} ${mem(i.dst, i.off)}, ${i.imm}`;
    }
    default: {
      const mode = i.code & 0xe0;
      const size = i.code & 0x18;
      if (mode === Mode.MEM) return `stx${SIZE_NAME[size]} ${mem(i.dst, i.off)}, ${reg(i.src)}`;
      if (mode !== Mode.ATOMIC) return raw();
      if (i.imm === AtomicOp.LOAD_ACQ) return `ldacq${SIZE_NAME[size]} ${reg(i.dst)}, ${mem(i.src, i.off)}`;
      if (i.imm === AtomicOp.STORE_REL) return `strel${SIZE_NAME[size]} ${mem(i.dst, i.off)}, ${reg(i.src)}`;
      if (size !== Size.W && size !== Size.DW) return raw();
      const sfx = size === Size.W ? '32' : '';
      const fetch = (i.imm & AtomicOp.FETCH) !== 0;
      const name = Object.entries(ATOMIC_OPS).find(([, v]) => v === i.imm || (v | AtomicOp.FETCH) === i.imm)?.[0];
      if (!name) return raw();
      const always = i.imm === AtomicOp.XCHG || i.imm === AtomicOp.CMPXCHG;
      return `lock ${fetch && !always ? 'fetch ' : ''}${name}${sfx} ${mem(i.dst, i.off)}, ${reg(i.src)}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Test files

/** One bpf_conformance test file (`*.data`). */
export interface UbpfTest {
  /** The program as little-endian bytecode (from `-- raw` when present, else from `-- asm`). */
  program: Uint8Array;
  /** Where the program came from. */
  source: 'asm' | 'raw';
  /** The `-- asm` text, when the file has one. */
  asm?: string;
  /** The `-- mem` bytes (empty when absent). */
  memory: Uint8Array;
  /** The `-- result` value (r0, all 64 bits, unsigned), when present. */
  result?: bigint;
  /** The `-- error` text when the section is present ('' when it is empty). */
  error?: string;
}

const SECTIONS = ['asm', 'raw', 'mem', 'result', 'error', 'c', 'no register offset'] as const;
type Section = (typeof SECTIONS)[number];

/**
 * Parses a bpf_conformance test file. Sections: `-- asm` (ubpf assembly), `-- raw` (either
 * 64-bit little-endian instruction words such as `0x0000000000000095`, or bytes such as
 * `95 00 00 00 00 00 00 00`), `-- mem` (hex bytes), `-- result` (expected r0), `-- error`
 * (expected failure; may be empty), and the ignored `-- c` and `-- no register offset`.
 * `#` starts a comment. Throws ParseError ('ubpf-test' for the file structure, 'ubpf-asm' for
 * the assembly) for an unknown section, a bad number, or a file without instructions.
 */
export function parseUbpfTest(text: string, file?: string): UbpfTest {
  const lines = text.split('\n');
  let section: Section | undefined;
  const body: Partial<Record<Section, { line: number; text: string }[]>> = {};
  const fail: Fail = (line, column, detail) => {
    throw new ParseError(TEST_LANG, line, column, detail, file);
  };
  let asmStart = 0;
  lines.forEach((rawLine, i) => {
    const lineNo = i + 1;
    let line = rawLine.replace(/\r$/, '');
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const trimmed = line.trim();
    if (trimmed.startsWith('--')) {
      const name = trimmed.slice(2).trim();
      if (!(SECTIONS as readonly string[]).includes(name)) {
        fail(lineNo, line.indexOf('--') + 1, `unknown section '-- ${name}': expected one of ${SECTIONS.map((s) => `-- ${s}`).join(', ')}`);
      }
      section = name as Section;
      if (body[section]) fail(lineNo, 1, `duplicate section '-- ${name}'`);
      body[section] = [];
      if (section === 'asm') asmStart = lineNo + 1;
      return;
    }
    if (section === undefined) {
      if (trimmed !== '') fail(lineNo, 1, 'text before the first section');
      return;
    }
    body[section]!.push({ line: lineNo, text: line });
  });

  const memory = hexBytes(body.mem ?? [], (l, c, d) => fail(l, c, d));
  let result: bigint | undefined;
  const resultLines = (body.result ?? []).filter((l) => l.text.trim() !== '');
  if (resultLines.length > 1) fail(resultLines[1]!.line, 1, '-- result holds more than one value');
  if (resultLines.length === 1) {
    const t = resultLines[0]!.text.trim();
    const lit = parseLiteral(t);
    if (!lit || lit.negative || lit.magnitude > 0xffffffffffffffffn) fail(resultLines[0]!.line, 1, `invalid result '${t}'`);
    result = lit.magnitude;
  }
  const error = body.error ? body.error.map((l) => l.text.trim()).filter((t) => t !== '').join('\n') : undefined;

  const lastLine = Math.max(1, text.endsWith('\n') ? lines.length - 1 : lines.length);
  let program: Uint8Array;
  let source: 'asm' | 'raw';
  const asm = body.asm ? body.asm.map((l) => l.text).join('\n') : undefined;
  if (body.raw && body.raw.some((l) => l.text.trim() !== '')) {
    program = rawProgram(body.raw, (l, c, d) => fail(l, c, d));
    source = 'raw';
  } else if (asm !== undefined) {
    const insns = parseUbpf(asm, { file, firstLine: asmStart });
    program = encode(insns, { strict: false });
    source = 'asm';
  } else {
    return fail(lastLine, 1, 'no program: the file has neither an -- asm nor a -- raw section');
  }
  if (program.byteLength === 0) fail(lastLine, 1, 'the program has no instructions');
  const out: UbpfTest = { program, source, memory };
  if (asm !== undefined) out.asm = asm;
  if (result !== undefined) out.result = result;
  if (error !== undefined) out.error = error;
  return out;
}

type Fail = (line: number, column: number, detail: string) => never;

function hexBytes(lines: { line: number; text: string }[], fail: Fail): Uint8Array {
  const out: number[] = [];
  for (const l of lines) {
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(l.text))) {
      if (!/^(0x)?[0-9a-f]{1,2}$/i.test(m[0])) fail(l.line, m.index + 1, `invalid byte '${m[0]}': expected two hex digits`);
      out.push(parseInt(m[0].replace(/^0x/i, ''), 16));
    }
  }
  return Uint8Array.from(out);
}

function rawProgram(lines: { line: number; text: string }[], fail: Fail): Uint8Array {
  const tokens: { line: number; column: number; text: string }[] = [];
  for (const l of lines) {
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(l.text))) tokens.push({ line: l.line, column: m.index + 1, text: m[0] });
  }
  if (tokens.every((t) => /^[0-9a-f]{2}$/i.test(t.text))) {
    if (tokens.length % 8 !== 0) {
      const last = tokens[tokens.length - 1]!;
      fail(last.line, last.column, `-- raw has ${tokens.length} bytes, not a multiple of 8`);
    }
    return Uint8Array.from(tokens.map((t) => parseInt(t.text, 16)));
  }
  const out = new Uint8Array(tokens.length * 8);
  const view = new DataView(out.buffer);
  tokens.forEach((t, i) => {
    const lit = parseLiteral(t.text);
    if (!lit || lit.negative || lit.magnitude > 0xffffffffffffffffn) {
      fail(t.line, t.column, `invalid instruction word '${t.text}': expected a 64-bit hex or decimal number`);
    }
    view.setBigUint64(i * 8, lit.magnitude, true);
  });
  return out;
}
