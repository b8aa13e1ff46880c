/**
 * Fills in the numbers a program's instructions need from the live kernel: map fds for map
 * references (ld_imm64 src=BPF_PSEUDO_MAP_FD, imm=fd) and global data (src=BPF_PSEUDO_MAP_VALUE,
 * imm=fd, imm2=offset), BTF ids of kernel variables and kfuncs, addresses of typeless kernel
 * symbols. The object reader already set each instruction's src; this only writes imm/imm2/off.
 */
import type { Instruction } from '../asm/instruction.js';
import { CallSrc, Class, JmpOp, PseudoSrc } from '../asm/opcodes.js';
import { TsbpfError } from '../errors.js';
import type { ProgramSpec } from '../object/index.js';
import type { KsymResolver } from './ksym.js';

/**
 * libbpf's POISON_CALL_KFUNC_BASE: a call to an unresolved __weak kfunc becomes a helper call
 * with this id (+ the extern's index), which the verifier reports as "invalid func unknown#..."
 * if the call is reachable, and removes as dead code otherwise.
 */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/** A reference names a map the collection does not have. */
export class UnresolvedReferenceError extends TsbpfError {
  override name = 'UnresolvedReferenceError';
  constructor(
    readonly program: string,
    readonly index: number,
    readonly detail: string,
  ) {
    super(`program '${program}', instruction ${index}: ${detail}`);
  }
}

/** Everything references resolve against. */
export interface RelocationContext {
  /** Map fd by map name (as ObjectSpec names them: 'counts', '.rodata', '.kconfig'). */
  mapFd(name: string): number | undefined;
  ksyms: KsymResolver;
}

/** The program's instructions with every reference filled in (a copy; the spec is untouched). */
export function applyReferences(prog: ProgramSpec, insns: readonly Instruction[], ctx: RelocationContext): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  const externIndex = new Map<string, number>();
  for (const ref of prog.references) {
    const insn = out[ref.index];
    if (!insn) throw new UnresolvedReferenceError(prog.name, ref.index, 'reference points past the program');
    switch (ref.kind) {
      case 'map':
      case 'map_value': {
        const fd = ctx.mapFd(ref.map);
        if (fd === undefined) throw new UnresolvedReferenceError(prog.name, ref.index, `refers to map '${ref.map}', which the object does not define`);
        insn.src = ref.kind === 'map' ? PseudoSrc.MAP_FD : PseudoSrc.MAP_VALUE;
        insn.imm = fd;
        insn.imm2 = ref.kind === 'map' ? 0 : ref.offset;
        break;
      }
      case 'ksym': {
        const r = ctx.ksyms.resolve(ref.name, 'load');
        if (r.kind === 'btf') {
          insn.src = PseudoSrc.BTF_ID;
          insn.imm = r.btfId;
          insn.imm2 = r.btfFd;
        } else {
          // A typeless symbol's address, or 0 for a missing weak one: a plain 64-bit constant.
          const value = r.kind === 'address' ? r.address : 0n;
          insn.src = PseudoSrc.IMM64;
          insn.imm = Number(BigInt.asIntN(32, value & 0xffffffffn));
          insn.imm2 = Number(BigInt.asIntN(32, value >> 32n));
        }
        break;
      }
      case 'kfunc': {
        const r = ctx.ksyms.resolve(ref.name, 'call');
        if (r.kind === 'btf') {
          insn.src = CallSrc.KFUNC;
          insn.imm = r.btfId;
          insn.off = ctx.ksyms.fdIndex(r);
        } else {
          if (!externIndex.has(ref.name)) externIndex.set(ref.name, externIndex.size);
          insn.code = Class.JMP | JmpOp.CALL;
          insn.src = CallSrc.HELPER;
          insn.dst = 0;
          insn.off = 0;
          insn.imm = POISON_CALL_KFUNC_BASE + externIndex.get(ref.name)!;
        }
        break;
      }
    }
  }
  return out;
}
