/**
 * Auto-attach: what the loader does for `attachAll()`. libbpf's section table says which attach
 * kind a program has (SectionDef.autoAttach); the section's extras say where
 * ('syscalls/sys_enter_execve', 'do_unlinkat+0x10', '/usr/bin/bash:readline',
 * '/usr/bin/python3:python:function__entry'). Kinds that need a target only known at run time
 * (cgroups, interfaces, perf events) are not auto-attached, as in libbpf.
 */
import { NotSupportedError } from '../errors.js';
import { registerAutoAttacher } from '../kernel/collection.js';
import type { Program } from '../kernel/program.js';
import { matchSection, type SectionMatch } from '../object/sections.js';
import { InvalidAttachError } from './errors.js';
import { iter } from './iter.js';
import { kprobe, kretprobe, ksyscall } from './kprobe.js';
import { kprobeMulti } from './kprobe-multi.js';
import type { Link } from './link.js';
import { lsm } from './lsm.js';
import { rawTracepoint } from './raw-tracepoint.js';
import { tracepoint } from './tracepoint.js';
import { tracing } from './tracing.js';
import { uprobe, uretprobe } from './uprobe.js';
import { uprobeMulti } from './uprobe-multi.js';
import { usdt, type UsdtOptions } from './usdt.js';

/** Options of {@link attach}. */
export interface AutoAttachOptions {
  /** For USDT programs: the object's usdt.bpf.h maps and their layout. */
  usdt?: Pick<UsdtOptions, 'specs' | 'ipToSpecId' | 'specLayout'>;
  /** A BPF cookie, for kinds that take one. */
  cookie?: bigint;
}

/** "func", "func+16", "func+0x10" -> [func, offset]. */
function symbolAndOffset(text: string, kind: string): [string, number] {
  const m = /^([^+\s]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(text);
  if (!m) throw new InvalidAttachError(kind, `expected FUNCTION or FUNCTION+OFFSET, not '${text}'`);
  return [m[1]!, m[2] ? Number(m[2]) : 0];
}

function need(extras: string, kind: string, shape: string): string {
  if (!extras) throw new InvalidAttachError(kind, `the section names no target; expected SEC("${kind}/${shape}")`);
  return extras;
}

/**
 * Attaches `program` the way its ELF section says, as libbpf's auto-attach does: tracepoints,
 * raw tracepoints, tp_btf/fentry/fexit/fmod_ret/freplace, LSM, iterators, kprobes/kretprobes,
 * ksyscall, kprobe.multi, uprobes/uretprobes, uprobe.multi and USDT. `section` is the section
 * name or its match from matchSection(); without it, the section of the spec a Collection
 * loaded the program from.
 *
 * @example
 * using link = attach(prog, 'tracepoint/syscalls/sys_enter_execve');
 */
export function attach(program: Program, section?: string | SectionMatch, options: AutoAttachOptions = {}): Link {
  // A program a Collection loaded knows its section (Program.spec).
  section ??= (program as { spec?: { section?: string } }).spec?.section;
  if (section === undefined) throw new InvalidAttachError('attach', `program '${program.name}' has no section to attach by: pass one (e.g. 'tracepoint/syscalls/sys_enter_execve')`);
  const match = typeof section === 'string' ? matchSection(section) : section;
  const name = typeof section === 'string' ? section : section.extras ? `${section.def.prefix}/${section.extras}` : section.def.prefix;
  if (!match) throw new InvalidAttachError('attach', `section '${name}' is not one libbpf knows`);
  const { def, extras } = match;
  const prefix = def.prefix.replace(/\.s$/, '');
  const cookie = options.cookie;
  switch (def.autoAttach) {
    case 'tracepoint': {
      const target = need(extras, prefix, 'CATEGORY/NAME');
      const slash = target.indexOf('/');
      if (slash <= 0) throw new InvalidAttachError('tracepoint', `expected CATEGORY/NAME, not '${target}'`);
      return tracepoint(program, target.slice(0, slash), target.slice(slash + 1), { cookie });
    }
    case 'raw_tracepoint':
      return rawTracepoint(program, need(extras, prefix, 'NAME'), { cookie });
    case 'tracing':
      return tracing(program, { cookie, target: extras || undefined });
    case 'lsm':
      return lsm(program, { cookie, target: extras || undefined });
    case 'iter':
      return iter(program, { target: extras || undefined });
    case 'kprobe': {
      const [symbol, offset] = symbolAndOffset(need(extras, prefix, 'FUNCTION'), prefix);
      if (prefix === 'kretprobe' && offset) throw new InvalidAttachError('kretprobe', `a kretprobe takes no offset: '${extras}'`);
      return prefix === 'kretprobe' ? kretprobe(program, symbol, { cookie }) : kprobe(program, symbol, { offset, cookie });
    }
    case 'ksyscall':
      return ksyscall(program, need(extras, prefix, 'SYSCALL'), { retprobe: prefix === 'kretsyscall', cookie });
    case 'kprobe.multi':
      return kprobeMulti(program, { pattern: need(extras, prefix, 'PATTERN'), retprobe: prefix === 'kretprobe.multi' });
    case 'uprobe': {
      const target = need(extras, prefix, 'BINARY:FUNCTION[+OFFSET]');
      const colon = target.indexOf(':');
      if (colon <= 0) throw new InvalidAttachError(prefix, `expected BINARY:FUNCTION[+OFFSET] or BINARY:0xOFFSET, not '${target}'`);
      const binary = target.slice(0, colon);
      const where = target.slice(colon + 1);
      const fn = prefix === 'uretprobe' ? uretprobe : uprobe;
      if (/^(0x[0-9a-fA-F]+|\d+)$/.test(where)) return fn(program, binary, undefined, { offset: BigInt(where), cookie });
      const [symbol, offset] = symbolAndOffset(where, prefix);
      return fn(program, binary, symbol, { offset, cookie });
    }
    case 'uprobe.multi': {
      const target = need(extras, prefix, 'BINARY:PATTERN');
      const colon = target.indexOf(':');
      if (colon <= 0) throw new InvalidAttachError(prefix, `expected BINARY:PATTERN, not '${target}'`);
      return uprobeMulti(program, target.slice(0, colon), { pattern: target.slice(colon + 1), retprobe: prefix === 'uretprobe.multi' });
    }
    case 'usdt': {
      const target = need(extras, prefix, 'BINARY:PROVIDER:NAME');
      const m = /^(.+):([^:]+):([^:]+)$/.exec(target);
      if (!m) throw new InvalidAttachError('usdt', `expected BINARY:PROVIDER:NAME, not '${target}'`);
      return usdt(program, m[1]!, m[2]!, m[3]!, { ...options.usdt, cookie });
    }
    case 'kprobe.session':
      throw new NotSupportedError('kprobe.session auto-attach', 'tsbpf does not attach kprobe.session programs yet');
    case undefined:
      throw new InvalidAttachError(
        'attach',
        `section '${name}' (${def.progType}) is not auto-attached: its target is only known at run time; call cgroup(), xdp(), tcx(), perfEvent() or the like with one`,
      );
  }
}

// Collection.attachAll() uses this dispatcher once the link layer is loaded (the kernel layer
// cannot import it: arrows point down).
// Bare sections of kinds that need a target (SEC("usdt"), SEC("uprobe"), SEC("kprobe")) are
// skipped, as libbpf skips them: the application attaches those itself.
const NEEDS_TARGET = new Set(['tracepoint', 'raw_tracepoint', 'kprobe', 'ksyscall', 'kprobe.multi', 'kprobe.session', 'uprobe', 'uprobe.multi', 'usdt']);
registerAutoAttacher((program, spec) => {
  const def = spec.sectionDef;
  if (!def?.autoAttach || (spec.attachTo === '' && NEEDS_TARGET.has(def.autoAttach))) return undefined;
  return attach(program, { def, extras: spec.attachTo });
});
