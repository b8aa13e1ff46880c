/**
 * `objdump --annotate`: a plain-language comment per instruction, the way one explains bytecode
 * to a newcomer: helper calls by name and signature, map and global references by name,
 * context fields by name, stack slots, what a branch tests and what the program returns.
 *
 * A small forward data-flow pass over each function tracks what every register holds (the
 * context, a stack address, a map, a map value, a constant) so the comments can say it.
 */
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, LD_IMM64, Mode, PseudoSrc, Size, Source } from '../../asm/opcodes.js';
import { imm64, isJump, jumpDistance, type Instruction } from '../../asm/instruction.js';
import { parseBtf, type Btf } from '../../btf/index.js';
import type { ElfFile, ElfSection } from '../../elf/index.js';
import { matchSection } from '../../object/sections.js';
import { helperById, helperSignature, type HelperProto } from '../../uapi/index.js';
import { placeInstructions, type PlacedInstruction } from '../disassemble.js';
import { contextNamer, type ContextNamer } from './context.js';
import { fieldPath } from './field-path.js';
import { functionsOf, mapValueTypes, relocationTargets, type FunctionRange, type Target } from './program.js';
import { describeValue, join, offsetBy, UNKNOWN, type RegisterState, type Value } from './values.js';

interface SectionFacts {
  comments: Map<number, string>;
}

interface Env {
  targets: Map<number, Target>;
  ctx: ContextNamer | undefined;
  btf: Btf | undefined;
  valueTypes: Map<string, number>;
  progType: string | undefined;
  labelAt: (slot: number) => string;
}

/**
 * Returns the comment function `disassembly()` calls for each instruction. Sections are
 * analysed once, on first use.
 */
export function annotator(file: ElfFile): (section: ElfSection, at: PlacedInstruction) => string | undefined {
  const btfSection = file.section('.BTF');
  let btf: Btf | undefined;
  try {
    btf = btfSection ? parseBtf(btfSection.data) : undefined;
  } catch {
    btf = undefined; // annotations without type names are still worth having
  }
  const valueTypes = mapValueTypes(btf);
  const cache = new Map<number, SectionFacts>();
  return (section, at) => {
    let facts = cache.get(section.index);
    if (!facts) {
      facts = analyseSection(file, section, btf, valueTypes);
      cache.set(section.index, facts);
    }
    return facts.comments.get(at.slot);
  };
}

function analyseSection(file: ElfFile, section: ElfSection, btf: Btf | undefined, valueTypes: Map<string, number>): SectionFacts {
  const placed = placeInstructions(file, section);
  const bySlot = new Map(placed.map((p) => [p.slot, p]));
  const isProgram = matchSection(section.name) !== undefined;
  const labels = file.symbols().filter((s) => s.shndx === section.index && s.type !== 3 && s.name);
  const env: Env = {
    targets: relocationTargets(file, section),
    ctx: isProgram ? contextNamer(section.name, btf) : undefined,
    btf,
    valueTypes,
    progType: matchSection(section.name)?.def.progType,
    labelAt: (slot) => labels.find((s) => Number(s.value) === slot * 8)?.name ?? `slot ${slot}`,
  };
  const comments = new Map<number, string>();
  for (const fn of functionsOf(file, section)) {
    const states = flow(fn, bySlot, env, isProgram && fn.start === 0);
    for (const [slot, state] of states) {
      const at = bySlot.get(slot)!;
      const text = explain(at, state, env, isProgram && fn.start === 0);
      if (text) comments.set(slot, text);
    }
  }
  return { comments };
}

/** Register states before each instruction of a function, to a fixed point. */
function flow(fn: FunctionRange, bySlot: Map<number, PlacedInstruction>, env: Env, isEntry: boolean): Map<number, RegisterState> {
  const entry: RegisterState = Array.from({ length: 11 }, (_, r): Value =>
    r === 10 ? { k: 'fp', off: 0 } : r === 1 && isEntry ? { k: 'ctx' } : r >= 1 && r <= 5 && !isEntry ? { k: 'arg', n: r } : UNKNOWN,
  );
  const states = new Map<number, RegisterState>([[fn.start, entry]]);
  const work = [fn.start];
  let budget = 100_000;
  while (work.length > 0 && budget-- > 0) {
    const slot = work.pop()!;
    const at = bySlot.get(slot);
    if (!at) continue;
    const after = transfer(at, states.get(slot)!, env);
    for (const next of successors(at)) {
      if (next < fn.start || next >= fn.end || !bySlot.has(next)) continue;
      const old = states.get(next);
      const merged = old ? join(old, after) : after;
      if (!old || merged.some((v, i) => v !== old[i] && JSON.stringify(v, big) !== JSON.stringify(old[i], big))) {
        states.set(next, merged);
        work.push(next);
      }
    }
  }
  return states;
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

function successors(at: PlacedInstruction): number[] {
  const { insn, slot } = at;
  const next = slot + at.bytes.byteLength / 8;
  if (insn.code === (Class.JMP | JmpOp.EXIT)) return [];
  if (isJump(insn)) {
    const target = slot + 1 + jumpDistance(insn);
    return (insn.code & 0xf0) === JmpOp.JA ? [target] : [next, target];
  }
  return [next];
}

function transfer(at: PlacedInstruction, before: RegisterState, env: Env): RegisterState {
  const s = [...before];
  const { insn } = at;
  const cls = insn.code & 0x07;
  const op = insn.code & 0xf0;
  const x = (insn.code & Source.X) !== 0;
  if (cls === Class.ALU64 && op === AluOp.MOV && insn.off === 0) {
    s[insn.dst] = x ? before[insn.src]! : { k: 'const', v: BigInt(insn.imm) };
  } else if (cls === Class.ALU64 && (op === AluOp.ADD || op === AluOp.SUB) && !x) {
    s[insn.dst] = offsetBy(before[insn.dst]!, op === AluOp.ADD ? insn.imm : -insn.imm);
  } else if (cls === Class.ALU && op === AluOp.MOV && !x) {
    s[insn.dst] = { k: 'const', v: BigInt(insn.imm >>> 0) };
  } else if (cls === Class.LDX) {
    const from = memory(before[insn.src]!, insn.off, sizeOf(insn.code), env, 'at');
    s[insn.dst] = from ? { k: 'loaded', from } : UNKNOWN;
  } else if (cls === Class.ALU || cls === Class.ALU64) {
    s[insn.dst] = UNKNOWN;
  } else if (insn.code === LD_IMM64) {
    s[insn.dst] = loadedValue(insn, env.targets.get(at.slot * 8));
  } else if (cls === Class.STX && (insn.code & 0xe0) === Mode.ATOMIC) {
    if (insn.imm === AtomicOp.CMPXCHG) s[0] = UNKNOWN;
    else if (insn.imm & AtomicOp.FETCH || insn.imm === AtomicOp.LOAD_ACQ) s[insn.imm === AtomicOp.LOAD_ACQ ? insn.dst : insn.src] = UNKNOWN;
  } else if (insn.code === (Class.JMP | JmpOp.CALL) || insn.code === (Class.JMP | JmpOp.CALL | Source.X)) {
    s[0] = callResult(insn, before);
    for (let r = 1; r <= 5; r++) s[r] = UNKNOWN;
  }
  return s;
}

function loadedValue(insn: Instruction, target: Target | undefined): Value {
  if (target?.k === 'map') return insn.src === PseudoSrc.MAP_VALUE ? { k: 'value', map: target.name, via: `${target.name} value`, off: insn.imm2 ?? 0 } : { k: 'map', name: target.name };
  if (target?.k === 'global') return { k: 'global', name: target.name, off: target.off };
  if (target?.k === 'function') return { k: 'global', name: target.name, off: 0 };
  if (insn.src === PseudoSrc.IMM64) return { k: 'const', v: BigInt.asIntN(64, imm64(insn)) };
  return UNKNOWN;
}

const RETURNS_MAP_VALUE = new Set(['bpf_map_lookup_elem', 'bpf_map_lookup_percpu_elem', 'bpf_ringbuf_reserve']);

function callResult(insn: Instruction, before: RegisterState): Value {
  if (insn.src !== CallSrc.HELPER || (insn.code & Source.X) !== 0) return UNKNOWN;
  const proto = helperById(insn.imm);
  if (!proto) return UNKNOWN;
  const map = before[1]!;
  if (RETURNS_MAP_VALUE.has(proto.name) && map.k === 'map') {
    const via = proto.name === 'bpf_ringbuf_reserve' ? `record reserved in ${map.name}` : `${map.name} value`;
    return { k: 'value', map: map.name, via, off: 0 };
  }
  return { k: 'ret', helper: proto.name };
}

const WIDTH: Record<number, string> = { [Size.B]: 'u8', [Size.H]: 'u16', [Size.W]: 'u32', [Size.DW]: 'u64' };

/** The comment for one instruction given the registers before it. */
function explain(at: PlacedInstruction, s: RegisterState, env: Env, isEntry: boolean): string | undefined {
  const { insn } = at;
  const cls = insn.code & 0x07;
  const op = insn.code & 0xf0;
  const x = (insn.code & Source.X) !== 0;
  switch (cls) {
    case Class.LDX:
      return memory(s[insn.src]!, insn.off, sizeOf(insn.code), env, 'read');
    case Class.ST:
    case Class.STX: {
      if ((insn.code & 0xe0) === Mode.ATOMIC) {
        const where = memory(s[insn.dst]!, insn.off, sizeOf(insn.code), env, 'at');
        return where ? `atomic ${atomicName(insn.imm)} ${where}` : undefined;
      }
      return memory(s[insn.dst]!, insn.off, sizeOf(insn.code), env, 'write');
    }
    case Class.LD: {
      if (insn.code !== LD_IMM64) return 'legacy packet load (skb data, for socket filters)';
      const target = env.targets.get(at.slot * 8);
      if (target?.k === 'map') return insn.src === PseudoSrc.MAP_VALUE ? `&${target.name} value` : `&${target.name}`;
      if (target?.k === 'global') return target.text ? `&${target.text} (string in ${target.name})` : `&${target.name}${target.off ? `+${target.off}` : ''}`;
      if (target?.k === 'function') return `&${target.name} (function pointer, e.g. a callback)`;
      return undefined;
    }
    case Class.ALU64:
      if (op === AluOp.MOV && x && insn.src === 10) return 'frame pointer: the top of this function\'s 512-byte stack';
      if ((op === AluOp.ADD || op === AluOp.SUB) && !x && s[insn.dst]!.k === 'fp') {
        return `pointer to the stack slot at ${describeValue(offsetBy(s[insn.dst]!, op === AluOp.ADD ? insn.imm : -insn.imm))}`;
      }
      if (op === AluOp.MOV && x && s[insn.src]!.k !== 'unknown') return `copy of ${describeValue(s[insn.src]!)}`;
      return undefined;
    case Class.JMP:
    case Class.JMP32:
      return jumpOrCall(at, s, env, isEntry);
    default:
      return undefined;
  }
}

function sizeOf(code: number): string {
  return WIDTH[code & 0x18]!;
}

function atomicName(imm: number): string {
  if (imm === AtomicOp.XCHG) return 'exchange';
  if (imm === AtomicOp.CMPXCHG) return 'compare-and-exchange (expected value in r0)';
  if (imm === AtomicOp.LOAD_ACQ) return 'load-acquire';
  if (imm === AtomicOp.STORE_REL) return 'store-release';
  const base = imm & ~AtomicOp.FETCH;
  const name = base === AtomicOp.ADD ? 'add' : base === AtomicOp.OR ? 'or' : base === AtomicOp.AND ? 'and' : 'xor';
  return imm & AtomicOp.FETCH ? `fetch-and-${name} (old value back in the source register)` : name;
}

/** A memory access through `base` + off, in words. */
function memory(base: Value, off: number, width: string, env: Env, verb: 'read' | 'write' | 'at'): string | undefined {
  const prefix = verb === 'at' ? '' : `${verb} `;
  switch (base.k) {
    case 'ctx': {
      const field = env.ctx?.(off, Number(width.slice(1)) / 8);
      if (!field) return `${prefix}context at offset ${off}`;
      return `${verb === 'write' ? 'write ' : ''}${field.startsWith('[') ? `ctx${field}` : `ctx->${field}`}`;
    }
    case 'fp':
      return `${prefix}stack slot ${describeValue(offsetBy(base, off))}`;
    case 'value': {
      const typeId = env.valueTypes.get(base.map);
      const field = typeId !== undefined && env.btf ? fieldPath(env.btf, typeId, base.off + off, Number(width.slice(1)) / 8) : undefined;
      return `${prefix}${base.via}${field ? `.${field}` : base.off + off ? ` at offset ${base.off + off}` : ''}`;
    }
    case 'global':
      return `${prefix}global ${base.name}${base.off + off ? `+${base.off + off}` : ''}`;
    default:
      return undefined;
  }
}

function helperCall(proto: HelperProto, s: RegisterState): string {
  const args = proto.params
    .filter((p) => p !== '...')
    .map((p, i) => {
      const name = /(\w+)$/.exec(p)?.[1] ?? `arg${i + 1}`;
      const v = describeValue(s[i + 1]!);
      return v ? `${name}=${v}` : undefined;
    })
    .filter((a): a is string => a !== undefined);
  const sig = helperSignature(proto);
  return args.length ? `${sig}  [${args.join(', ')}]` : sig;
}

const RETURN_MEANING: Readonly<Record<string, string>> = {
  XDP: 'XDP action: 0 aborted, 1 drop, 2 pass, 3 tx, 4 redirect',
  CGROUP_DEVICE: '1 allows the device access, 0 denies it (EPERM)',
  CGROUP_SKB: '1 lets the packet through, 0 drops it',
  CGROUP_SOCK: '1 allows the socket, 0 refuses it (EPERM)',
  SOCKET_FILTER: 'bytes of the packet to keep; 0 drops it',
  SCHED_CLS: 'TC action: 0 ok, 2 shot (drop), -1 unspec',
  LSM: '0 allows the operation, a negative errno denies it',
};

function jumpOrCall(at: PlacedInstruction, s: RegisterState, env: Env, isEntry: boolean): string | undefined {
  const { insn } = at;
  const op = insn.code & 0xf0;
  if (op === JmpOp.EXIT) {
    if (!isEntry) return 'return r0 to the calling function';
    const meaning = env.progType ? RETURN_MEANING[env.progType] : undefined;
    return `return r0 to the kernel${meaning ? ` (${meaning})` : ''}`;
  }
  if (op === JmpOp.CALL) {
    if (insn.code & Source.X) return 'indirect call through a register';
    if (insn.src === CallSrc.HELPER) {
      const proto = helperById(insn.imm);
      return proto ? helperCall(proto, s) : `unknown helper #${insn.imm}`;
    }
    const target = env.targets.get(at.slot * 8);
    if (insn.src === CallSrc.KFUNC) return `kernel function ${target?.name ?? `BTF id ${insn.imm}`}`;
    const name = target?.k === 'function' ? target.name : insn.imm !== -1 ? env.labelAt(at.slot + 1 + insn.imm) : undefined;
    return `call BPF function ${name ?? '(resolved by the loader)'}; r1-r5 are its arguments, r6-r9 survive the call`;
  }
  if (op === JmpOp.JCOND) return 'may_goto: the kernel may cut a long loop short here';
  const target = at.slot + 1 + jumpDistance(insn);
  const where = env.labelAt(target);
  const back = target <= at.slot ? ' (backward: a loop)' : '';
  if (op === JmpOp.JA) return `jump to ${where}${back}`;
  const x = (insn.code & Source.X) !== 0;
  const left = s[insn.dst]!;
  const rightIsZero = !x && insn.imm === 0;
  if (left.k === 'value' && rightIsZero && (op === JmpOp.JEQ || op === JmpOp.JNE)) {
    const found = op === JmpOp.JNE;
    return `${found ? 'when' : 'unless'} ${left.via.startsWith('record') ? 'the reservation succeeded' : 'the lookup found an entry'}: jump to ${where} if the pointer is ${found ? 'not ' : ''}NULL (the verifier requires this check)${back}`;
  }
  const signed = [JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE].includes(op as 0x60);
  const width = (insn.code & 0x07) === Class.JMP32 ? '32-bit' : '64-bit';
  const subject = describeValue(left) ?? `r${insn.dst}`;
  const test = op === JmpOp.JSET ? `${subject} has any of the bits of ${x ? `r${insn.src}` : `0x${(insn.imm >>> 0).toString(16)}`} set` : `${subject} ${comparison(op)} ${x ? describeValue(s[insn.src]!) ?? `r${insn.src}` : insn.imm}`;
  return `jump to ${where} if ${test} (${signed ? 'signed' : 'unsigned'} ${width} compare)${back}`;
}

function comparison(op: number): string {
  switch (op) {
    case JmpOp.JEQ:
      return '==';
    case JmpOp.JNE:
      return '!=';
    case JmpOp.JGT:
    case JmpOp.JSGT:
      return '>';
    case JmpOp.JGE:
    case JmpOp.JSGE:
      return '>=';
    case JmpOp.JLT:
    case JmpOp.JSLT:
      return '<';
    default:
      return '<=';
  }
}
