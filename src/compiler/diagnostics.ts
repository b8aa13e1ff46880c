/**
 * Compile errors at TypeScript source positions: file:line:column, a one-line message and a
 * one-line hint saying how to fix it. The compiler throws CompileError for the first error of
 * a function and collects them all in `diagnostics`.
 */
import { TsbpfError } from '../errors.js';

/** A source file with its line table, for turning offsets into positions. */
export class SourceFile {
  private readonly lineStarts: number[] = [0];
  constructor(
    readonly fileName: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of a UTF-16 offset (clamped to the text). */
  position(offset: number): { line: number; column: number } {
    const off = Math.max(0, Math.min(Number.isFinite(offset) ? offset : 0, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: off - this.lineStarts[lo]! + 1 };
  }

  /** The text of 1-based line `line`, without its newline. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return '';
    const end = this.lineStarts[line] ?? this.text.length + 1;
    return this.text.slice(start, end - 1).replace(/\r$/, '');
  }
}

/** How bad a diagnostic is. */
export type Severity = 'error' | 'warning';

/** One problem found in the source. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
  message: string;
  /** How to fix it, in one line. */
  hint: string;
  /** The source line, for display. */
  lineText: string;
}

/** Formats a diagnostic as `file:line:column: error: message` plus the line and the hint. */
export function formatDiagnostic(d: Diagnostic): string {
  const caret = `${' '.repeat(Math.max(0, d.column - 1))}^`;
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n  ${d.lineText}\n  ${caret}\n  hint: ${d.hint}`;
}

/**
 * The program is outside the dialect or wrong: an unsupported construct, a type error, a loop
 * without a bound, a stack over 512 bytes, a helper the program type may not call, a map value
 * used without a NULL check. `diagnostics` holds every error found (the message is the first).
 */
export class CompileError extends TsbpfError {
  override name = 'CompileError';
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The first error's message, without position. */
  readonly detail: string;
  readonly hint: string;
  constructor(readonly diagnostics: Diagnostic[]) {
    const first = diagnostics[0]!;
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more error${diagnostics.length > 2 ? 's' : ''})` : '';
    super(`${first.file}:${first.line}:${first.column}: ${first.message}${more}\n  hint: ${first.hint}`);
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.detail = first.message;
    this.hint = first.hint;
  }
}

/** A source range (UTF-16 offsets) a diagnostic points at. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Thrown inside the compiler to abandon the current function; the driver turns it into a
 * Diagnostic. Never escapes `compile`.
 */
export class Problem extends Error {
  constructor(
    readonly at: Span | undefined,
    readonly detail: string,
    readonly hint: string,
  ) {
    super(detail);
  }
}

/** Throws a Problem (for use in expressions). */
export function fail(at: Span | undefined, detail: string, hint: string): never {
  throw new Problem(at, detail, hint);
}

/** Collects diagnostics against one source file. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  constructor(readonly source: SourceFile) {}

  add(at: Span | undefined, message: string, hint: string, severity: Severity = 'error'): void {
    const { line, column } = this.source.position(at?.start ?? 0);
    this.list.push({ severity, file: this.source.fileName, line, column, message, hint, lineText: this.source.lineText(line) });
  }

  get errors(): Diagnostic[] {
    return this.list.filter((d) => d.severity === 'error');
  }
}
