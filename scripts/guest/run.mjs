#!/usr/bin/env node
// Runs tests inside a second kernel under QEMU (software emulation, TCG):
//
//   npm run test:kernel -- 6.1                    the guest suite and the kernel-layer suites
//   npm run test:kernel -- 6.1 dist/test/guest/   only what matches (path substrings, as scripts/test.mjs)
//   npm run test:kernel -- 6.1 --exec 'uname -a'  a shell command instead of the tests
//
// Steps: fetch and cache the kernel's Debian package (scripts/guest/package.mjs), build an
// initramfs (busybox-static, scripts/guest/init.sh, the 9p modules), write run.sh into a fresh
// run directory, boot qemu-system-x86_64 -accel tcg with the host's root shared read-only over
// 9p (tag "host") and the run directory shared writable (tag "out"). The guest chroots into the
// host root, runs run.sh (which runs `node scripts/test.mjs` from this repository's dist/ with
// TSBPF_GUEST=<id>), writes the output and exit status into the run directory and powers off.
// The runner streams the guest's console, then exits with the tests' status: 0 passed, 1 tests
// failed, 2 the guest could not run them (the message says why), 124 timeout.
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs, isStaticElf } from './initramfs.mjs';
import { KERNELS, LSM_CMDLINE } from './kernels.mjs';
import { aptInstall, GuestSetupError, hasCommand, kernelDeb, prepareKernel } from './package.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

/** The suites run when no filter is given: everything that needs a kernel. */
export const DEFAULT_FILTERS = ['dist/test/guest/', 'dist/test/kernel/', 'dist/test/link/', 'dist/test/events/', 'dist/test/examples/'];

const USAGE = `usage: node scripts/guest/run.mjs <kernel> [options] [test path filters...]
kernels: ${Object.keys(KERNELS).join(', ')}
options:
  --exec CMD       run a shell command in the guest (cwd: the repository) instead of the tests
  --timeout SEC    kill the guest after SEC seconds (default 1500; TSBPF_GUEST_TIMEOUT)
  --memory MB      guest memory (default 3072)
  --cpus N         guest CPUs (default 2)
  --refresh        look for a newer kernel package than the cached one
  --log FILE       also write the guest's console to FILE
  --keep           keep the run directory (output.log, status, run.sh)
  --quiet          do not stream the console; print the test output at the end
  --append ARGS    more kernel command line (e.g. loglevel=7)
default filters: ${DEFAULT_FILTERS.join(' ')}`;

function parseArgs(argv) {
  const o = { kernel: undefined, filters: [], append: '', exec: undefined, timeout: Number(process.env.TSBPF_GUEST_TIMEOUT ?? 1500), memory: 3072, cpus: 2, refresh: false, log: undefined, keep: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new GuestSetupError(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--exec') o.exec = value();
    else if (a === '--timeout') o.timeout = Number(value());
    else if (a === '--memory') o.memory = Number(value());
    else if (a === '--cpus') o.cpus = Number(value());
    else if (a === '--refresh') o.refresh = true;
    else if (a === '--log') o.log = value();
    else if (a === '--keep') o.keep = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--append') o.append += ` ${value()}`;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--') continue;
    else if (a.startsWith('--')) throw new GuestSetupError(`unknown option ${a}\n${USAGE}`);
    else if (o.kernel === undefined) o.kernel = a;
    else o.filters.push(a);
  }
  if (o.kernel === undefined) throw new GuestSetupError(`which kernel?\n${USAGE}`);
  if (!KERNELS[o.kernel]) throw new GuestSetupError(`unknown kernel '${o.kernel}'; known: ${Object.keys(KERNELS).join(', ')} (scripts/guest/kernels.mjs)`);
  for (const [k, v] of [['--timeout', o.timeout], ['--memory', o.memory], ['--cpus', o.cpus]]) if (!(Number.isInteger(v) && v > 0)) throw new GuestSetupError(`${k} must be a positive integer`);
  return o;
}

/** Quotes a string for sh. */
const sh = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** What the runner needs on the host; installs the small pieces (as root), explains the rest. */
function checkHost() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new GuestSetupError('the guest runner needs an x86_64 Linux host');
  if (!hasCommand('qemu-system-x86_64')) {
    throw new GuestSetupError('qemu-system-x86_64 is not installed: apt-get install qemu-system-x86 (Debian), then run again');
  }
  let busybox = '/bin/busybox';
  if (!existsSync(busybox) || !isStaticElf(readFileSync(busybox))) {
    aptInstall(['busybox-static'], 'the initramfs needs a statically linked busybox');
    if (!existsSync(busybox) || !isStaticElf(readFileSync(busybox))) throw new GuestSetupError(`${busybox} is not statically linked even after installing busybox-static`);
  }
  if (!existsSync(join(REPO, 'dist', 'test'))) throw new GuestSetupError(`${REPO}/dist/test is missing: run npm run build first (npm run test:kernel does)`);
  return { busybox };
}

/** run.sh: what the guest runs in the chroot. */
function runScript(o, entry) {
  const filters = o.filters.length ? o.filters : DEFAULT_FILTERS;
  const cmd = o.exec ?? `node scripts/test.mjs ${filters.map(sh).join(' ')}`;
  const env = {
    TSBPF_GUEST: entry.id,
    TSBPF_REQUIRE_KERNEL: '1',
    TSBPF_HOST_BTF: '/run/tsbpf/host-vmlinux.btf',
    TSBPF_HOST_RELEASE: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/tmp',
    LANG: 'C.UTF-8',
  };
  for (const k of ['TSBPF_EXPLAIN', 'TSBPF_NO_LLVM', 'NODE_OPTIONS']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return [
    '#!/bin/sh',
    '# written by scripts/guest/run.mjs; run in the guest by scripts/guest/init.sh',
    ...Object.entries(env).map(([k, v]) => `export ${k}=${sh(v)}`),
    `cd ${sh(REPO)} || { echo "tsbpf-guest: error: the repository ${REPO} is not visible in the guest"; exit 2; }`,
    `echo "tsbpf-guest: running at $(cut -d' ' -f1 /proc/uptime)s: ${cmd.replace(/["`$\\]/g, '\\$&')}"`,
    `{ ${cmd}; echo $? > /run/tsbpf/status; } 2>&1 | tee /run/tsbpf/output.log`,
    'echo "tsbpf-guest: finished at $(cut -d\' \' -f1 /proc/uptime)s with status $(cat /run/tsbpf/status)"',
    '',
  ].join('\n');
}

/** Boots the guest; resolves with {status, markers, console}. */
function boot(o, kernel, initrd, runDir) {
  const args = [
    // KVM exists on these machines but a KVM guest hangs: emulate. One host thread for all vCPUs:
    // with multi-threaded TCG, a vCPU running into the int3 of a live kernel text patch (a
    // tracepoint's static key flipping when a BPF program attaches) can spin there forever
    // (soft lockup, seen on 6.1 in test/events); round-robin TCG has not, in any of our runs.
    '-accel', process.env.TSBPF_GUEST_ACCEL ?? 'tcg,thread=single',
    '-cpu', process.env.TSBPF_GUEST_CPU ?? 'max',
    '-smp', String(o.cpus),
    '-m', String(o.memory),
    '-nodefaults', '-no-user-config', '-no-reboot',
    '-display', 'none', '-monitor', 'none',
    '-serial', 'stdio',
    '-kernel', kernel.boot,
    '-initrd', initrd,
    // loglevel=5: warnings and oops/lockup reports reach the console; a soft lockup (a CPU stuck
    // in the kernel for 2 * watchdog_thresh s) panics, and the panic ends qemu (-no-reboot)
    '-append', `console=ttyS0 quiet loglevel=5 panic=-1 softlockup_panic=1 watchdog_thresh=30 ${LSM_CMDLINE}${o.append}`,
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${runDir},mount_tag=out,security_model=none,multidevs=remap`,
    // The repository again, mounted at its own path by init.sh: a checkout under /tmp (a CI
    // clone) would otherwise be hidden by the guest's tmpfs on /tmp.
    '-virtfs', `local,path=${REPO},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`,
  ];
  const started = Date.now();
  const markers = {};
  const logFile = o.log ? createWriteStream(o.log) : undefined;
  return new Promise((resolvePromise) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Interrupted (Ctrl-C, CI's timeout): take the guest down too.
    const stop = (signal) => {
      qemu.kill('SIGKILL');
      process.exitCode = 128 + (signal === 'SIGINT' ? 2 : 15);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let stderr = '';
    let consoleText = '';
    let partial = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`guest: timeout after ${o.timeout}s: killing qemu`);
      qemu.kill('SIGKILL');
    }, o.timeout * 1000);
    qemu.stdout.on('data', (chunk) => {
      const text = chunk.toString('utf8').replace(/\r/g, '');
      consoleText += text;
      logFile?.write(text);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = /^tsbpf-guest: (\w+)/.exec(line);
        if (m && !(m[1] in markers)) markers[m[1]] = (Date.now() - started) / 1000;
        if (!o.quiet || line.startsWith('tsbpf-guest:')) process.stdout.write(line + '\n');
      }
    });
    qemu.stderr.on('data', (c) => (stderr += c));
    qemu.on('error', (err) => {
      clearTimeout(timer);
      resolvePromise({ status: undefined, error: `cannot start qemu-system-x86_64: ${err.message}`, markers, console: consoleText, seconds: (Date.now() - started) / 1000 });
    });
    qemu.on('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      if (partial) process.stdout.write(partial + '\n');
      logFile?.end();
      const seconds = (Date.now() - started) / 1000;
      resolvePromise({ qemuCode: code, qemuSignal: signal, timedOut, stderr, markers, console: consoleText, seconds });
    });
  });
}

/** The TAP summary lines (# tests, # pass, ...) and the reasons of skipped tests. */
export function summarize(output) {
  const counts = {};
  for (const m of output.matchAll(/^# (tests|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/gm)) counts[m[1]] = Number(m[2]);
  const skips = new Map();
  for (const m of output.matchAll(/^\s*ok \d+ - (.*?) # SKIP (.*)$/gm)) skips.set(m[1], m[2]);
  const failures = [...output.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]);
  return { counts, skips, failures };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const entry = KERNELS[o.kernel];
  const { busybox } = checkHost();
  const t0 = Date.now();
  const deb = kernelDeb(entry, { refresh: o.refresh });
  const kernel = prepareKernel(entry, deb);
  const runDir = mkdtempSync(join(tmpdir(), `tsbpf-guest-${entry.id}-`));
  try {
    const initrd = join(runDir, 'initramfs.cpio');
    writeFileSync(initrd, buildInitramfs({ busybox, init: readFileSync(join(HERE, 'init.sh'), 'utf8'), modulesDir: kernel.modulesDir, modules: kernel.modules, config: existsSync(kernel.config) ? kernel.config : undefined }));
    writeFileSync(join(runDir, 'run.sh'), runScript(o, entry));
    writeFileSync(join(runDir, 'repo-path'), REPO);
    // The host kernel's BTF, for tests comparing CO-RE results across the two kernels.
    if (existsSync('/sys/kernel/btf/vmlinux')) copyFileSync('/sys/kernel/btf/vmlinux', join(runDir, 'host-vmlinux.btf'));
    const prepSeconds = (Date.now() - t0) / 1000;
    console.error(`guest: booting ${kernel.package} ${kernel.version} (${kernel.release}) under qemu TCG, ${o.cpus} CPUs, ${o.memory} MiB; run directory ${runDir}`);
    const r = await boot(o, kernel, initrd, runDir);
    const statusFile = join(runDir, 'status');
    const outputFile = join(runDir, 'output.log');
    const output = existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : '';
    if (o.quiet && output) process.stdout.write(output);
    const mk = r.markers;
    const fmt = (x) => (x === undefined ? '?' : `${x.toFixed(1)}s`);
    console.error(
      `guest: timings: preparation ${prepSeconds.toFixed(1)}s, qemu start to /init ${fmt(mk.init)}, root ready ${fmt(mk.root)}, ` +
        `command started ${fmt(mk.running)}, command finished ${fmt(mk.finished)}, qemu exited ${fmt(r.seconds)}` +
        (mk.running !== undefined && mk.finished !== undefined ? ` (command ran ${(mk.finished - mk.running).toFixed(1)}s)` : ''),
    );
    if (r.error) throw new GuestSetupError(r.error);
    const guestError = /^tsbpf-guest: error: (.*)$/m.exec(r.console);
    if (guestError) throw new GuestSetupError(`the guest could not run the tests: ${guestError[1]}`);
    if (r.timedOut) {
      console.error(`guest: timed out after ${o.timeout}s (raise --timeout or TSBPF_GUEST_TIMEOUT)`);
      process.exitCode = 124;
      return;
    }
    const panic = /Kernel panic - not syncing: (.*)/.exec(r.console);
    if (panic && !existsSync(statusFile)) {
      const lines = r.console.split('\n');
      const at = lines.findIndex((l) => l.includes('Kernel panic - not syncing'));
      throw new GuestSetupError(`the guest kernel panicked (${panic[1].trim()}); the console before it:\n${lines.slice(Math.max(0, at - 40), at + 1).join('\n')}`);
    }
    if (!existsSync(statusFile)) {
      const tail = r.console.trim().split('\n').slice(-15).join('\n');
      const why = r.stderr.trim() ? `qemu said: ${r.stderr.trim().split('\n').slice(-5).join('\n')}` : `the console ended with:\n${tail}`;
      throw new GuestSetupError(`the guest exited (qemu status ${r.qemuCode ?? r.qemuSignal}) without a test status; ${why}`);
    }
    const status = Number(readFileSync(statusFile, 'utf8').trim());
    if (!o.exec) {
      const s = summarize(output);
      const c = s.counts;
      console.error(`guest: ${entry.id}: ${c.tests ?? '?'} tests, ${c.pass ?? '?'} passed, ${c.fail ?? '?'} failed, ${c.skipped ?? '?'} skipped`);
      for (const [name, why] of s.skips) console.error(`guest:   skipped: ${name}: ${why}`);
      for (const name of s.failures) console.error(`guest:   FAILED: ${name}`);
    }
    process.exitCode = status === 0 ? 0 : status || 1;
  } finally {
    if (o.keep) console.error(`guest: run directory kept: ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  if (err instanceof GuestSetupError) {
    console.error(`guest: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(2);
});
