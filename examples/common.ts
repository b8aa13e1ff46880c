/**
 * What the examples share: `--duration SECONDS` (stop by itself) and Ctrl-C handling through one
 * AbortSignal, and finding an example's compiled kernel program next to its source.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

/** The parsed command line: `--duration SECONDS` plus the example's own string options. */
export interface ExampleArgs {
  duration: number | undefined;
  values: Record<string, string | undefined>;
}

/** Parses `--duration` and the named string options (`--syscall 110`). */
export function exampleArgs(options: readonly string[] = []): ExampleArgs {
  const config: Record<string, { type: 'string'; short?: string }> = { duration: { type: 'string', short: 'd' } };
  for (const o of options) config[o] = { type: 'string' };
  const values = parseArgs({ options: config }).values as Record<string, string | undefined>;
  const text = values.duration;
  const duration = text === undefined ? undefined : Number(text);
  if (duration !== undefined && !(duration > 0)) throw new Error(`--duration must be a positive number of seconds (is '${text}')`);
  return { duration, values };
}

/**
 * A signal that aborts after `duration` seconds (if given) or on Ctrl-C / SIGTERM, whichever
 * comes first. Installing the handlers keeps the process in charge of its exit: links are still
 * detached when the example closes them or exits.
 */
export function stopSignal(duration: number | undefined): AbortSignal {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A timer keeps the process alive until the end (signal handlers alone do not).
  const timer = duration !== undefined ? setTimeout(stop, duration * 1000) : setInterval(() => {}, 1 << 30);
  controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return controller.signal;
}

/** Path of `file` in the example's source folder (the .bpf.o lives beside the .ts). */
export function besideSource(metaUrl: string, file: string): string {
  const here = dirname(fileURLToPath(metaUrl));
  return join(here.replace(`${join('dist', 'examples')}`, 'examples'), file);
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** Prints counts sorted, largest first, as bpftrace prints a map: `@[bash]: 1234`. */
export function printCounts(entries: Iterable<[string, bigint]>, top: number): void {
  const rows = [...entries].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  console.log();
  for (const [key, n] of rows.slice(0, top)) console.log(`@[${key}]: ${n}`);
}
