/**
 * Tracepoint formats: the `format` file tracefs publishes for every event
 * (events/<category>/<name>/format), which gives the layout of the context a tracepoint
 * program receives.
 */
import { ParseError } from '../errors.js';

/** One field of a tracepoint's record. */
export interface TracepointField {
  name: string;
  /** The C type as the kernel prints it, e.g. 'const char *' or 'char[16]'. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** One of the common_* fields every event starts with. */
  common: boolean;
  /** Element count for array fields (`char comm[16]`), 0 otherwise. */
  arrayLength: number;
}

/** A parsed format file. */
export interface TracepointFormat {
  name: string;
  /** The event id (what perf_event_open's config takes for PERF_TYPE_TRACEPOINT). */
  id: number;
  fields: TracepointField[];
  /** The `print fmt:` line, as the kernel's formatter uses it. */
  printFormat: string;
}

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/**
 * Parses a tracefs format file.
 *
 * @example
 * parseTracepointFormat(readFileSync('/sys/kernel/tracing/events/syscalls/sys_enter_execve/format', 'utf8'))
 *   .fields.find((f) => f.name === 'filename'); // { type: 'const char *', offset: 16, size: 8, ... }
 */
export function parseTracepointFormat(text: string, file = 'format'): TracepointFormat {
  const lines = text.split('\n');
  let name = '';
  let id = -1;
  let printFormat = '';
  const fields: TracepointField[] = [];
  let inCommon = true;
  lines.forEach((line, i) => {
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) id = Number(line.slice(4));
    else if (line.startsWith('print fmt: ')) printFormat = line.slice(11);
    else if (line.trim() === '' && fields.length > 0) inCommon = false;
    else if (line.includes('field:')) {
      const m = FIELD.exec(line);
      if (!m) throw new ParseError('tracepoint format', i + 1, 1, `expected 'field:TYPE NAME; offset:N; size:N; signed:N;'`, file);
      fields.push({ ...declaration(m[1]!.trim()), offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1', common: inCommon });
    }
  });
  if (!Number.isInteger(id) || id < 0) throw new ParseError('tracepoint format', 1, 1, "missing 'ID:' line", file);
  return { name, id, fields, printFormat };
}

/** Splits `const char * filename` or `char comm[16]` into name, type and array length. */
function declaration(decl: string): { name: string; type: string; arrayLength: number } {
  const array = /^(.*?)\s*([A-Za-z_]\w*)\s*\[(\d*)\]$/.exec(decl);
  if (array) return { name: array[2]!, type: `${array[1]!.trim()}[${array[3]}]`, arrayLength: Number(array[3] || 0) };
  const plain = /^(.*?)\s*([A-Za-z_]\w*)$/.exec(decl);
  if (plain) return { name: plain[2]!, type: plain[1]!.trim(), arrayLength: 0 };
  return { name: decl, type: '', arrayLength: 0 };
}
