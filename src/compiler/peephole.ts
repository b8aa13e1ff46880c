/**
 * Machine-level peephole pass over emitted instructions (labels still symbolic): removes moves
 * of a register to itself and jumps to the next instruction, and forwards a value stored to a
 * stack slot to an immediately following load of the same slot (spill code leaves that pair).
 */
import type { Instruction } from '../asm/instruction.js';
import { AluOp, Class, JmpOp, Mode, Source } from '../asm/opcodes.js';
import type { Block, CoreRef } from './ir.js';

/** An instruction (with what resolution needs), or a block label. */
export interface MInst {
  kind: 'insn' | 'label';
  block?: Block;
  insn?: Instruction;
  target?: Block;
  ref?: { kind: 'map' | 'map_value'; map: string; offset: number };
  call?: string;
  core?: CoreRef;
  at?: number;
}

const MOV64_X = Class.ALU64 | AluOp.MOV | Source.X;
const JA = Class.JMP | JmpOp.JA;

/** Runs the peephole rules until none applies. */
export function peephole(code: MInst[]): MInst[] {
  let cur = code;
  for (let round = 0; round < 4; round++) {
    const next: MInst[] = [];
    let changed = false;
    for (let k = 0; k < cur.length; k++) {
      const m = cur[k]!;
      if (m.kind === 'insn') {
        const i = m.insn!;
        if (i.code === MOV64_X && i.dst === i.src && !m.core) {
          changed = true;
          continue;
        }
        if (i.code === JA && m.target && jumpsToNext(cur, k, m.target)) {
          changed = true;
          continue;
        }
        // *(u64 *)(r10 + off) = rA; rB = *(u64 *)(r10 + off)  ->  store; rB = rA
        const n = cur[k + 1];
        if (n?.kind === 'insn' && isStackStore(i) && !n.core && n.insn!.code === (Class.LDX | Mode.MEM | (i.code & 0x18)) && (i.code & 0x18) === 0x18 && n.insn!.src === 10 && n.insn!.off === i.off) {
          next.push(m);
          if (n.insn!.dst !== i.src) next.push({ ...n, insn: { code: MOV64_X, dst: n.insn!.dst, src: i.src, off: 0, imm: 0 } });
          k++;
          changed = true;
          continue;
        }
      }
      next.push(m);
    }
    cur = next;
    if (!changed) break;
  }
  return cur;
}

function isStackStore(i: Instruction): boolean {
  return (i.code & 0x07) === Class.STX && (i.code & 0xe0) === Mode.MEM && i.dst === 10;
}

/** Whether only labels stand between instruction k and the label of `target`. */
function jumpsToNext(code: MInst[], k: number, target: Block): boolean {
  for (let j = k + 1; j < code.length; j++) {
    const m = code[j]!;
    if (m.kind !== 'label') return false;
    if (m.block === target) return true;
  }
  return false;
}
