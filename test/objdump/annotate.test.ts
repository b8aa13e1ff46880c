import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { objdump } from '../../src/objdump/index.js';

function annotated(path: string): string[] {
  return objdump(readFileSync(path), path, { disassemble: true, annotate: true, llvm: 19 }).split('\n');
}

function lineWith(lines: string[], text: string): string {
  const line = lines.find((l) => l.includes(text));
  assert.ok(line, `no line contains ${JSON.stringify(text)}`);
  return line;
}

test('helper calls are named with their signature and the arguments the program passes', () => {
  const lines = annotated('testdata/objdump/maps_globals.bpf.o');
  assert.match(lineWith(lines, 'call 14'), /; bpf_get_current_pid_tgid\(\)$/);
  assert.match(lineWith(lines, 'call 131'), /; bpf_ringbuf_reserve\(void \*ringbuf, __u64 size, __u64 flags\)  \[ringbuf=&events, size=24, flags=0\]/);
  assert.match(lines.find((l) => l.includes('call 1\t') && l.includes('scratch'))!, /map=&scratch, key=fp-12/);
});

test('map and global references are named, string literals are shown', () => {
  const lines = annotated('testdata/objdump/maps_globals.bpf.o');
  assert.match(lines[lines.findIndex((l) => l.includes('call 131')) - 3]!, /r1 = 0 ll\t; &events$/);
  assert.ok(lines.some((l) => /r1 = 0 ll\t; &target_pid$/.test(l)));
  assert.ok(lines.some((l) => l.includes('; &"exec %d" (string in on_exec.____fmt)')));
  assert.ok(lines.some((l) => l.includes('*(u32 *)(r0 + 0) = r6\t; write scratch value.pid')), 'map value field named from BTF');
});

test('context fields are named for the program type', () => {
  const xdp = annotated('testdata/objdump/subprogs.bpf.o');
  assert.match(lineWith(xdp, 'r1 = *(u32 *)(r6 + 0)'), /; ctx->data$/);
  assert.match(lineWith(xdp, 'r2 = *(u32 *)(r6 + 4)'), /; ctx->data_end$/);
  const raw = annotated('testdata/objdump/loops.bpf.o');
  assert.match(lineWith(raw, 'r6 = *(u64 *)(r1 + 8)'), /; ctx->args\[1\]$/);
});

test('branches say what they test: NULL checks, signedness, loops', () => {
  const raw = annotated('testdata/objdump/loops.bpf.o');
  assert.match(lineWith(raw, 'if r0 == 0 goto +3'), /lookup found an entry.*NULL.*verifier/);
  assert.match(lineWith(raw, 'if r2 != 0 goto -6'), /backward: a loop/);
  assert.match(lineWith(raw, 'if r1 s> 2'), /signed 64-bit compare/);
  assert.match(lineWith(raw, 'if r6 == 0 goto +11'), /if ctx->args\[1\] == 0/);
  assert.match(lineWith(raw, 'exit'), /return r0 to the kernel/);
});

test('cgroup device programs: ctx->minor and what the return value means', () => {
  // The Rucy example: deny minor 9 (/dev/urandom is 1:9), assembled in place.
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'objdump', '-d', '--annotate', 'testdata/objdump/cgroup_dev.bpf.o'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /r\d = \*\(u32 \*\)\(r1 \+ 8\)\t; ctx->minor/);
  assert.match(r.stdout, /1 allows the device access, 0 denies it/);
});
