/**
 * A cursor over the tokens of one line with the operand readers every statement uses:
 * registers, numbers with range checks, typed memory operands, branch targets. Every failure
 * is a ParseError that says what was expected at which column.
 */
import { ParseError } from '../errors.js';
import { REGISTER_COUNT } from './opcodes.js';
import type { Token } from './syntax-lexer.js';

/**
 * A register operand: its number and whether it was written as a 32-bit `w` register.
 *
 * @example
 * new Cursor(tokenize('w3', 1), 1).register(); // { n: 3, w: true, token: ... }
 */
export interface Register {
  n: number;
  w: boolean;
  token: Token;
}

/**
 * `(u32 *)(r1 - 8)`: access width, signedness, base register and offset.
 *
 * @example
 * new Cursor(tokenize('(s16 *)(r1 - 8)', 1), 1).typedMemory(); // { bits: 16, signed: true, base: 1, off: -8, ... }
 */
export interface TypedMemory {
  bits: 8 | 16 | 32 | 64;
  signed: boolean;
  base: number;
  off: number;
  typeToken: Token;
}

/**
 * A branch target: a relative distance in slots, or a label to resolve later.
 *
 * @example
 * new Cursor(tokenize('-3', 1), 1).target(); // { distance: -3n, token: ... }
 * new Cursor(tokenize('LBB0_2', 1), 1).target(); // { label: 'LBB0_2', token: ... }
 */
export type Target = { distance: bigint; token: Token } | { label: string; token: Token };

const TYPES: ReadonlyMap<string, { bits: 8 | 16 | 32 | 64; signed: boolean }> = new Map([
  ['u8', { bits: 8, signed: false }],
  ['u16', { bits: 16, signed: false }],
  ['u32', { bits: 32, signed: false }],
  ['u64', { bits: 64, signed: false }],
  ['s8', { bits: 8, signed: true }],
  ['s16', { bits: 16, signed: true }],
  ['s32', { bits: 32, signed: true }],
]);

/** Register-like names (`r11`, `w99`) are reported as bad registers, never taken as labels. */
const REGISTER_LIKE = /^[rw][0-9]+$/i;

/**
 * Reads the tokens of one line left to right.
 *
 * @example
 * const c = new Cursor(tokenize('r1 += 5', 1), 1);
 * c.register(); // { n: 1, w: false, ... }
 * c.punct('+=');
 * c.signed();   // { value: 5n, ... }
 */
export class Cursor {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    /** 1-based line number, for errors. */
    readonly line: number,
    /** File name, for errors. */
    readonly file?: string,
  ) {}

  /** The token `ahead` positions on, without consuming it (the end token repeats). */
  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  /** Consumes and returns the next token. */
  next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.pos++;
    return token;
  }

  /** True when the next token is this operator or (case-insensitive) name. */
  at(text: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === 'punct' ? token.text === text : token.kind === 'name' && token.text.toLowerCase() === text;
  }

  /** Consumes the next token if it is this operator or name. */
  accept(text: string): boolean {
    if (!this.at(text)) return false;
    this.pos++;
    return true;
  }

  /** Consumes this operator or name, or fails saying it was expected. */
  punct(text: string): Token {
    if (!this.at(text)) this.fail(this.peek(), `expected '${text}'`);
    return this.next();
  }

  /** Fails unless the line is finished. */
  end(): void {
    const token = this.peek();
    if (token.kind !== 'end') this.fail(token, 'expected end of line after the instruction');
  }

  /** Throws a ParseError at `token`: "<detail>, found '<token>'". */
  fail(token: Token, detail: string): never {
    const found = token.kind === 'end' ? 'end of line' : `'${token.text}'`;
    throw new ParseError('asm', this.line, token.column, `${detail}, found ${found}`, this.file);
  }

  /** Throws a ParseError at `token` with exactly this detail. */
  error(token: Token, detail: string): never {
    throw new ParseError('asm', this.line, token.column, detail, this.file);
  }

  /** True when the next token is a register name, valid or not (`r3`, `w12`). */
  atRegister(ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === 'name' && REGISTER_LIKE.test(token.text);
  }

  /** Reads `r0`-`r10` or `w0`-`w10`; `width` restricts which. */
  register(width: 'r' | 'w' | 'any' = 'any'): Register {
    const token = this.peek();
    const what = width === 'r' ? 'a 64-bit register r0-r10' : width === 'w' ? 'a 32-bit register w0-w10' : 'a register';
    if (token.kind !== 'name' || !REGISTER_LIKE.test(token.text)) this.fail(token, `expected ${what}`);
    const n = Number(token.text.slice(1));
    if (!/^(10|[0-9])$/.test(token.text.slice(1)) || n >= REGISTER_COUNT) {
      this.error(token, `invalid register '${token.text}' (BPF has r0-r10 and w0-w10)`);
    }
    const w = token.text[0] === 'w' || token.text[0] === 'W';
    if ((width === 'r' && w) || (width === 'w' && !w)) this.fail(token, `expected ${what}`);
    this.pos++;
    return { n, w, token };
  }

  /** Reads a register of the same width as `like` (`w` with `w`, `r` with `r`). */
  sameWidth(like: Register): Register {
    return this.register(like.w ? 'w' : 'r');
  }

  /** Reads the same register again, as in `r1 = -r1` or `w2 = atomic_fetch_add(..., w2)`. */
  same(like: Register, why: string): Register {
    const reg = this.register(like.w ? 'w' : 'r');
    if (reg.n !== like.n) this.error(reg.token, `expected ${like.token.text} again: ${why}`);
    return reg;
  }

  /** Reads a number with an optional sign: `5`, `-0x10`, `+3`. */
  signed(): { value: bigint; token: Token } {
    const first = this.peek();
    let sign = 1n;
    if (this.accept('-')) sign = -1n;
    else this.accept('+');
    const token = this.peek();
    if (token.kind !== 'number') this.fail(token, 'expected a number');
    this.pos++;
    return { value: sign * token.value!, token: first };
  }

  /** True when the next tokens start a number (`5`, `-5`, `+0x5`). */
  atNumber(ahead = 0): boolean {
    const token = this.peek(ahead);
    if (token.kind === 'number') return true;
    return (this.at('-', ahead) || this.at('+', ahead)) && this.peek(ahead + 1).kind === 'number';
  }

  /** Reads a 32-bit immediate, accepting -2^31 to 2^32-1 as LLVM does; returns it signed. */
  imm32(what = 'immediate'): number {
    const { value, token } = this.signed();
    return this.fit32(value, token, what);
  }

  /** Checks a value fits 32 bits (signed or unsigned) and returns it as signed. */
  fit32(value: bigint, token: Token, what = 'immediate'): number {
    if (value < -(1n << 31n) || value >= 1n << 32n) this.error(token, `${what} ${value} does not fit in 32 bits`);
    return Number(BigInt.asIntN(32, value));
  }

  /** Checks a value fits a signed 32-bit field (a jump distance, a relative call). */
  fitSigned32(value: bigint, token: Token, what: string): number {
    if (value < -(1n << 31n) || value >= 1n << 31n) this.error(token, `${what} ${value} does not fit in a signed 32-bit field`);
    return Number(value);
  }

  /** Checks a value fits a signed 16-bit offset. */
  fit16(value: bigint, token: Token, what = 'offset'): number {
    if (value < -0x8000n || value > 0x7fffn) this.error(token, `${what} ${value} does not fit in a signed 16-bit field`);
    return Number(value);
  }

  /** Reads `r1 + 8` or `r10 - 0x10` (no parentheses): a base register and a 16-bit offset. */
  address(): { base: number; off: number } {
    const base = this.register('r').n;
    const signToken = this.peek();
    let sign: bigint;
    if (this.accept('+')) sign = 1n;
    else if (this.accept('-')) sign = -1n;
    else this.fail(signToken, "expected '+' or '-' and an offset");
    const { value, token } = this.unsigned('an offset');
    return { base, off: this.fit16(sign * value, token) };
  }

  /** Reads a number without a sign, as after the `+`/`-` of `r1 + 8`. */
  unsigned(what: string): { value: bigint; token: Token } {
    const token = this.peek();
    if (token.kind !== 'number') this.fail(token, `expected ${what}`);
    this.pos++;
    return { value: token.value!, token };
  }

  /** Reads a pointer type in parentheses: `(u32 *)`. */
  pointerType(): { bits: 8 | 16 | 32 | 64; signed: boolean; typeToken: Token } {
    this.punct('(');
    const typeToken = this.peek();
    const type = typeToken.kind === 'name' ? TYPES.get(typeToken.text.toLowerCase()) : undefined;
    if (!type) this.fail(typeToken, 'expected a type: u8, u16, u32, u64, s8, s16 or s32');
    this.pos++;
    this.punct('*');
    this.punct(')');
    return { ...type, typeToken };
  }

  /** Reads `(u32 *)(r1 - 8)`. */
  typedMemory(): TypedMemory {
    const type = this.pointerType();
    this.punct('(');
    const { base, off } = this.address();
    this.punct(')');
    return { ...type, base, off };
  }

  /** Reads a branch target: `+3`, `-2`, `5` or a label name. */
  target(): Target {
    const token = this.peek();
    if (this.atNumber()) {
      const { value } = this.signed();
      return { distance: value, token };
    }
    if (token.kind === 'name' && !REGISTER_LIKE.test(token.text)) {
      this.pos++;
      return { label: token.text, token };
    }
    this.fail(token, 'expected a jump target: +N, -N or a label');
  }
}

/**
 * True for names that cannot be labels because they read as registers, valid or not.
 *
 * @example
 * isRegisterName('r11'); // true
 * isRegisterName('LBB0_2'); // false
 */
export function isRegisterName(name: string): boolean {
  return REGISTER_LIKE.test(name);
}
