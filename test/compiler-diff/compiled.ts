/**
 * The differential fixtures compiled from TypeScript by tsbpf's compiler, when it is there
 * (src/compiler/index.ts). Its absence is a reason to leave those cases out; a compile error is
 * a failure of the case.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readObject, type ObjectSpec } from '../../src/object/index.js';

interface CompilerApi {
  compile(source: string, options: { fileName: string }): { object: Uint8Array } | Promise<{ object: Uint8Array }>;
}

const COMPILER = new URL('../../src/compiler/index.js', import.meta.url);
let api: Promise<CompilerApi | string> | undefined;

/** The compiler's module, or why it is not available. */
export function compiler(): Promise<CompilerApi | string> {
  api ??= (async () => {
    if (!existsSync(COMPILER)) return 'the compiler (src/compiler/index.ts) is not there yet';
    try {
      const mod = (await import(COMPILER.href)) as Partial<CompilerApi>;
      return typeof mod.compile === 'function' ? (mod as CompilerApi) : 'src/compiler/index.ts exports no compile()';
    } catch (e) {
      return `importing the compiler failed: ${(e as Error).message}`;
    }
  })();
  return api;
}

/** The object compiled from `path`, `{ missing }` without a compiler, or `{ error }`. */
export async function compiledFixture(path: string): Promise<{ spec: ObjectSpec; object: Uint8Array } | { missing: string } | { error: unknown }> {
  const c = await compiler();
  if (typeof c === 'string') return { missing: c };
  try {
    const { object } = await c.compile(readFileSync(path, 'utf8'), { fileName: path });
    return { spec: readObject(object), object };
  } catch (error) {
    return { error };
  }
}
