/**
 * USDT argument specs: the strings in a .note.stapsdt entry that say where each argument of a
 * probe lives at the probe site ("-4@%esi 8@-24(%rbp) 4@$5"), parsed, and encoded into the
 * values of the `__bpf_usdt_specs` map that libbpf's usdt.bpf.h reads in bpf_usdt_arg().
 *
 * The map value is struct __bpf_usdt_spec from usdt.bpf.h: up to 12 struct
 * __bpf_usdt_arg_spec { u64 val_off; enum arg_type; short reg_off; bool arg_signed;
 * char arg_bitshift }, then u64 usdt_cookie and short arg_cnt. Its layout differs between
 * libbpf releases (libbpf 1.7 packs an index register and scale for SIB operands into bitfields),
 * so the layout is read from the BPF object's own BTF when it has one
 * ({@link usdtSpecLayoutFromBtf}); {@link CLASSIC_USDT_SPEC_LAYOUT} is libbpf 1.0–1.6's.
 *
 * Supported operands: constants ($N), registers (%reg, any width), memory at register + offset
 * (N(%reg), (%reg)), and scale-index-base memory (N(%base,%idx,S); needs a BPF object built
 * with libbpf 1.7's usdt.bpf.h). Not supported: symbol-relative operands (sym(%rip)), as in
 * libbpf. Registers are known for x86_64 and aarch64.
 */
import { BtfKind, resolveType, sizeOf, type Btf } from '../btf/index.js';
import { InvalidAttachError } from './errors.js';

/** enum __bpf_usdt_arg_type (usdt.bpf.h). */
export const UsdtArgType = { CONST: 0, REG: 1, REG_DEREF: 2, SIB: 3 } as const;

/** One parsed argument. */
export interface UsdtArg {
  type: (typeof UsdtArgType)[keyof typeof UsdtArgType];
  /** Size in bytes (1, 2, 4, 8). */
  size: number;
  signed: boolean;
  /** CONST: the value; REG_DEREF/SIB: the displacement. */
  valOff: bigint;
  /** offsetof(struct pt_regs, reg) of the (base) register; 0 for CONST. */
  regOff: number;
  /** SIB: offsetof(struct pt_regs, index register) and log2(scale). */
  idxRegOff?: number;
  scaleShift?: number;
  /** The text it came from. */
  text: string;
}

/** A field of struct __bpf_usdt_arg_spec: bit offset and width. */
interface BitField {
  bit: number;
  bits: number;
}

/** Where things are in a __bpf_usdt_specs map value. */
export interface UsdtSpecLayout {
  /** sizeof(struct __bpf_usdt_spec). */
  size: number;
  /** Byte offset of args[0], and sizeof(struct __bpf_usdt_arg_spec). */
  argsOffset: number;
  argSize: number;
  /** BPF_USDT_MAX_ARG_CNT. */
  maxArgs: number;
  cookieOffset: number;
  argCntOffset: number;
  arg: {
    valOff: BitField;
    argType: BitField;
    regOff: BitField;
    argSigned: BitField;
    argBitshift: BitField;
    idxRegOff?: BitField;
    scaleBitshift?: BitField;
  };
}

/** struct __bpf_usdt_spec of libbpf 1.0 to 1.6 (208 bytes, 16-byte argument specs). */
export const CLASSIC_USDT_SPEC_LAYOUT: UsdtSpecLayout = {
  size: 208,
  argsOffset: 0,
  argSize: 16,
  maxArgs: 12,
  cookieOffset: 192,
  argCntOffset: 200,
  arg: {
    valOff: { bit: 0, bits: 64 },
    argType: { bit: 64, bits: 32 },
    regOff: { bit: 96, bits: 16 },
    argSigned: { bit: 112, bits: 8 },
    argBitshift: { bit: 120, bits: 8 },
  },
};

/**
 * struct __bpf_usdt_spec of libbpf 1.7 on little-endian machines (304 bytes: 24-byte argument
 * specs whose arg_type, idx_reg_off and scale_bitshift are bitfields).
 */
export const LIBBPF_1_7_USDT_SPEC_LAYOUT: UsdtSpecLayout = {
  size: 304,
  argsOffset: 0,
  argSize: 24,
  maxArgs: 12,
  cookieOffset: 288,
  argCntOffset: 296,
  arg: {
    valOff: { bit: 0, bits: 64 },
    argType: { bit: 64, bits: 8 },
    idxRegOff: { bit: 80, bits: 12 },
    scaleBitshift: { bit: 92, bits: 4 },
    regOff: { bit: 112, bits: 16 },
    argSigned: { bit: 128, bits: 8 },
    argBitshift: { bit: 136, bits: 8 },
  },
};

/** The known layout with values of `size` bytes (what a specs map's value_size says), if any. */
export function usdtSpecLayoutBySize(size: number): UsdtSpecLayout | undefined {
  return [CLASSIC_USDT_SPEC_LAYOUT, LIBBPF_1_7_USDT_SPEC_LAYOUT].find((l) => l.size === size);
}

/**
 * The layout of struct __bpf_usdt_spec as a BPF object's BTF declares it (`valueTypeId` is the
 * __bpf_usdt_specs map's value type). Throws InvalidAttachError when the type does not look
 * like usdt.bpf.h's.
 */
export function usdtSpecLayoutFromBtf(btf: Btf, valueTypeId: number): UsdtSpecLayout {
  const fail = (why: string): never => {
    throw new InvalidAttachError('usdt', `the __bpf_usdt_specs value type is not usdt.bpf.h's struct __bpf_usdt_spec: ${why}`);
  };
  const specId = resolveType(btf, valueTypeId);
  const spec = btf.type(specId);
  if (spec.kind !== BtfKind.STRUCT) return fail('not a struct');
  const member = (s: typeof spec, name: string) => s.members.find((m) => m.name === name) ?? fail(`no member '${name}'`);
  const args = member(spec, 'args');
  const arr = btf.type(resolveType(btf, args.type));
  if (arr.kind !== BtfKind.ARRAY) return fail('args is not an array');
  const argStructId = resolveType(btf, arr.type);
  const argStruct = btf.type(argStructId);
  if (argStruct.kind !== BtfKind.STRUCT) return fail('args[] is not a struct');
  const field = (name: string, optional = false): BitField | undefined => {
    const m = argStruct.members.find((x) => x.name === name);
    if (!m) return optional ? undefined : fail(`no member '${name}' in the argument spec`);
    return { bit: m.bitOffset, bits: m.bitfieldSize || (sizeOf(btf, m.type) ?? 0) * 8 };
  };
  const layout: UsdtSpecLayout = {
    size: spec.size,
    argsOffset: args.bitOffset / 8,
    argSize: argStruct.size,
    maxArgs: arr.nelems,
    cookieOffset: member(spec, 'usdt_cookie').bitOffset / 8,
    argCntOffset: member(spec, 'arg_cnt').bitOffset / 8,
    arg: {
      valOff: field('val_off')!,
      argType: field('arg_type')!,
      regOff: field('reg_off')!,
      argSigned: field('arg_signed')!,
      argBitshift: field('arg_bitshift')!,
    },
  };
  const idx = field('idx_reg_off', true);
  const scale = field('scale_bitshift', true);
  if (idx) layout.arg.idxRegOff = idx;
  if (scale) layout.arg.scaleBitshift = scale;
  return layout;
}

/** offsetof(struct pt_regs, reg) by register name, per architecture (arch/x86 and arm64 ptrace.h). */
const X86_64_REGS: Record<string, number> = (() => {
  const offsets: Record<string, number> = { r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, dx: 96, si: 104, di: 112, ip: 128, sp: 152 };
  const names: Record<string, number> = {};
  for (const r of ['ax', 'bx', 'cx', 'dx']) {
    const off = offsets[r]!;
    for (const n of [`r${r}`, `e${r}`, r, `${r[0]}l`]) names[n] = off;
  }
  for (const r of ['si', 'di', 'bp', 'sp']) {
    const off = offsets[r]!;
    for (const n of [`r${r}`, `e${r}`, r, `${r}l`]) names[n] = off;
  }
  for (let i = 8; i <= 15; i++) {
    const off = offsets[`r${i}`]!;
    for (const n of [`r${i}`, `r${i}d`, `r${i}w`, `r${i}b`]) names[n] = off;
  }
  names.rip = names.eip = offsets.ip!;
  return names;
})();

const AARCH64_REGS: Record<string, number> = (() => {
  const names: Record<string, number> = { sp: 31 * 8, pc: 32 * 8 };
  for (let i = 0; i <= 30; i++) names[`x${i}`] = names[`w${i}`] = i * 8;
  names.fp = 29 * 8;
  names.lr = 30 * 8;
  return names;
})();

/** The register table of an architecture (process.arch names). */
export function ptRegsOffsets(arch: string = process.arch): Readonly<Record<string, number>> {
  if (arch === 'x64') return X86_64_REGS;
  if (arch === 'arm64') return AARCH64_REGS;
  throw new InvalidAttachError('usdt', `USDT argument registers are known for x64 and arm64, not ${arch}`);
}

function register(name: string, text: string, regs: Readonly<Record<string, number>>): number {
  const off = regs[name];
  if (off === undefined) throw new InvalidAttachError('usdt', `unknown register '%${name}' in argument '${text}'`);
  return off;
}

const NUMBER = '(-?(?:0x[0-9a-fA-F]+|\\d+))';

/**
 * Parses the argument string of a USDT note ("-4@%esi 8@-24(%rbp)") for `arch` (x64, arm64).
 *
 * @example
 * parseUsdtArgs('-4@%edi 8@$10')[1]; // { type: CONST, size: 8, signed: false, valOff: 10n, ... }
 */
export function parseUsdtArgs(spec: string, arch: string = process.arch): UsdtArg[] {
  const trimmed = spec.trim();
  if (trimmed === '') return [];
  const regs = ptRegsOffsets(arch);
  const x86 = arch === 'x64';
  // Arguments are separated by spaces, except inside aarch64's brackets ('-4@[sp, 12]').
  return (trimmed.match(/(?:[^\s[]|\[[^\]]*\])+/g) ?? []).map((text) => {
    const at = /^(-?\d+)@(.+)$/.exec(text);
    const sizeField = at ? Number(at[1]) : 8;
    const operand = at ? at[2]! : text;
    const size = Math.abs(sizeField);
    if (![1, 2, 4, 8].includes(size)) throw new InvalidAttachError('usdt', `argument '${text}' has size ${size}; expected 1, 2, 4 or 8`);
    const base = { size, signed: sizeField < 0, text };
    let m: RegExpExecArray | null;
    if (x86) {
      if ((m = new RegExp(`^\\$${NUMBER}$`).exec(operand))) return { ...base, type: UsdtArgType.CONST, valOff: BigInt(m[1]!), regOff: 0 };
      if ((m = /^%(\w+)$/.exec(operand))) return { ...base, type: UsdtArgType.REG, valOff: 0n, regOff: register(m[1]!, text, regs) };
      if ((m = new RegExp(`^${NUMBER}?\\(%(\\w+)\\)$`).exec(operand))) return { ...base, type: UsdtArgType.REG_DEREF, valOff: BigInt(m[1] ?? 0), regOff: register(m[2]!, text, regs) };
      if ((m = new RegExp(`^${NUMBER}?\\(%(\\w+),%(\\w+)(?:,(\\d))?\\)$`).exec(operand))) {
        const scale = Number(m[4] ?? 1);
        const scaleShift = [1, 2, 4, 8].indexOf(scale);
        if (scaleShift < 0) throw new InvalidAttachError('usdt', `argument '${text}' has scale ${scale}; expected 1, 2, 4 or 8`);
        return { ...base, type: UsdtArgType.SIB, valOff: BigInt(m[1] ?? 0), regOff: register(m[2]!, text, regs), idxRegOff: register(m[3]!, text, regs), scaleShift };
      }
    } else {
      // aarch64: "8@x0", "4@[sp, 12]", "-4@[x1]", "8@5" (a constant)
      if ((m = new RegExp(`^${NUMBER}$`).exec(operand))) return { ...base, type: UsdtArgType.CONST, valOff: BigInt(m[1]!), regOff: 0 };
      if ((m = /^(\w+)$/.exec(operand))) return { ...base, type: UsdtArgType.REG, valOff: 0n, regOff: register(m[1]!, text, regs) };
      if ((m = new RegExp(`^\\[(\\w+)(?:,\\s*${NUMBER})?\\]$`).exec(operand))) return { ...base, type: UsdtArgType.REG_DEREF, valOff: BigInt(m[2] ?? 0), regOff: register(m[1]!, text, regs) };
    }
    throw new InvalidAttachError('usdt', `unsupported USDT argument '${text}' (symbol-relative and other exotic operands are not supported)`);
  }) as UsdtArg[];
}

function writeBits(view: DataView, byteBase: number, f: BitField, value: bigint): void {
  // Little-endian bit numbering: bit i of the struct is bit (i % 8) of byte i / 8.
  const v = BigInt.asUintN(f.bits, value);
  for (let i = 0; i < f.bits; i++) {
    const bit = f.bit + i;
    const at = byteBase + (bit >> 3);
    const mask = 1 << (bit & 7);
    const cur = view.getUint8(at);
    view.setUint8(at, (v >> BigInt(i)) & 1n ? cur | mask : cur & ~mask);
  }
}

/**
 * A __bpf_usdt_specs map value for `args` and `cookie` (what bpf_usdt_cookie() returns), in
 * `layout`. Little-endian hosts only (bitfields are laid out LSB first).
 */
export function encodeUsdtSpec(args: readonly UsdtArg[], cookie: bigint, layout: UsdtSpecLayout = CLASSIC_USDT_SPEC_LAYOUT): Uint8Array {
  if (args.length > layout.maxArgs) throw new InvalidAttachError('usdt', `${args.length} arguments; usdt.bpf.h handles at most ${layout.maxArgs}`);
  const out = new Uint8Array(layout.size);
  const view = new DataView(out.buffer);
  args.forEach((a, i) => {
    const base = layout.argsOffset + i * layout.argSize;
    if (a.type === UsdtArgType.SIB && (!layout.arg.idxRegOff || !layout.arg.scaleBitshift)) {
      throw new InvalidAttachError('usdt', `argument '${a.text}' uses scale-index-base addressing, which the program's usdt.bpf.h (before libbpf 1.7) cannot read`);
    }
    writeBits(view, base, layout.arg.valOff, a.valOff);
    writeBits(view, base, layout.arg.argType, BigInt(a.type));
    writeBits(view, base, layout.arg.regOff, BigInt(a.regOff));
    writeBits(view, base, layout.arg.argSigned, a.signed ? 1n : 0n);
    writeBits(view, base, layout.arg.argBitshift, BigInt(64 - a.size * 8));
    if (a.type === UsdtArgType.SIB) {
      writeBits(view, base, layout.arg.idxRegOff!, BigInt(a.idxRegOff!));
      writeBits(view, base, layout.arg.scaleBitshift!, BigInt(a.scaleShift!));
    }
  });
  view.setBigUint64(layout.cookieOffset, BigInt.asUintN(64, cookie), true);
  view.setInt16(layout.argCntOffset, args.length, true);
  return out;
}
