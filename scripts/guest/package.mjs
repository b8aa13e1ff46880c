// Fetching and caching a kernel: the Debian image package (apt-get download, nothing else), its
// vmlinuz, and the modules the initramfs needs, resolved through modules.dep after `depmod -b`.
//
// Cache layout (TSBPF_KERNEL_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/tsbpf-kernels):
//   debs/<package>_<version>_amd64.deb      what apt-get download fetched
//   <id>/<release>/vmlinuz                   the kernel (bzImage), and vmlinux: the same decompressed
//   <id>/<release>/config                    its configuration (the guest sees it as /boot/config-<release>)
//   <id>/<release>/modules/*.ko              the initramfs modules, in load order (modules.order)
//   <id>/<release>/kernel.json               package, version, release, modules
// The extracted package (~400 MB) only exists while a kernel is being prepared.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

/** The cache layout's version: a prepared kernel of another format is prepared again. */
const FORMAT = 2;

/** An error the runner reports as a sentence, without a stack. */
export class GuestSetupError extends Error {}

/** Where kernels are cached. */
export function cacheDir() {
  if (process.env.TSBPF_KERNEL_CACHE) return process.env.TSBPF_KERNEL_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tsbpf-kernels');
}

/** Runs a command; returns stdout, throws GuestSetupError with its stderr when it fails. */
export function run(cmd, args, { cwd, what } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new GuestSetupError(`${what ?? cmd}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new GuestSetupError(`${what ?? cmd}: ${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout;
}

/** Whether `cmd` is on PATH (or an absolute path that exists). */
export function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Installs Debian packages with apt-get (root only): what the runner needs and may add itself. */
export function aptInstall(packages, why) {
  if (process.getuid?.() !== 0) throw new GuestSetupError(`${why}: install ${packages.join(' ')} (apt-get install ${packages.join(' ')}); the runner installs them itself only as root`);
  console.error(`guest: installing ${packages.join(' ')} (${why})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { encoding: 'utf8', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { encoding: 'utf8', env });
  }
  if (r.status !== 0) throw new GuestSetupError(`${why}: apt-get install ${packages.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join('\n')}`);
}

/** Compares Debian versions with dpkg (sort order of `dpkg --compare-versions`). */
function debVersionCompare(a, b) {
  if (a === b) return 0;
  return spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0 ? -1 : 1;
}

/** Sorts package names by the ABI number inside them (linux-image-6.1.0-56-... > -50-...). */
function byAbi(a, b) {
  const na = a.match(/\d+/g).map(Number);
  const nb = b.match(/\d+/g).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) if ((na[i] ?? 0) !== (nb[i] ?? 0)) return (na[i] ?? 0) - (nb[i] ?? 0);
  return 0;
}

/** The cached .deb files of a kernel entry, newest first: {path, package, version}. */
function cachedDebs(entry) {
  const dir = join(cacheDir(), 'debs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.deb'))
    .map((f) => {
      const [pkg, version] = f.replace(/\.deb$/, '').split('_');
      return { path: join(dir, f), package: pkg, version: decodeURIComponent(version ?? '') };
    })
    .filter((d) => entry.name.test(d.package))
    .sort((a, b) => byAbi(b.package, a.package) || debVersionCompare(b.version, a.version));
}

/** The newest package apt knows for `entry` (running apt-get update once if it knows none). */
function newestAvailable(entry) {
  const search = () =>
    spawnSync('apt-cache', ['search', '--names-only', entry.search], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n) => n && entry.name.test(n))
      .sort(byAbi);
  if (!hasCommand('apt-cache')) throw new GuestSetupError(`kernel ${entry.id}: apt-cache is missing: the kernel package comes from the Debian archive (apt-get download)`);
  let names = search();
  if (names.length === 0 && process.getuid?.() === 0) {
    console.error(`guest: apt knows no ${entry.search}; running apt-get update`);
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
    names = search();
  }
  if (names.length === 0) {
    throw new GuestSetupError(`kernel ${entry.id}: no package matching ${entry.search} in the apt sources (is Debian bookworm or bookworm-security in /etc/apt/sources.list*? run apt-get update)`);
  }
  return names[names.length - 1];
}

/**
 * The .deb for `entry`: the newest cached one, or (none cached, or `refresh`) the newest apt
 * offers, fetched with apt-get download into the cache.
 */
export function kernelDeb(entry, { refresh = false } = {}) {
  const cached = cachedDebs(entry);
  if (cached.length > 0 && !refresh) return cached[0];
  const name = newestAvailable(entry);
  const have = cached.find((d) => d.package === name);
  if (have && !refresh) return have;
  const dir = join(cacheDir(), 'debs');
  mkdirSync(dir, { recursive: true });
  console.error(`guest: downloading ${name} (apt-get download)`);
  const t0 = Date.now();
  run('apt-get', ['download', '-q', name], { cwd: dir, what: `downloading ${name}` });
  console.error(`guest: downloaded in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const got = cachedDebs(entry).find((d) => d.package === name);
  if (!got) throw new GuestSetupError(`downloading ${name}: apt-get download succeeded but no ${name}_*.deb is in ${dir}`);
  return got;
}

/** Module paths (relative to lib/modules/<release>) in load order: dependencies first. */
export function resolveModules(modulesDep, wanted) {
  const deps = new Map();
  const byName = new Map();
  for (const line of modulesDep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    deps.set(m[1], m[2].split(/\s+/).filter(Boolean));
    byName.set(basename(m[1]).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_'), m[1]);
  }
  const order = [];
  const seen = new Set();
  const visit = (path, chain) => {
    if (seen.has(path)) return;
    if (chain.includes(path)) throw new GuestSetupError(`modules.dep has a cycle: ${[...chain, path].join(' -> ')}`);
    // modules.dep lists a module's dependencies with the ones loaded last first
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d, [...chain, path]);
    seen.add(path);
    order.push(path);
  };
  for (const w of wanted) {
    const path = byName.get(w.replace(/-/g, '_'));
    if (!path) throw new GuestSetupError(`module ${w} is not in modules.dep (built in, or not in this package?)`);
    visit(path, []);
  }
  return order;
}

/**
 * Decompresses the kernel inside a bzImage (an xz stream on Debian: CONFIG_KERNEL_XZ) into an
 * ELF vmlinux, which qemu boots directly through its PVH entry (CONFIG_PVH): under emulation
 * that saves the ~4 s the bzImage spends decompressing itself. Leaves nothing when it cannot.
 */
function extractVmlinux(bzImage, out) {
  const bytes = readFileSync(bzImage);
  const at = bytes.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0 || !hasCommand('xz')) return;
  const r = spawnSync('xz', ['-dc', '--single-stream'], { input: bytes.subarray(at), maxBuffer: 1 << 30 });
  if (r.status === 0 && r.stdout.length > 1 << 20 && r.stdout.readUInt32BE(0) === 0x7f454c46) writeFileSync(out, r.stdout);
}

/** The paths of a prepared kernel; `boot` is the vmlinux when there is one, else the bzImage. */
function withPaths(meta, dir) {
  const vmlinux = join(dir, 'vmlinux');
  return { ...meta, dir, vmlinuz: join(dir, 'vmlinuz'), boot: existsSync(vmlinux) ? vmlinux : join(dir, 'vmlinuz'), config: join(dir, 'config'), modulesDir: join(dir, 'modules') };
}

/**
 * A kernel ready to boot: {dir, vmlinuz, modulesDir, order, release, package, version}. Prepared
 * once per package from the .deb (extract, depmod -b, copy vmlinuz and modules).
 */
export function prepareKernel(entry, deb) {
  const base = join(cacheDir(), entry.id);
  for (const release of existsSync(base) ? readdirSync(base) : []) {
    const metaFile = join(base, release, 'kernel.json');
    if (!existsSync(metaFile)) continue;
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.format === FORMAT && meta.package === deb.package && meta.version === deb.version && JSON.stringify(meta.wanted) === JSON.stringify(entry.modules)) {
      return withPaths(meta, join(base, release));
    }
  }
  if (!hasCommand('dpkg-deb')) throw new GuestSetupError('dpkg-deb is missing: it unpacks the kernel package');
  if (!hasCommand('depmod')) aptInstall(['kmod'], 'depmod (kmod) computes modules.dep for the kernel package');
  mkdirSync(base, { recursive: true });
  const work = mkdtempSync(join(base, '.extract-'));
  try {
    console.error(`guest: unpacking ${basename(deb.path)}`);
    run('dpkg-deb', ['-x', deb.path, work], { what: 'unpacking the kernel package' });
    const boot = join(work, 'boot');
    const vmlinuz = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
    if (!vmlinuz) throw new GuestSetupError(`${basename(deb.path)} has no boot/vmlinuz-*`);
    const release = vmlinuz.slice('vmlinuz-'.length);
    const libModules = ['lib/modules', 'usr/lib/modules'].map((p) => join(work, p)).find((p) => existsSync(join(p, release)));
    if (!libModules) throw new GuestSetupError(`${basename(deb.path)} has no lib/modules/${release}`);
    // depmod -b wants <base>/lib/modules/<release>
    const depBase = libModules.endsWith('usr/lib/modules') ? join(work, 'usr') : work;
    run('depmod', ['-b', depBase, release], { what: 'depmod' });
    const order = resolveModules(readFileSync(join(libModules, release, 'modules.dep'), 'utf8'), entry.modules);
    const dir = join(base, release);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'modules'), { recursive: true });
    copyFileSync(join(boot, vmlinuz), join(dir, 'vmlinuz'));
    const files = order.map((p) => {
      copyFileSync(join(libModules, release, p), join(dir, 'modules', basename(p)));
      return basename(p);
    });
    extractVmlinux(join(dir, 'vmlinuz'), join(dir, 'vmlinux'));
    const config = join(boot, `config-${release}`);
    if (existsSync(config)) copyFileSync(config, join(dir, 'config'));
    const meta = { format: FORMAT, package: deb.package, version: deb.version, release, wanted: entry.modules, modules: files };
    writeFileSync(join(dir, 'kernel.json'), JSON.stringify(meta, null, 2) + '\n');
    return withPaths(meta, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
