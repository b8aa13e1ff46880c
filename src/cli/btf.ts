/**
 * `tsbpf btf dump FILE`: prints the BTF of a raw BTF file (e.g. /sys/kernel/btf/vmlinux) or of
 * an ELF object's .BTF section, as bpftool's raw listing, as C (vmlinux.h style) or as
 * TypeScript declarations.
 */
import { readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { FormatError, ParseError } from '../errors.js';
import type { Btf } from '../btf/parser.js';

// The library modules are imported when the command runs, and only those it needs (the ELF
// reader for objects, one formatter): startup time is most of a `btf dump` of vmlinux.

/** The .BTF bytes of `bytes`: the file itself, or the .BTF section of an ELF object. */
export async function btfBytesOf(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const { parseElf } = await import('../elf/index.js');
    const sec = parseElf(bytes).section('.BTF');
    if (!sec) throw new FormatError('ELF', 0, 'the object has no .BTF section (compile with -g)');
    return sec.data;
  }
  return bytes;
}

/** Loads BTF from a file (raw or ELF), on top of an optional base file for split BTF. */
export async function loadBtf(file: string, baseFile?: string): Promise<Btf> {
  const { parseBtf } = await import('../btf/parser.js');
  const base = baseFile ? await loadBtf(baseFile) : undefined;
  return parseBtf(await btfBytesOf(readFileSync(file)), { base });
}

/** Writes all of `chunk` to fd 1, retrying on EAGAIN; a closed pipe ends the process quietly. */
function writeOut(chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) {
    try {
      off += writeSync(1, chunk, off, chunk.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') process.exit(0);
      throw err;
    }
  }
}

/** Adds `btf dump` to the tsbpf command. */
export function register(program: Command): void {
  const btf = program.command('btf').description('inspect BTF type information');
  btf
    .command('dump')
    .description('print the types of a raw BTF file or of an ELF object with a .BTF section')
    .argument('<file>', 'raw BTF (e.g. /sys/kernel/btf/vmlinux) or an ELF object')
    .option('-f, --format <format>', 'raw (as bpftool), c (vmlinux.h) or ts (TypeScript)', 'raw')
    .option('-t, --type <name>', "only this type (C/TS: and what it needs): 'name', 'struct name', or an id")
    .option('-B, --base <file>', 'base BTF for split BTF (e.g. vmlinux for a module)')
    .action(async (file: string, opts: { format: string; type?: string; base?: string }) => {
      if (!['raw', 'c', 'ts'].includes(opts.format)) {
        throw new ParseError('--format', 1, 1, `unknown format '${opts.format}', expected raw, c or ts`);
      }
      const spec = await loadBtf(file, opts.base);
      const ids = opts.type === undefined ? undefined : (await import('../btf/query.js')).findTypes(spec, opts.type);
      switch (opts.format) {
        case 'raw':
          (await import('../btf/format-raw.js')).writeRaw(spec, writeOut, { ids });
          break;
        case 'c':
          (await import('../btf/format-c.js')).writeC(spec, writeOut, { ids });
          break;
        case 'ts':
          writeOut(new TextEncoder().encode((await import('../btf/format-ts.js')).formatTs(spec, { ids })));
          break;
        default:
          throw new ParseError('--format', 1, 1, `unknown format '${opts.format}', expected raw, c or ts`);
      }
    });
}
