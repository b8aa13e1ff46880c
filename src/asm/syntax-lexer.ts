/**
 * Splits one line of LLVM BPF assembly into tokens: names, numbers and the operators of the
 * syntax (`+=`, `s>>=`, `*(`, ...). Comments (`;`, `#`, `//`) end the line.
 */
import { ParseError } from '../errors.js';

/**
 * One token of a line, with its 1-based column for error messages.
 *
 * @example
 * const t: Token = { kind: 'number', text: '0x10', column: 7, value: 16n };
 */
export interface Token {
  /** 'name' (registers, mnemonics, labels), 'number', 'punct' (operators) or 'end' of line. */
  kind: 'name' | 'number' | 'punct' | 'end';
  /** The token as written. */
  text: string;
  /** 1-based column of its first character. */
  column: number;
  /** The value of a number token (unsigned; signs are separate tokens). */
  value?: bigint;
}

// Longest first, so that `<<=` wins over `<` and `s>>=` over `s>`.
const OPERATORS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's>=', 's<=',
  '==', '!=', '>=', '<=', '+=', '-=', '*=', '/=', '|=', '&=', '%=', '^=', 's>', 's<',
  '>', '<', '=', '&', '+', '-', '*', '(', ')', '[', ']', ',', ':',
];

const NAME_START = /[A-Za-z_.$]/;
const NAME_PART = /[A-Za-z0-9_.$]/;

/**
 * Tokenizes one line; the last token is always `{ kind: 'end' }`. Throws a ParseError for a
 * character the syntax does not use or a malformed number.
 *
 * @example
 * tokenize('r1 += 0x10 # comment', 3).map((t) => t.text); // ['r1', '+=', '0x10', '']
 */
export function tokenize(line: string, lineNo: number, file?: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\v' || c === '\f') {
      i++;
      continue;
    }
    if (c === ';' || c === '#' || (c === '/' && line[i + 1] === '/')) break;
    const start = i;
    const op = operatorAt(line, i);
    if (op !== undefined) {
      tokens.push({ kind: 'punct', text: op, column: start + 1 });
      i += op.length;
    } else if (NAME_START.test(c)) {
      while (i < line.length && NAME_PART.test(line[i]!)) i++;
      tokens.push({ kind: 'name', text: line.slice(start, i), column: start + 1 });
    } else if (c >= '0' && c <= '9') {
      while (i < line.length && NAME_PART.test(line[i]!)) i++;
      const text = line.slice(start, i);
      if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text)) {
        throw new ParseError('asm', lineNo, start + 1, `malformed number '${text}' (expected decimal or 0x-prefixed hex)`, file);
      }
      tokens.push({ kind: 'number', text, column: start + 1, value: BigInt(text) });
    } else {
      const shown = JSON.stringify(String.fromCodePoint(line.codePointAt(i)!));
      throw new ParseError('asm', lineNo, start + 1, `unexpected character ${shown}`, file);
    }
  }
  tokens.push({ kind: 'end', text: '', column: line.length + 1 });
  return tokens;
}

/** The operator starting at `i`; `s>` and friends only when `s` is not part of a longer name. */
function operatorAt(line: string, i: number): string | undefined {
  if (line[i] === 's' && i > 0 && NAME_PART.test(line[i - 1]!)) return undefined;
  for (const op of OPERATORS) {
    if (line.startsWith(op, i)) return op;
  }
  return undefined;
}
