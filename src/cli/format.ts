/**
 * Output helpers every CLI subcommand shares: JSON the way bpftool writes it, tables, `key
 * value` detail blocks, one-line values, ids from the command line, and what /proc adds to the
 * kernel's info structs. It imports no library module (types aside), so it costs a subcommand
 * nothing to load.
 */
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import type { BtfValue } from '../kernel/codec-btf.js';

/**
 * JSON text where bigints are written as plain numbers (u64 counters, addresses; exact, as
 * bpftool writes them), raw bytes as arrays of "0x.." strings like bpftool's, and arrays of
 * plain values on one line.
 */
export function toJson(value: unknown, indent = ''): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return toJson(Array.from(value, (b) => `0x${b.toString(16).padStart(2, '0')}`), indent);
  if (value === undefined || value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => toJson(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + toJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** Options of {@link table}. */
export interface TableOptions {
  /** Columns aligned to the right (numbers), by index; the last column is never padded. */
  right?: readonly number[];
}

/** Columns separated by two spaces, left-aligned unless `options.right` says otherwise. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const right = new Set(options.right ?? []);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** One object's details, a `key  value` line each with the keys padded to one width. */
export function details(lines: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

/** A value on one line: {pid: 1, comm: "bash"}, [1, 2], 123, "text", 01 02 03. */
export function formatValue(v: BtfValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}: ${formatValue(x)}`)
    .join(', ')}}`;
}

/** Bytes as hex pairs separated by spaces, as bpftool prints keys and values. */
export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/**
 * An object id from the command line. `what` names the kind ('map', 'program') and `list`
 * the subcommand that lists the ids ('map list').
 */
export function parseId(text: string, what: string, list: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id <= 0) throw new TsbpfError(`not a ${what} id: '${text}' (ids are positive integers; see "tsbpf ${list}")`);
  return id;
}

/** What /proc/self/fdinfo adds to the info structs of a BPF object fd: memlock, and frozen for maps. */
export function fdinfo(fd: number): { memlock?: number; frozen?: boolean } {
  try {
    const text = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    const memlock = /^memlock:\s*(\d+)/m.exec(text)?.[1];
    const frozen = /^frozen:\s*(\d+)/m.exec(text)?.[1];
    return { memlock: memlock === undefined ? undefined : Number(memlock), frozen: frozen === undefined ? undefined : frozen !== '0' };
  } catch {
    return {};
  }
}
