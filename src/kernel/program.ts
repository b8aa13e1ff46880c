/**
 * A loaded BPF program. Loading tries once without a verifier log (fast), and on failure
 * again with one, growing the buffer until the whole log fits, so a rejection always comes
 * with the verifier's own words, the failing instruction and, when line info was given, the
 * source line.
 */
import { decode, encode } from '../asm/codec.js';
import type { Instruction } from '../asm/instruction.js';
import { cString } from '../bytes/reader.js';
import { NotSupportedError, TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/index.js';
import { bpfAttr, Errno, Fd, HOST_LE, newAttr, PermissionError, syscallError } from '../sys/index.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { STRUCTS } from '../uapi/layouts.js';
import { readKernelConfig } from './kconfig.js';
import { openPinnedFd, pinFd, unpinPath } from './pin.js';
import { programDebugInfo, programFdById, programIds, programInfo, programXlatedBytes, type ProgramInfo, type XlatedDebugInfo } from './prog-info.js';
import { testRun, type TestRunOptions, type TestRunResult } from './test-run.js';

/** A program type name as in `enum bpf_prog_type` without its prefix ('TRACEPOINT', 'XDP', ...). */
export type ProgTypeName = keyof typeof ProgType;
/** An attach type name as in `enum bpf_attach_type` without BPF_ ('CGROUP_DEVICE', ...). */
export type AttachTypeName = keyof typeof AttachType;

/** A line of source a program instruction came from (from .BTF.ext line_info). */
export interface SourceLine {
  /** Index into the program's instructions. */
  index: number;
  fileName: string;
  line: number;
  column: number;
  lineText: string;
}

/** BTF that describes a program: its object's BTF fd plus func_info and line_info records. */
export interface ProgramBtf {
  fd: number;
  funcInfos: ReadonlyArray<{ index: number; typeId: number }>;
  lineInfos: ReadonlyArray<SourceLine & { fileNameOff: number; lineOff: number }>;
}

/** What BPF_PROG_LOAD needs. */
export interface ProgramLoadOptions {
  type: ProgTypeName;
  instructions: readonly Instruction[];
  /** 'GPL' (or compatible) unlocks GPL-only helpers. */
  license: string;
  /** Up to 15 characters, shown by bpftool. */
  name?: string;
  expectedAttachType?: AttachTypeName;
  /** BTF id of the attach target in vmlinux (fentry, tp_btf, lsm, iter). */
  attachBtfId?: number;
  /** fd of the BTF object holding attachBtfId, for kernel modules (0 = vmlinux). */
  attachBtfObjFd?: number;
  /** fd of the program an extension (freplace) attaches to. */
  attachProgFd?: number;
  /** BPF_F_* program flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ...). */
  flags?: number;
  kernelVersion?: number;
  btf?: ProgramBtf;
  /** Map fds referred to by index (ld_imm64 src = BPF_PSEUDO_MAP_IDX). */
  fdArray?: readonly number[];
  /** Verifier log level when loading fails (default 1; 2 logs every state). */
  logLevel?: 1 | 2;
}

/**
 * The verifier rejected a program: `log` has everything it said, `reason` its final word,
 * `index` the instruction it stopped at and `source` that instruction's source line.
 */
export class VerifierError extends TsbpfError {
  override name = 'VerifierError';
  constructor(
    /** The program's name. */
    readonly program: string,
    readonly errno: number,
    /** The verifier's complete log. */
    readonly log: string,
    /** The line that explains the rejection, e.g. "R0 !read_ok". */
    readonly reason: string,
    /** The instruction (slot) the verifier stopped at, when the log says. */
    readonly insn: number | undefined,
    /** The source line of that instruction, when the program had line info. */
    readonly source: SourceLine | undefined,
  ) {
    const where = source ? ` at ${source.fileName}:${source.line}:${source.column} (${source.lineText.trim()})` : insn !== undefined ? ` at instruction ${insn}` : '';
    super(`the verifier rejected program '${program}'${where}: ${reason}\n${tailOf(log, 12)}`);
  }

  /** The last `lines` lines of the log. */
  tail(lines = 20): string {
    return tailOf(this.log, lines);
  }
}

function tailOf(log: string, lines: number): string {
  const all = log.trimEnd().split('\n');
  return all.slice(-lines).map((l) => `  | ${l}`).join('\n');
}

/** Pulls the rejection reason and the failing instruction out of a verifier log. */
export function parseVerifierLog(log: string): { reason: string; insn: number | undefined } {
  const lines = log.trimEnd().split('\n');
  let end = lines.length;
  // The log ends with statistics ("processed N insns ...", "verification time ...") on success
  // and failure alike; the reason is the last line before them.
  while (end > 0 && /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read)/.test(lines[end - 1]!)) end--;
  const reason = lines[end - 1]?.trim() || 'no reason given (empty verifier log)';
  let insn: number | undefined;
  for (let i = end - 1; i >= 0; i--) {
    const m = /^(\d+): (\(|R\d|frame)/.exec(lines[i]!);
    if (m) {
      insn = Number(m[1]);
      break;
    }
  }
  return { reason, insn };
}

const INITIAL_LOG = 64 * 1024;
const MAX_LOG = 64 * 1024 * 1024;

/** A BPF program in the kernel. */
export class Program implements Disposable {
  /**
   * The spec the program was loaded from, when a Collection loaded it: its section, attach
   * target (`spec.attachTo`) and how it auto-attaches (`spec.sectionDef?.autoAttach`).
   */
  spec: ProgramSpec | undefined;
  private pinned: string | undefined;

  protected constructor(
    readonly fd: Fd,
    readonly name: string,
    readonly type: ProgTypeName,
    readonly attachType: AttachTypeName | undefined,
    /** Where each instruction came from, when loaded with line info. */
    readonly lineInfos: readonly SourceLine[],
  ) {}

  /**
   * Loads a program (BPF_PROG_LOAD). A verifier rejection is a VerifierError with the whole
   * log; missing privileges a PermissionError; an unknown program type a NotSupportedError.
   *
   * @example
   * using prog = Program.load({ type: 'SOCKET_FILTER', license: 'GPL', instructions: new ProgramBuilder().mov(R0, 0).exit().build().instructions });
   */
  static load(options: ProgramLoadOptions): Program {
    const name = options.name ?? '';
    const attr = newAttr('PROG_LOAD');
    const insns = encode(options.instructions);
    const type = ProgType[options.type];
    if (type === undefined) throw new NotSupportedError(`program type '${options.type}'`, 'unknown to this kernel version of tsbpf');
    attr.assign({
      prog_type: type,
      insns,
      insn_cnt: insns.byteLength / 8,
      license: options.license,
      prog_name: name.slice(0, 15),
      expected_attach_type: options.expectedAttachType ? AttachType[options.expectedAttachType] : undefined,
      attach_btf_id: options.attachBtfId,
      attach_btf_obj_fd: options.attachBtfObjFd,
      attach_prog_fd: options.attachProgFd,
      prog_flags: options.flags,
      kern_version: options.kernelVersion,
    });
    if (options.fdArray?.length) attr.set('fd_array', new Uint8Array(Int32Array.from(options.fdArray).buffer));
    if (options.btf) setBtf(attr, options.instructions, options.btf);
    const hints = { insns: `[${insns.byteLength / 8} instructions]` };
    const subject = `program '${name}' (${options.type})`;

    // Every failure is classified here, so every errno comes back rather than being thrown.
    const first = bpfAttr('PROG_LOAD', attr, { allow: 'all', subject, hints });
    if (first.ret >= 0) return new Program(new Fd(first.ret), name, options.type, options.expectedAttachType, options.btf?.lineInfos ?? []);
    const errno = -first.ret;
    if (errno === Errno.EPERM) {
      throw new PermissionError(
        'BPF_PROG_LOAD',
        errno,
        process.geteuid?.() === 0
          ? `this process is root, so the kernel refuses ${options.type}${options.expectedAttachType ? `/${options.expectedAttachType}` : ''} programs here (lockdown, an LSM, or a kernel without the needed support); tsbpf's feature probes report this kind unavailable`
          : 'needs root, or CAP_BPF + CAP_PERFMON (CAP_NET_ADMIN for network programs)',
        subject,
      );
    }
    // Load again with the verifier log on, growing the buffer until the log fits.
    let size = INITIAL_LOG;
    for (;;) {
      const log = new Uint8Array(size);
      attr.assign({ log_level: options.logLevel ?? 1, log_buf: log, log_size: size, log_true_size: 0 });
      const again = bpfAttr('PROG_LOAD', attr, { allow: 'all', subject, hints: { ...hints, log_buf: `[${size} bytes]` } });
      if (again.ret >= 0) return new Program(new Fd(again.ret), name, options.type, options.expectedAttachType, options.btf?.lineInfos ?? []);
      const trueSize = attr.num('log_true_size');
      if (-again.ret === Errno.ENOSPC && size < MAX_LOG) {
        size = Math.min(MAX_LOG, trueSize > size ? trueSize : size * 4);
        continue;
      }
      const text = cString(log);
      if (text === '' && (-again.ret === Errno.EINVAL || -again.ret === Errno.E2BIG || -again.ret === Errno.ENOTSUPP)) {
        throw syscallError('BPF_PROG_LOAD', -again.ret, subject);
      }
      const { reason, insn } = parseVerifierLog(text);
      // fmod_ret may change only security_* hooks and functions on the error-injection list; a
      // kernel built without CONFIG_FUNCTION_ERROR_INJECTION (Debian's 6.1) has no such list.
      if (options.expectedAttachType === 'MODIFY_RETURN' && /is not modifiable/.test(reason) && !readKernelConfig()?.map.has('CONFIG_FUNCTION_ERROR_INJECTION')) {
        throw new NotSupportedError(
          'fmod_ret',
          `${reason}: this kernel has no error injection (CONFIG_FUNCTION_ERROR_INJECTION is off, or its configuration cannot be read), so fmod_ret can change only security_* functions; use an LSM program or fmod_ret on a security_* hook`,
        );
      }
      const source = insn === undefined ? undefined : sourceOf(options.instructions, options.btf?.lineInfos ?? [], insn);
      throw new VerifierError(name, -again.ret, text, reason, insn, source);
    }
  }

  /** Wraps an fd the caller owns from now on (from a pin or an id). */
  static fromFd(fd: Fd, name: string, type: ProgTypeName, attachType?: AttachTypeName): Program {
    return new Program(fd, name, type, attachType, []);
  }

  /** Wraps an fd of unknown origin, reading its name and type from the kernel (closes it on failure). */
  private static adopt(fd: Fd): Program {
    let info: ProgramInfo;
    try {
      info = programInfo(fd.value);
    } catch (err) {
      fd.close();
      throw err;
    }
    if (!(info.type in ProgType)) {
      fd.close();
      throw new NotSupportedError(`program type ${info.typeId}`, `program '${info.name}' (id ${info.id}) has a type newer than tsbpf's tables`);
    }
    return Program.fromFd(fd, info.name, info.type as ProgTypeName);
  }

  /**
   * Opens a loaded program by id (BPF_PROG_GET_FD_BY_ID, 4.13+), as `bpftool prog` lists them.
   *
   * @example
   * for (const id of Program.ids()) { using p = Program.fromId(id); console.log(p.name); }
   */
  static fromId(id: number): Program {
    return Program.adopt(programFdById(id));
  }

  /** Ids of all programs loaded in the kernel (BPF_PROG_GET_NEXT_ID, 4.13+). */
  static ids(): number[] {
    return programIds();
  }

  /**
   * Opens a pinned program (BPF_OBJ_GET).
   *
   * @example
   * using p = Program.fromPin('/sys/fs/bpf/myapp/on_exec');
   */
  static fromPin(path: string): Program {
    const p = Program.adopt(openPinnedFd(path));
    p.pinned = path;
    return p;
  }

  /**
   * Pins the program at `path` on bpffs (BPF_OBJ_PIN), where it stays loaded after this
   * process exits until the pin is removed ({@link unpin}).
   *
   * @example
   * prog.pin('/sys/fs/bpf/myapp/on_exec');
   */
  pin(path: string): void {
    this.pinned = pinFd(this.fd.value, path, `program '${this.name}'`);
  }

  /** Removes the pin made by {@link pin} (or opened by {@link fromPin}); false if it was gone. */
  unpin(): boolean {
    if (!this.pinned) return false;
    const removed = unpinPath(this.pinned);
    this.pinned = undefined;
    return removed;
  }

  /** Where this program was pinned by {@link pin}, if it was. */
  get pinnedPath(): string | undefined {
    return this.pinned;
  }

  /**
   * Runs the program once on the given input without attaching it (BPF_PROG_TEST_RUN, 4.12+;
   * XDP, skb, flow dissector, raw tracepoint, syscall and fentry/fexit programs). Throws
   * NotSupportedError for program types the kernel cannot test-run.
   *
   * @example
   * prog.testRun({ data: new Uint8Array(64) }).retval; // 2 (XDP_PASS)
   */
  testRun(options: TestRunOptions = {}): TestRunResult {
    return testRun(this.fd.value, options, `program '${this.name}'`);
  }

  /**
   * What the kernel says about the program (bpf_prog_info): id, tag, map ids, sizes, and run
   * time/count while statistics are enabled.
   *
   * @example
   * prog.info().mapIds;
   */
  info(): ProgramInfo {
    return programInfo(this.fd.value, `program '${this.name}'`);
  }

  /**
   * The instructions as the kernel runs them before JIT (the verifier's rewrites applied, map
   * fds replaced by map ids), decoded; print them with `formatInstruction`.
   *
   * @example
   * prog.xlated().map((i) => formatInstruction(i, { llvm: 19 }));
   */
  xlated(): Instruction[] {
    return decode(programXlatedBytes(this.fd.value, `program '${this.name}'`), { littleEndian: HOST_LE, strict: false });
  }

  /** The program's BTF and func/line info against {@link xlated}, when loaded with BTF. */
  debugInfo(): XlatedDebugInfo | undefined {
    return programDebugInfo(this.fd.value, `program '${this.name}'`);
  }

  /** Closes the program's fd; links and prog arrays that hold it keep it loaded. */
  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Slot index of each instruction (ld_imm64 takes two). */
function slotsOf(instructions: readonly Instruction[]): number[] {
  const out: number[] = [];
  let slot = 0;
  for (const insn of instructions) {
    out.push(slot);
    slot += insn.code === 0x18 ? 2 : 1;
  }
  return out;
}

/** The source line covering slot `insn`: the last line_info at or before it. */
function sourceOf(instructions: readonly Instruction[], lines: readonly SourceLine[], insn: number): SourceLine | undefined {
  const slots = slotsOf(instructions);
  let best: SourceLine | undefined;
  for (const l of lines) if (slots[l.index]! <= insn && (!best || slots[l.index]! >= slots[best.index]!)) best = l;
  return best;
}

/** Fills prog_btf_fd, func_info and line_info (insn_off in slots, as the kernel counts). */
function setBtf(attr: ReturnType<typeof newAttr<'PROG_LOAD'>>, instructions: readonly Instruction[], btf: ProgramBtf): void {
  const slots = slotsOf(instructions);
  const funcSize = STRUCTS.bpf_func_info.size;
  const lineSize = STRUCTS.bpf_line_info.size;
  const funcs = new DataView(new ArrayBuffer(btf.funcInfos.length * funcSize));
  btf.funcInfos.forEach((f, i) => {
    funcs.setUint32(i * funcSize, slots[f.index]!, true);
    funcs.setUint32(i * funcSize + 4, f.typeId, true);
  });
  const lines = new DataView(new ArrayBuffer(btf.lineInfos.length * lineSize));
  btf.lineInfos.forEach((l, i) => {
    lines.setUint32(i * lineSize, slots[l.index]!, true);
    lines.setUint32(i * lineSize + 4, l.fileNameOff, true);
    lines.setUint32(i * lineSize + 8, l.lineOff, true);
    lines.setUint32(i * lineSize + 12, (l.line << 10) | (l.column & 0x3ff), true);
  });
  attr.assign({ prog_btf_fd: btf.fd });
  if (btf.funcInfos.length) attr.assign({ func_info: new Uint8Array(funcs.buffer), func_info_cnt: btf.funcInfos.length, func_info_rec_size: funcSize });
  if (btf.lineInfos.length) attr.assign({ line_info: new Uint8Array(lines.buffer), line_info_cnt: btf.lineInfos.length, line_info_rec_size: lineSize });
}
