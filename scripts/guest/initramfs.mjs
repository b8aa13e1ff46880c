// The guest's initramfs: an uncompressed cpio archive ("newc", the format the kernel unpacks;
// see Documentation/driver-api/early-userspace/buffer-format.rst) holding a static busybox, the
// /init script and the modules that reach the host's root over 9p. Written here rather than by
// cpio(1), which a fresh machine may lack.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

/** A cpio archive being built. */
class Cpio {
  chunks = [];
  ino = 1;

  add(name, mode, data = new Uint8Array(0), rdev = [0, 0]) {
    const nameBytes = Buffer.from(name + '\0');
    const fields = [this.ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
    const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'latin1');
    this.chunks.push(header, nameBytes);
    this.pad();
    if (data.length) {
      this.chunks.push(Buffer.from(data));
      this.pad();
    }
  }

  pad() {
    const len = this.chunks.reduce((n, c) => n + c.length, 0);
    if (len % 4) this.chunks.push(Buffer.alloc(4 - (len % 4)));
  }

  finish() {
    this.add('TRAILER!!!', 0);
    return Buffer.concat(this.chunks);
  }
}

/** Whether a file is a statically linked ELF (no PT_INTERP program header). */
export function isStaticElf(bytes) {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  const phoff = Number(bytes.readBigUInt64LE(32));
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (bytes.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

/**
 * The initramfs: /bin/busybox, /init, /dev/console, mount points, and `modules` (file names in
 * `modulesDir`, in load order) under /modules with /modules/order listing them, and the kernel's
 * configuration as /config when given.
 */
export function buildInitramfs({ busybox, init, modulesDir, modules, config }) {
  const cpio = new Cpio();
  for (const d of ['bin', 'dev', 'proc', 'sys', 'newroot', 'modules']) cpio.add(d, S_IFDIR | 0o755);
  cpio.add('dev/console', S_IFCHR | 0o600, undefined, [5, 1]);
  cpio.add('bin/busybox', S_IFREG | 0o755, readFileSync(busybox));
  cpio.add('init', S_IFREG | 0o755, Buffer.from(init));
  if (config) cpio.add('config', S_IFREG | 0o644, readFileSync(config));
  for (const m of modules) cpio.add(`modules/${m}`, S_IFREG | 0o644, readFileSync(join(modulesDir, m)));
  cpio.add('modules/order', S_IFREG | 0o644, Buffer.from(modules.join('\n') + '\n'));
  return cpio.finish();
}
