/**
 * Where tracefs lives, and reading its files. tracefs is usually at /sys/kernel/tracing (or
 * under debugfs on older systems); a fresh machine may not have it mounted at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTracepointFormat, type TracepointFormat } from './format.js';

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** The mounted tracefs directory, or undefined when none is mounted. */
export function tracefsRoot(): string | undefined {
  return CANDIDATES.find((dir) => existsSync(join(dir, 'events')));
}

/**
 * The format of tracepoint `category/name`, or undefined when tracefs is not mounted or the
 * tracepoint does not exist.
 */
export function readTracepointFormat(category: string, name: string): TracepointFormat | undefined {
  const root = tracefsRoot();
  if (!root || category.includes('..') || name.includes('..')) return undefined;
  const path = join(root, 'events', category, name, 'format');
  if (!existsSync(path)) return undefined;
  return parseTracepointFormat(readFileSync(path, 'utf8'), path);
}
