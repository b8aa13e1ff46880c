/**
 * The examples run by their documented commands and do what they say, checked from outside:
 * events from processes this test spawns, exact syscall counts, the denied open, and nothing of
 * them left loaded afterwards.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { kernelTest } from '../support/kernel.js';

interface Run {
  child: ChildProcess;
  output: () => string;
  done: Promise<number | null>;
}

function runExample(script: string, args: string[]): Run {
  const child = spawn(process.execPath, [`dist/examples/${script}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, done };
}

/** Waits for `text` in the output (a minute: node starts in seconds under emulation, scripts/guest). */
async function until(run: Run, text: string | RegExp, ms = 60_000): Promise<void> {
  const start = Date.now();
  const seen = () => (typeof text === 'string' ? run.output().includes(text) : text.test(run.output()));
  while (!seen()) {
    if (Date.now() - start > ms) throw new Error(`no '${text}' in:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Program names bpftool sees loaded right now. */
function loadedPrograms(): string[] {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout || '[]') as Array<{ name?: string }>).map((p) => p.name ?? '');
}

/** The kernel frees a program shortly after its last reference goes (RCU): allow it 3 s. */
async function assertUnloaded(name: string): Promise<void> {
  for (let i = 0; i < 60 && loadedPrograms().includes(name); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!loadedPrograms().includes(name), `${name} is still loaded 3 s after the example exited`);
}

// The event examples run until Ctrl-C: each test waits for the event it caused, then stops the
// example with SIGINT (a fixed --duration would count the seconds node takes to start and load).

kernelTest('hello-execve: trace_pipe shows Hello World for an execve this test makes', async () => {
  const run = runExample('hello-execve/hello.js', []);
  await until(run, 'Attached');
  const child = spawnSync('/bin/true');
  await until(run, new RegExp(`Hello World from pid ${child.pid}\\b`));
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  await assertUnloaded('hello');
});

kernelTest('hello-execve ring buffer: {pid, comm} records decoded through BTF', async () => {
  const run = runExample('hello-execve/hello-ringbuf.js', []);
  await until(run, 'PID');
  await new Promise((r) => setTimeout(r, 300));
  const child = spawnSync('/bin/true');
  await until(run, new RegExp(`^${child.pid}\\s+\\S+`, 'm'));
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  assert.match(run.output(), /lost 0 events/);
  await assertUnloaded('hello_ringbuf');
});

kernelTest('syscount: the count of a syscall per command matches what a child did, printed on Ctrl-C', async () => {
  const run = runExample('syscount/syscount.js', ['--syscall', '110']); // getppid
  await until(run, 'Counting');
  await new Promise((r) => setTimeout(r, 300));
  // A copy of python3 under a unique name, so its comm is ours alone.
  const comm = `sc${process.pid % 100000}`;
  spawnSync('cp', ['/usr/bin/python3', `/tmp/${comm}`]);
  try {
    const r = spawnSync(`/tmp/${comm}`, ['-c', 'import os\nfor _ in range(4321): os.getppid()']);
    assert.equal(r.status, 0, String(r.stderr));
  } finally {
    spawnSync('rm', ['-f', `/tmp/${comm}`]);
  }
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  assert.match(run.output(), new RegExp(`^@\\[${comm}\\]: 4321$`, 'm'));
  await assertUnloaded('syscount');
});

kernelTest('cgroup-device: urandom denied inside the cgroup, random allowed, cgroup removed', async () => {
  const run = runExample('cgroup-device/device.js', []);
  assert.equal(await run.done, 0, run.output());
  const out = run.output();
  assert.match(out, /head: cannot open '\/dev\/urandom' for reading: Operation not permitted/);
  assert.match(out, /\/dev\/random[^\n]*\nok: read 4 bytes/);
  assert.match(out, /denied accesses: 1/);
  const leftover = spawnSync('sh', ['-c', 'ls -d /sys/fs/cgroup/unified/tsbpf-device-* 2>/dev/null'], { encoding: 'utf8' }).stdout;
  assert.equal(leftover.trim(), '');
  await assertUnloaded('deny_urandom');
});

kernelTest('perf-events: execve events from every CPU ring, losses counted', async () => {
  const run = runExample('perf-events/perf.js', []);
  await until(run, 'CPU PID');
  await new Promise((r) => setTimeout(r, 300));
  const pids = [spawnSync('/bin/true').pid, spawnSync('/bin/true').pid];
  for (const pid of pids) await until(run, new RegExp(`^\\d+\\s+${pid}\\s`, 'm'));
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  assert.match(run.output(), /lost 0 events in total/);
  await assertUnloaded('exec_perf');
});

// The examples with the kernel side in TypeScript (examples/ts), through the typed user side.

/** Runs a copy of `binary` named `comm` (a comm this test alone has) with `args`; its pid. */
function runAs(comm: string, binary: string, args: string[] = []): number {
  const path = `/tmp/${comm}`;
  spawnSync('cp', [binary, path]);
  try {
    const r = spawnSync(path, args);
    assert.equal(r.status, 0, String(r.stderr));
    return r.pid!;
  } finally {
    spawnSync('rm', ['-f', path]);
  }
}

kernelTest('ts/cgroup-dev: minor 9 denied inside the cgroup (urandom EPERM), random allowed, cgroup removed', async () => {
  const run = runExample('ts/cgroup-dev/cgroup-dev.js', ['--duration', '1']);
  assert.equal(await run.done, 0, run.output());
  const out = run.output();
  assert.match(out, /head: cannot open '\/dev\/urandom' for reading: Operation not permitted/);
  assert.match(out, /\/dev\/random[^\n]*\nok: read 4 bytes/);
  const leftover = spawnSync('sh', ['-c', 'ls -d /sys/fs/cgroup/unified/tsbpf-cgroup-dev-* 2>/dev/null'], { encoding: 'utf8' }).stdout;
  assert.equal(leftover.trim(), '');
  await assertUnloaded('deny_minor9');
});

kernelTest('ts/hello: {pid, comm} ring buffer records for an execve this test makes, stops after --duration', async () => {
  const run = runExample('ts/hello/hello.js', ['--duration', '8']);
  await until(run, 'PID');
  await new Promise((r) => setTimeout(r, 300));
  const child = spawnSync('/bin/true');
  await until(run, new RegExp(`^${child.pid}\\s+\\S+`, 'm'));
  assert.equal(await run.done, 0, run.output());
  await assertUnloaded('hello');
});

kernelTest('ts/syscount: a command this test runs is counted with at least the syscalls it made', async () => {
  const run = runExample('ts/syscount/syscount.js', ['--top', '1000']);
  await until(run, 'Counting');
  await new Promise((r) => setTimeout(r, 300));
  const comm = `ts${process.pid % 100000}`;
  runAs(comm, '/usr/bin/python3', ['-c', 'import os\nfor _ in range(4321): os.getppid()']);
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  const m = new RegExp(`^@\\[${comm}\\]: (\\d+)$`, 'm').exec(run.output());
  assert.ok(m, run.output());
  assert.ok(Number(m[1]) >= 4321, `${comm} made ${m[1]} syscalls, fewer than its 4321 getppid calls`);
  await assertUnloaded('syscount');
});

kernelTest('ts/exits: an exit this test causes, with the parent pid read through task.real_parent.tgid', async () => {
  const run = runExample('ts/exits/exits.js', []);
  await until(run, 'PID');
  await new Promise((r) => setTimeout(r, 300));
  const comm = `ex${process.pid % 100000}`;
  const pid = runAs(comm, '/bin/true');
  await until(run, new RegExp(`^${pid}\\s+${process.pid}\\s+${comm}$`, 'm'));
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  await assertUnloaded('on_exit');
});

kernelTest('ts/readlat: the reads this test makes are counted in a bpftrace-style log2 histogram', async () => {
  const run = runExample('ts/readlat/readlat.js', []);
  await until(run, 'Timing');
  await new Promise((r) => setTimeout(r, 300));
  const r = spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=5000'], { stdio: 'ignore' });
  assert.equal(r.status, 0);
  run.child.kill('SIGINT');
  assert.equal(await run.done, 0, run.output());
  const out = run.output();
  assert.match(out, /^@nsecs:$/m);
  assert.match(out, /^\[\d+[KMG]?, \d+[KMG]?\)\s+\d+ \|@*\s*\|$/m);
  const reads = Number(/^reads: (\d+)$/m.exec(out)?.[1]);
  assert.ok(reads >= 5000, `${reads} reads counted, fewer than dd's 5000`);
  await assertUnloaded('read_exit');
});
