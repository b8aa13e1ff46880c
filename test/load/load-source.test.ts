/**
 * Compiling TypeScript sources for load(): the on-disk cache, with a stand-in compiler that
 * counts its compilations (root-less; the kernel test with the real compiler is in
 * load-source-kernel.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cacheKey, compileSource, defaultCacheDir, isTypeScriptSource, type SourceCompiler } from '../../src/load-source.js';

/** A clang-built object the stand-in hands back (any valid object will do). */
const OBJECT = new Uint8Array(readFileSync('testdata/diff/xdp_parse.bpf.o'));

class CountingCompiler implements SourceCompiler {
  count = 0;
  constructor(
    readonly version = 'stub 1',
    private readonly delayMs = 0,
  ) {}
  async compile(source: string): Promise<{ object: Uint8Array }> {
    this.count++;
    if (source.includes('syntax error')) throw new StubCompileError('x.bpf.ts:1:1: syntax error');
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return { object: OBJECT.slice() };
  }
}

class StubCompileError extends Error {
  override name = 'CompileError';
}

function scratch(): { dir: string; cache: string; source: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-load-source-'));
  const source = join(dir, 'prog.bpf.ts');
  writeFileSync(source, "export const x = 1; // a kernel program\n");
  return { dir, cache: join(dir, 'cache'), source, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const entries = (dir: string): string[] => readdirSync(dir).sort();

test('a second compile of the same source comes from the cache without calling the compiler', async () => {
  using s = scratch();
  const compiler = new CountingCompiler();
  const first = await compileSource(s.source, { compiler, cacheDir: s.cache });
  assert.equal(first.cached, false);
  assert.equal(compiler.count, 1);
  assert.ok(first.cachePath && statSync(first.cachePath).isFile());
  const second = await compileSource(pathToFileURL(s.source), { compiler, cacheDir: s.cache });
  assert.equal(second.cached, true);
  assert.equal(compiler.count, 1, 'the compiler was not called again');
  assert.deepEqual(second.object, first.object);
  assert.deepEqual(second.spec.programs.map((p) => p.name), ['xdp_parse']);
  assert.deepEqual(entries(s.cache), [`${cacheKey(readFileSync(s.source, 'utf8'), 'prog.bpf.ts', compiler)}.o`]);
});

test('changing the source compiles again; going back finds the old entry', async () => {
  using s = scratch();
  const compiler = new CountingCompiler();
  await compileSource(s.source, { compiler, cacheDir: s.cache });
  const original = readFileSync(s.source, 'utf8');
  writeFileSync(s.source, `${original}// changed\n`);
  assert.equal((await compileSource(s.source, { compiler, cacheDir: s.cache })).cached, false);
  assert.equal(compiler.count, 2);
  writeFileSync(s.source, original);
  assert.equal((await compileSource(s.source, { compiler, cacheDir: s.cache })).cached, true);
  assert.equal(compiler.count, 2);
  assert.equal(entries(s.cache).length, 2);
});

test('a new compiler version, other compile options or another kernel BTF invalidate the entry', async () => {
  using s = scratch();
  const v1 = new CountingCompiler('stub 1');
  const v2 = new CountingCompiler('stub 2');
  await compileSource(s.source, { compiler: v1, cacheDir: s.cache });
  assert.equal((await compileSource(s.source, { compiler: v2, cacheDir: s.cache })).cached, false);
  assert.equal(v2.count, 1);
  assert.equal((await compileSource(s.source, { compiler: v1, cacheDir: s.cache })).cached, true);
  const btf = new Uint8Array([1, 2, 3]);
  assert.equal((await compileSource(s.source, { compiler: v1, cacheDir: s.cache, compileOptions: { kernelBtf: btf } })).cached, false);
  assert.equal((await compileSource(s.source, { compiler: v1, cacheDir: s.cache, compileOptions: { kernelBtf: btf } })).cached, true);
  assert.equal((await compileSource(s.source, { compiler: v1, cacheDir: s.cache, compileOptions: { kernelBtf: new Uint8Array([1, 2, 4]) } })).cached, false);
  assert.equal(v1.count, 3);
  assert.notEqual(cacheKey('x', 'a.ts', v1), cacheKey('x', 'b.ts', v1), 'the file name is in the line info, so in the key');
});

test('concurrent loads of one source in this process agree and leave one complete entry', async () => {
  using s = scratch();
  const compiler = new CountingCompiler('stub 1', 20);
  const results = await Promise.all(Array.from({ length: 8 }, () => compileSource(s.source, { compiler, cacheDir: s.cache })));
  for (const r of results) assert.deepEqual(r.object, OBJECT);
  const files = entries(s.cache);
  assert.equal(files.length, 1, `one entry, no temporary files: ${files.join(', ')}`);
  assert.deepEqual(new Uint8Array(readFileSync(join(s.cache, files[0]!))), OBJECT);
  assert.equal((await compileSource(s.source, { compiler, cacheDir: s.cache })).cached, true);
});

test('concurrent loads of one source from several processes never expose a partial entry', async () => {
  using s = scratch();
  // Each child compiles with a stand-in that returns a large object (4 MiB of padding after a
  // valid ELF, so a torn write would still parse) after a random delay, so the processes'
  // writes and reads overlap; every object read back from the cache must be the whole one.
  const child = `
    import { compileSource } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist/src/load-source.js')).href)};
    import { readFileSync } from 'node:fs';
    const elf = readFileSync('testdata/diff/xdp_parse.bpf.o');
    const object = new Uint8Array(Buffer.concat([elf, Buffer.alloc(4 << 20, 0x5a)]));
    const compiler = { version: 'stub multi', compile: async () => { await new Promise((r) => setTimeout(r, 10 + Math.random() * 30)); return { object }; } };
    for (let i = 0; i < 20; i++) {
      const r = await compileSource(${JSON.stringify(s.source)}, { compiler, cacheDir: ${JSON.stringify(s.cache)} });
      if (Buffer.compare(Buffer.from(r.object), Buffer.from(object)) !== 0) { console.error('partial object'); process.exit(2); }
    }`;
  const codes = await Promise.all(
    Array.from({ length: 6 }, () => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      return new Promise<string>((resolve) => p.on('exit', (code) => resolve(`${code}${err ? `: ${err}` : ''}`)));
    }),
  );
  assert.deepEqual(codes, Array(6).fill('0'));
  const files = entries(s.cache);
  assert.equal(files.length, 1, `one entry, no temporary files: ${files.join(', ')}`);
  assert.equal(statSync(join(s.cache, files[0]!)).size, OBJECT.length + (4 << 20));
});

test('an unwritable cache is skipped: every load compiles, and says why', async () => {
  using s = scratch();
  // A regular file where the cache directory should be: mkdir fails even for root.
  const blocker = join(s.dir, 'not-a-dir');
  writeFileSync(blocker, '');
  const compiler = new CountingCompiler();
  for (let i = 1; i <= 2; i++) {
    const r = await compileSource(s.source, { compiler, cacheDir: join(blocker, 'tsbpf') });
    assert.equal(r.cached, false);
    assert.equal(r.cachePath, undefined);
    assert.match(r.cacheProblem ?? '', /not writable/);
    assert.deepEqual(r.object, OBJECT);
    assert.equal(compiler.count, i);
  }
});

test('cacheDir: false compiles every time and writes nothing', async () => {
  using s = scratch();
  const compiler = new CountingCompiler();
  await compileSource(s.source, { compiler, cacheDir: false });
  await compileSource(s.source, { compiler, cacheDir: false });
  assert.equal(compiler.count, 2);
  assert.deepEqual(entries(s.dir), ['prog.bpf.ts']);
});

test('a damaged entry is compiled again and replaced', async () => {
  using s = scratch();
  const compiler = new CountingCompiler();
  const { cachePath } = await compileSource(s.source, { compiler, cacheDir: s.cache });
  writeFileSync(cachePath!, 'not an ELF object');
  const again = await compileSource(s.source, { compiler, cacheDir: s.cache });
  assert.equal(again.cached, false);
  assert.equal(compiler.count, 2);
  assert.deepEqual(new Uint8Array(readFileSync(cachePath!)), OBJECT);
});

test("a compile error is the compiler's own error, and nothing is cached", async () => {
  using s = scratch();
  writeFileSync(s.source, 'syntax error here');
  const compiler = new CountingCompiler();
  await assert.rejects(compileSource(s.source, { compiler, cacheDir: s.cache }), StubCompileError);
  assert.throws(() => entries(s.cache), /ENOENT/);
});

test("tsbpf's compiler: a wrong program is a CompileError with file:line:column and a hint", async () => {
  using s = scratch();
  writeFileSync(s.source, "import { xdp } from 'tsbpf/lang';\nexport const p = xdp((ctx) => { while (true) {} });\n");
  const { CompileError } = await import('../../src/compiler/index.js');
  await assert.rejects(compileSource(s.source, { cacheDir: s.cache }), (e: unknown) => {
    assert.ok(e instanceof CompileError, String(e));
    assert.equal(e.file, 'prog.bpf.ts');
    assert.equal(e.line, 2);
    assert.ok(e.hint.length > 0);
    return true;
  });
});

test('the default cache directory: TSBPF_CACHE_DIR, then XDG_CACHE_HOME/tsbpf, then ~/.cache/tsbpf', () => {
  assert.equal(defaultCacheDir({ TSBPF_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c');
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/tsbpf');
  assert.match(defaultCacheDir({}), /\.cache\/tsbpf$/);
  assert.ok(isTypeScriptSource('a/exec.bpf.ts') && isTypeScriptSource('x.mts'));
  assert.ok(!isTypeScriptSource('exec.bpf.o') && !isTypeScriptSource('types.d.ts'));
});

test('load() of an object never imports the compiler (its static imports do not reach it)', () => {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) visit(join(file, '..', m[1]!));
  };
  visit('dist/src/load.js');
  const reached = [...seen].filter((f) => /\/(compiler|lang)\//.test(f) || f.endsWith('load-source.js'));
  assert.deepEqual(reached, []);
  assert.ok(seen.size > 10, `walked ${seen.size} modules`);
});
