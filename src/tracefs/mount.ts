/**
 * Where tracefs lives, and reading its files. tracefs is usually at /sys/kernel/tracing (or
 * under debugfs on older systems); a fresh machine may not have it mounted at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NotSupportedError } from '../errors.js';
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

/** Where tracefs is mounted on current systems. */
export const TRACEFS_MOUNTPOINT = '/sys/kernel/tracing';

/**
 * The tracefs directory, mounting tracefs at /sys/kernel/tracing first when nothing is mounted
 * and this process is root (a fresh machine may not have it). Throws a NotSupportedError that
 * says how to mount it otherwise.
 *
 * @example
 * const events = join(ensureTracefs(), 'events'); // '/sys/kernel/tracing/events'
 */
export function ensureTracefs(): string {
  const root = tracefsRoot();
  if (root) return root;
  const how = `mount it with "mount -t tracefs nodev ${TRACEFS_MOUNTPOINT}" (as root)`;
  if (!existsSync(TRACEFS_MOUNTPOINT)) throw new NotSupportedError('tracefs', `${TRACEFS_MOUNTPOINT} does not exist: this kernel was built without tracing support (CONFIG_TRACING)`);
  if (process.geteuid?.() !== 0) throw new NotSupportedError('tracefs', `tracefs is not mounted and this process is not root: ${how}`);
  try {
    // Required here, not imported: mounting is rare, and node:child_process (with net and dgram
    // behind it) is a few milliseconds of `tsbpf build`'s start-up otherwise.
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_MOUNTPOINT], { stdio: 'pipe' });
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new NotSupportedError('tracefs', `tracefs is not mounted and mounting it failed (${detail}): ${how}`);
  }
  const mounted = tracefsRoot();
  if (!mounted) throw new NotSupportedError('tracefs', `mounted tracefs but ${TRACEFS_MOUNTPOINT}/events is missing: ${how}`);
  return mounted;
}
