/**
 * The error classes every layer of tsbpf builds on. Errors carry fields (what, where, how to
 * fix), not only a message, so callers can react to them and tools can point at the culprit.
 */

/** Base class of every error tsbpf throws on purpose. */
export class TsbpfError extends Error {
  override name = 'TsbpfError';
}

/**
 * Bytes that do not follow the binary format they claim to be in: a truncated ELF, a BTF type
 * pointing past the string table, an instruction with a reserved field set.
 */
export class FormatError extends TsbpfError {
  override name = 'FormatError';
  constructor(
    /** The format being read: 'ELF', 'BTF', 'BTF.ext', 'bytecode', ... */
    readonly format: string,
    /** Byte offset (or instruction index for bytecode, see `unit`) where the problem starts. */
    readonly offset: number,
    /** What was wrong and what was expected instead. */
    readonly detail: string,
    /** What `offset` counts. */
    readonly unit: 'byte' | 'instruction' = 'byte',
  ) {
    super(`${format}: ${detail} (at ${unit} ${unit === 'byte' ? '0x' + offset.toString(16) : offset})`);
  }
}

/** Text that does not parse: assembly source, a ubpf-dialect test, a command-line value. */
export class ParseError extends TsbpfError {
  override name = 'ParseError';
  constructor(
    /** What was being parsed: 'asm', 'ubpf-asm', ... */
    readonly language: string,
    /** 1-based line number. */
    readonly line: number,
    /** 1-based column number. */
    readonly column: number,
    /** What was wrong and what was expected instead. */
    readonly detail: string,
    /** The file name, when the text came from one. */
    readonly file?: string,
  ) {
    super(`${file ?? language}:${line}:${column}: ${detail}`);
  }
}

/**
 * A feature the running kernel (or this build) lacks. Tests skip on it and say why; users get a
 * clear statement instead of an errno.
 */
export class NotSupportedError extends TsbpfError {
  override name = 'NotSupportedError';
  constructor(
    /** The missing feature, e.g. 'kprobe', 'BPF_MAP_TYPE_ARENA'. */
    readonly feature: string,
    /** Why it is unavailable and what the user can do about it. */
    readonly reason: string,
  ) {
    super(`${feature} is not supported: ${reason}`);
  }
}
