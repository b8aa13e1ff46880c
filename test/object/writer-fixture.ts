/**
 * The hand-built object of the writer's tests, made the way tsbpf's compiler will make one:
 * programs from the ProgramBuilder, types from the BtfBuilder, maps and globals as MapSpecs,
 * line info pointing at a made-up TypeScript source.
 */
import {
  CallSrc,
  Class,
  FP,
  JmpOp,
  LD_IMM64,
  ProgramBuilder,
  PseudoSrc,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R7,
  reg,
  slotCount,
  type BuiltProgram,
  type Instruction,
} from '../../src/asm/index.js';
import { BtfBuilder, BtfFuncLinkage, BtfIntEncoding, BtfKind, parseBtf, type BtfType } from '../../src/btf/index.js';
import type { InstructionReference, MapSpec, ObjectSpec, ProgramSpec } from '../../src/object/index.js';
import { FuncId } from '../../src/uapi/enums.js';

/** The made-up source file the line info points at. */
export const SOURCE = 'src/tracer.bpf.ts';
const CALL = Class.JMP | JmpOp.CALL;

/** A MapSpec with the defaults of an empty definition. */
export function mapSpec(fields: Partial<MapSpec> & Pick<MapSpec, 'name' | 'type'>): MapSpec {
  return {
    keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0, mapExtra: 0n, pinning: 'none',
    keyType: undefined, valueType: undefined, section: '.maps', innerMap: undefined, slots: [],
    data: undefined, variables: [], readOnly: false, ...fields,
  };
}

/** Instruction index of each label of a built program. */
function labelIndex(p: BuiltProgram): Map<string, number> {
  const bySlot = new Map<number, number>();
  let slot = 0;
  p.instructions.forEach((insn, i) => {
    bySlot.set(slot, i);
    slot += slotCount(insn);
  });
  return new Map([...p.labels].map(([name, s]) => [name, bySlot.get(s)!]));
}

/** A ProgramSpec from a built program whose subprograms start at the given labels. */
export function programOf(
  name: string,
  section: string,
  built: BuiltProgram,
  subprograms: string[],
  extra: { references?: InstructionReference[]; funcInfos?: ProgramSpec['funcInfos']; lineInfos?: ProgramSpec['lineInfos'] } = {},
): ProgramSpec {
  const labels = labelIndex(built);
  const starts = [0, ...subprograms.map((l) => labels.get(l)!)];
  const names = [name, ...subprograms];
  const references: InstructionReference[] = built.references.map((r) =>
    r.kind === 'map' ? { kind: 'map', index: r.index, map: r.symbol } : { kind: 'map_value', index: r.index, map: r.symbol, offset: built.instructions[r.index]!.imm2 ?? 0 },
  );
  references.push(...(extra.references ?? []));
  references.sort((a, b) => a.index - b.index);
  return {
    name, section, sectionDef: undefined, progType: 'UNSPEC', attachType: undefined, attachTo: '',
    instructions: built.instructions, references,
    funcInfos: extra.funcInfos ?? [], lineInfos: extra.lineInfos ?? [], coreRelos: [],
    license: 'GPL', kernelVersion: 0,
    functions: names.map((n, i) => ({ name: n, start: starts[i]!, end: starts[i + 1] ?? built.instructions.length })),
  };
}

const int = (name: string, size: number, encoding: number = BtfIntEncoding.NONE): BtfType => ({ kind: BtfKind.INT, name, size, encoding, bitsOffset: 0, bits: size * 8 });
const member = (name: string, type: number, bitOffset: number) => ({ name, type, bitOffset, bitfieldSize: 0 });

/** The types a compiler would declare for this object, and their ids. */
export function types() {
  const b = new BtfBuilder();
  const u32 = b.add(int('unsigned int', 4));
  const u64 = b.add(int('unsigned long long', 8));
  const sint = b.add(int('int', 4, BtfIntEncoding.SIGNED));
  const key = b.add({ kind: BtfKind.STRUCT, name: 'key_t', size: 8, members: [member('pid', u32, 0), member('cpu', u32, 32)] });
  const event = b.add({ kind: BtfKind.STRUCT, name: 'event', size: 16, members: [member('pid', u32, 0), member('cpu', u32, 32), member('count', u64, 64)] });
  const voidPtr = b.add({ kind: BtfKind.PTR, name: '', type: 0 });
  const ctxProto = b.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: sint, params: [{ name: 'ctx', type: voidPtr }] });
  const countFn = b.add({ kind: BtfKind.FUNC, name: 'count_calls', type: ctxProto, linkage: BtfFuncLinkage.GLOBAL });
  const extrasFn = b.add({ kind: BtfKind.FUNC, name: 'extras', type: ctxProto, linkage: BtfFuncLinkage.GLOBAL });
  const twiceProto = b.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: sint, params: [{ name: 'x', type: sint }] });
  const twiceFn = b.add({ kind: BtfKind.FUNC, name: 'twice', type: twiceProto, linkage: BtfFuncLinkage.GLOBAL });
  const voidProto = b.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: 0, params: [] });
  b.add({ kind: BtfKind.FUNC, name: 'bpf_rcu_read_lock', type: voidProto, linkage: BtfFuncLinkage.EXTERN });
  b.add({ kind: BtfKind.FUNC, name: 'bpf_rcu_read_unlock', type: voidProto, linkage: BtfFuncLinkage.EXTERN });
  return { btf: parseBtf(b.finish()), u32, u64, sint, key, event, countFn, extrasFn, twiceFn };
}

const line = (index: number, n: number, text: string) => ({ index, fileName: SOURCE, lineText: text, line: n, column: 3, fileNameOff: 0, lineOff: 0 });

/** The hand-built object: two program sections, .text subprograms, every kind of map and global. */
export function handBuilt(littleEndian = true): { spec: ObjectSpec; t: ReturnType<typeof types> } {
  const t = types();
  const count = new ProgramBuilder()
    .call(FuncId.get_current_pid_tgid)
    .store(32, FP, -8, reg(R0))
    .call(FuncId.get_smp_processor_id)
    .store(32, FP, -4, reg(R0))
    .ldMapValue(R1, '.bss', 0)
    .mov(R2, 1)
    .atomic('add', 64, R1, 0, R2)
    .ldMap(R1, 'counts')
    .mov(R2, reg(FP)).alu('add', R2, -8)
    .call(FuncId.map_lookup_elem)
    .jump('jeq', R0, 0, 'init')
    .mov(R1, 1).atomic('add', 64, R0, 0, R1)
    .goto('emit')
    .label('init')
    .store(64, FP, -16, 1)
    .ldMap(R1, 'counts')
    .mov(R2, reg(FP)).alu('add', R2, -8)
    .mov(R3, reg(FP)).alu('add', R3, -16)
    .mov(R4, 0)
    .call(FuncId.map_update_elem)
    .label('emit')
    .ldMap(R1, 'events').mov(R2, 16).mov(R3, 0).call(FuncId.ringbuf_reserve)
    .jump('jeq', R0, 0, 'out')
    .mov(R6, reg(R0))
    .load(32, R1, FP, -8).store(32, R6, 0, reg(R1))
    .load(32, R1, FP, -4).store(32, R6, 4, reg(R1))
    .mov(R1, reg(R6))
    .callLocal('fill')
    .mov(R1, reg(R6)).mov(R2, 0).call(FuncId.ringbuf_submit)
    .label('out')
    .mov(R0, 0).exit()
    .label('fill')
    .ldMapValue(R2, '.rodata', 0)
    .load(64, R2, R2, 0)
    .store(64, R1, 8, reg(R2))
    .mov(R0, 0).exit()
    .build();
  const countLabels = labelIndex(count);
  const countCalls = programOf('count_calls', 'tracepoint/syscalls/sys_enter_getpid', count, ['fill'], {
    funcInfos: [{ index: 0, typeId: t.countFn }],
    lineInfos: [
      line(0, 12, "export const countCalls = tracepoint('syscalls', 'sys_enter_getpid', (ctx) => {"),
      line(4, 14, '  counter++;'),
      line(countLabels.get('emit')!, 17, '  const e = events.reserve();'),
      line(countLabels.get('fill')!, 30, 'function fill(e: Event) {'),
      line(countLabels.get('fill')! + 1, 31, '  e.count = limit;'),
    ],
  });

  const kfunc = (): Instruction => ({ code: CALL, dst: 0, src: CallSrc.KFUNC, off: 0, imm: 0 });
  const ld = (dst: number, src: number): Instruction => ({ code: LD_IMM64, dst, src, off: 0, imm: 0, imm2: 0 });
  const extrasBuilder = new ProgramBuilder()
    .mov(R6, reg(R1))
    .raw(kfunc()) // 1: bpf_rcu_read_lock
    .raw(kfunc()) // 2: bpf_rcu_read_unlock
    .ldMapValue(R1, '.kconfig', 0)
    .load(32, R7, R1, 0)
    .raw(ld(R3, PseudoSrc.BTF_ID)) // 5: _stext (typeless; data symbols are not in kallsyms here)
    .store(32, FP, -4, 0)
    .ldMap(R1, 'outer').mov(R2, reg(FP)).alu('add', R2, -4).call(FuncId.map_lookup_elem)
    .mov(R1, 5).callLocal('twice')
    .mov(R1, 2)
    .raw(ld(R2, PseudoSrc.FUNC)) // &cb, offset filled in below
    .mov(R3, 0).mov(R4, 0).call(FuncId.loop)
    .mov(R1, reg(R6)).ldMap(R2, 'jumps').mov(R3, 0).call(FuncId.tail_call)
    .mov(R0, 0).exit()
    .label('twice')
    .mov(R0, reg(R1)).alu('lsh', R0, 1).exit()
    .label('cb')
    .mov(R0, 0).exit()
    .build();
  const labels = labelIndex(extrasBuilder);
  const cbAt = extrasBuilder.instructions.findIndex((i) => i.code === LD_IMM64 && i.src === PseudoSrc.FUNC);
  let slot = 0;
  for (let i = 0; i < cbAt; i++) slot += slotCount(extrasBuilder.instructions[i]!);
  extrasBuilder.instructions[cbAt]!.imm = extrasBuilder.labels.get('cb')! - slot - 1;
  const extras = programOf('extras', 'raw_tp/sys_enter', extrasBuilder, ['twice', 'cb'], {
    references: [
      { kind: 'kfunc', index: 1, name: 'bpf_rcu_read_lock' },
      { kind: 'kfunc', index: 2, name: 'bpf_rcu_read_unlock' },
      { kind: 'ksym', index: 5, name: '_stext' },
    ],
    funcInfos: [{ index: 0, typeId: t.extrasFn }, { index: labels.get('twice')!, typeId: t.twiceFn }],
  });
  const tail = programOf('tail', 'raw_tp/sys_enter', new ProgramBuilder().mov(R0, 0).exit().build(), []);

  const u64le = new Uint8Array(8);
  new DataView(u64le.buffer).setBigUint64(0, 42n, littleEndian);
  const inner = { type: 'ARRAY', keySize: 4, valueSize: 8, keyType: t.u32, valueType: t.u64, maxEntries: 4 };
  const maps: MapSpec[] = [
    mapSpec({ name: 'counts', type: 'HASH', keySize: 8, valueSize: 8, keyType: t.key, valueType: t.u64, maxEntries: 1024 }),
    mapSpec({ name: 'events', type: 'RINGBUF', maxEntries: 1 << 16 }),
    mapSpec({ name: 'inner', ...inner }),
    mapSpec({ name: 'outer', type: 'ARRAY_OF_MAPS', keySize: 4, valueSize: 4, keyType: t.u32, maxEntries: 2, innerMap: mapSpec({ name: 'outer.inner', ...inner }), slots: [{ key: 1, value: 'inner' }] }),
    mapSpec({ name: 'jumps', type: 'PROG_ARRAY', keySize: 4, valueSize: 4, maxEntries: 2, slots: [{ key: 0, value: 'tail' }] }),
    mapSpec({
      name: '.rodata', section: '.rodata', type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x480, readOnly: true,
      data: u64le, variables: [{ name: 'limit', offset: 0, size: 8, typeId: t.u64, extern: false }],
    }),
    mapSpec({
      name: '.bss', section: '.bss', type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x400,
      data: new Uint8Array(8), variables: [{ name: 'counter', offset: 0, size: 8, typeId: t.u64, extern: false }],
    }),
    mapSpec({
      name: '.kconfig', section: '.kconfig', type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x480, readOnly: true,
      data: new Uint8Array(8), variables: [{ name: 'LINUX_KERNEL_VERSION', offset: 0, size: 4, typeId: t.u32, extern: true }],
    }),
  ];
  const spec: ObjectSpec = {
    littleEndian, license: 'GPL', kernelVersion: 0x60c00, programs: [countCalls, extras, tail], maps,
    btf: t.btf, btfBytes: undefined, btfExt: undefined,
  };
  return { spec, t };
}

