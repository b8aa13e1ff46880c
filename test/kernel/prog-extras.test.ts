// Program extras on live programs: test runs, bpf_prog_info, translated instructions, ids, pins,
// and the `tsbpf prog` commands, checked against bpftool.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { formatInstruction, slotCount } from '../../src/asm/index.js';
import { NotSupportedError } from '../../src/errors.js';
import { mapInfoBasics } from '../../src/kernel/map-info.js';
import { enableStats } from '../../src/kernel/prog-info.js';
import { Program } from '../../src/kernel/program.js';
import { load } from '../../src/load.js';
import { kernelTest } from '../support/kernel.js';

/** The built CLI next to this test's build (dist/src/cli/main.js). */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const bpftool = (args: string[]): unknown => JSON.parse(execFileSync('bpftool', ['-j', ...args]).toString());
const cli = (args: string[]): string => execFileSync('node', [CLI, ...args]).toString();

kernelTest('testRun: return value, output packet and context, repeat; unsupported types are NotSupportedError', async () => {
  await using c = await load('testdata/loader/globals.bpf.o');
  const prog = c.programs.xdp_verdict!;
  const data = Uint8Array.from({ length: 60 }, (_, i) => i);
  const r = prog.testRun({ data, repeat: 10 });
  assert.equal(r.retval, 2);
  assert.deepEqual(r.dataOut, data, 'XDP_PASS leaves the packet as it was');
  assert.equal(c.variables.hits!.get(), 10n, 'ran ten times');
  assert.ok(r.duration >= 0);
  const ctx = new Uint8Array(24); // struct xdp_md
  const withCtx = prog.testRun({ data, ctx });
  assert.equal(withCtx.ctxOut?.byteLength, 24);
  await using t = await load('testdata/objdump/atomics.bpf.o');
  assert.throws(() => t.programs.atomics!.testRun({ data }), NotSupportedError, 'a tracepoint program cannot be test-run');
});

kernelTest('info(): id, name, type, tag, maps and BTF agree with bpftool; run statistics while enabled', async () => {
  await using c = await load('testdata/loader/globals.bpf.o');
  const prog = c.programs.xdp_verdict!;
  const info = prog.info();
  const shown = bpftool(['prog', 'show', 'id', String(info.id)]) as { id: number; type: string; name: string; tag: string; map_ids: number[]; btf_id: number; bytes_xlated: number; bytes_jited: number; uid: number };
  assert.equal(shown.name, 'xdp_verdict');
  assert.equal(info.type, 'XDP');
  assert.equal(shown.type, 'xdp');
  assert.equal(info.tag, shown.tag);
  assert.equal(info.xlatedSize, shown.bytes_xlated);
  assert.equal(info.jitedSize, shown.bytes_jited);
  assert.equal(info.btfId, shown.btf_id);
  assert.deepEqual([...info.mapIds].sort(), [...shown.map_ids].sort());
  const mapIds = ['.rodata', '.data', '.bss'].map((n) => mapInfoBasics(c.maps[n]!.fd.value).id).sort();
  assert.deepEqual([...info.mapIds].sort(), mapIds);
  assert.ok(Math.abs(info.loadedAt.getTime() - Date.now()) < 60_000, 'loaded within the last minute');
  {
    using stats = enableStats();
    assert.ok(stats.value > 0);
    prog.testRun({ data: new Uint8Array(64), repeat: 5 });
  }
  const after = prog.info();
  assert.ok(after.runCount >= 5n, `run_cnt ${after.runCount}`);
  assert.ok(after.runTimeNs > 0n);
});

kernelTest('xlated(): the kernel\'s instructions decode and print in LLVM syntax; debug info names functions and lines', async () => {
  await using c = await load('testdata/objdump/subprogs.bpf.o');
  for (const prog of Object.values(c.programs)) {
    const insns = prog.xlated();
    const slots = insns.reduce((n, i) => n + slotCount(i), 0);
    assert.equal(slots * 8, prog.info().xlatedSize);
    const text = insns.map((i) => formatInstruction(i, { llvm: 19, lenient: true }));
    assert.ok(text.every((l) => l.length > 0));
    assert.equal(text[text.length - 1], 'exit');
    const debug = prog.debugInfo()!;
    assert.ok(debug.funcs.length >= 1);
    assert.equal(debug.funcs[0]!.name, prog.name);
    assert.ok(debug.lines.length > 0 && debug.lines.every((l) => l.fileName.endsWith('subprogs.bpf.c')));
    // bpftool -j lists one object per instruction, with `proto` where a function starts
    const dumped = bpftool(['prog', 'dump', 'xlated', 'id', String(prog.info().id)]) as Array<{ proto?: string; disasm: string }>;
    assert.equal(dumped.length, insns.length, 'bpftool sees as many instructions');
    assert.equal(dumped.filter((d) => d.proto).length, debug.funcs.length, 'and as many functions');
  }
});

kernelTest('ids, fromId, pin and fromPin', async () => {
  await using c = await load('testdata/loader/tailcall.bpf.o');
  const entry = c.programs.entry!;
  const id = entry.info().id;
  assert.ok(Program.ids().includes(id));
  {
    using again = Program.fromId(id);
    assert.equal(again.name, 'entry');
    assert.equal(again.type, 'SOCKET_FILTER');
    assert.equal(again.testRun({ data: new Uint8Array(64) }).retval, 11);
  }
  const path = `/sys/fs/bpf/tsbpf-prog-${process.pid}`;
  try {
    entry.pin(path);
    assert.equal(entry.pinnedPath, path);
    assert.equal((bpftool(['prog', 'show', 'pinned', path]) as { id: number }).id, id);
    using pinned = Program.fromPin(path);
    assert.equal(pinned.info().id, id);
    assert.equal(pinned.unpin(), true);
    assert.ok(!existsSync(path));
  } finally {
    rmSync(path, { force: true });
  }
});

kernelTest('tsbpf prog list / show / dump xlated, tables and --json', async () => {
  await using c = await load('testdata/loader/globals.bpf.o');
  const id = c.programs.xdp_verdict!.info().id;
  const list = cli(['prog', 'list']);
  assert.match(list, /^ID\s+TYPE\s+NAME\s+TAG\s+LOADED_AT\s+UID\s+XLATED\s+JITED\s+MAP_IDS/);
  assert.match(list, new RegExp(`^${id}\\s+xdp\\s+xdp_verdict\\s+[0-9a-f]{16}`, 'm'));
  const rows = JSON.parse(cli(['prog', 'list', '--json'])) as Array<{ id: number; name: string; mapIds: number[] }>;
  const row = rows.find((r) => r.id === id)!;
  assert.equal(row.name, 'xdp_verdict');
  assert.equal(row.mapIds.length, 3);
  const show = cli(['prog', 'show', String(id)]);
  assert.match(show, /^name\s+xdp_verdict$/m);
  assert.match(show, /^btf_id\s+\d+$/m);
  const dump = cli(['prog', 'dump', 'xlated', String(id)]);
  assert.match(dump, /^xdp_verdict:$/m);
  assert.match(dump, /^; hits\+\+; \[\.\/globals\.bpf\.c:\d+\]$/m);
  assert.match(dump, /^\s+0: ld_pseudo\tr\d, 2, \d+\t# map id \d+ \+ 0$/m);
  assert.match(dump, /^\s+\d+: exit$/m);
  const insnLines = dump.split('\n').filter((l) => /^\s+\d+: /.test(l)).length;
  const fromBpftool = (bpftool(['prog', 'dump', 'xlated', 'id', String(id)]) as unknown[]).length;
  assert.equal(insnLines, fromBpftool, 'one line per instruction, as bpftool');
  const json = JSON.parse(cli(['prog', 'dump', 'xlated', String(id), '--json'])) as Array<{ slot: number; text: string; source?: { line: number } }>;
  assert.equal(json.length, insnLines);
  assert.ok(json.some((l) => l.source && l.source.line > 0));
  assert.throws(
    () => execFileSync('node', [CLI, 'prog', 'show', '999999999'], { stdio: 'pipe' }),
    (e: unknown) => /no program with id 999999999/.test(String((e as { stderr?: Buffer }).stderr)),
  );
});
