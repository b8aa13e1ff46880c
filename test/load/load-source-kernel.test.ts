/**
 * load() of a TypeScript source with tsbpf's real compiler, in the kernel: the first load
 * compiles and caches, the second takes the object from the cache, and the program runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../../src/load.js';
import { compileSource } from '../../src/load-source.js';
import { kernelTest } from '../support/kernel.js';

const SOURCE = new URL('../../../testdata/diff/xdp_parse.bpf.ts', import.meta.url);

/** An IPv4 frame with TTL 64: the program routes it back (XDP_TX) with TTL 63. */
function ipv4Frame(): Uint8Array {
  const f = new Uint8Array(14 + 20);
  f.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, 0x45]);
  f[14 + 8] = 64;
  return f;
}

kernelTest('load(url of a .ts source) compiles with the real compiler, caches, and the program runs', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'tsbpf-load-kernel-'));
  try {
    {
      await using coll = await load(SOURCE, { cacheDir });
      const r = coll.programs.xdp_parse!.testRun({ data: ipv4Frame() });
      assert.equal(r.retval, 3, 'XDP_TX');
      assert.equal(r.dataOut![14 + 8], 63, 'TTL decremented');
    }
    const files = readdirSync(cacheDir);
    assert.equal(files.length, 1);
    const entry = join(cacheDir, files[0]!);
    const written = statSync(entry).mtimeMs;
    const again = await compileSource(SOURCE, { cacheDir });
    assert.equal(again.cached, true, 'the second load takes the cached object');
    {
      // A path string works the same, and the cached entry is not rewritten.
      await using coll = await load(SOURCE.pathname, { cacheDir });
      assert.equal(coll.programs.xdp_parse!.testRun({ data: ipv4Frame() }).retval, 3);
    }
    assert.equal(statSync(entry).mtimeMs, written);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
