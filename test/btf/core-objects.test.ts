/**
 * CO-RE relocations of clang-built objects (testdata/core, clang 14 and clang-19) against the
 * running kernel's BTF, with expectations read independently from vmlinux (member offsets via
 * findMember, sizes via sizeOf, enumerator values); then against a copy of vmlinux whose
 * task_struct layout was changed, to show relocations follow the target. Needs no privileges:
 * only /sys/kernel/btf/vmlinux. The comparison with libbpf itself is core-libbpf.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, slotCount } from '../../src/asm/index.js';
import {
  applyCoreRelocations,
  BtfBuilder,
  BtfKind,
  findMember,
  parseBtf,
  sizeOf,
  type Btf,
  type BtfType,
  type CoreRelocationResult,
} from '../../src/btf/index.js';
import { readObject, type ObjectSpec, type ProgramSpec } from '../../src/object/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []), 'testdata', 'core');
const kernel = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'));
const objects = {
  fields: readObject(readFileSync(join(DIR, 'fields.o'))),
  fields14: readObject(readFileSync(join(DIR, 'fields-clang14.o'))),
  types: readObject(readFileSync(join(DIR, 'types.o'))),
  types14: readObject(readFileSync(join(DIR, 'types-clang14.o'))),
};

function program(spec: ObjectSpec, name: string): ProgramSpec {
  const p = spec.programs.find((q) => q.name === name);
  assert.ok(p, `no program ${name}`);
  return p;
}

function relocate(spec: ObjectSpec, name: string, target: Btf = kernel) {
  const p = program(spec, name);
  const out = applyCoreRelocations(p.instructions, p.coreRelos, spec.btf!, target);
  assert.equal(out.results.length, p.coreRelos.length);
  // the result is still a well-formed program with the same slot layout
  const slots = (insns: typeof p.instructions) => insns.reduce((n, i) => n + slotCount(i), 0);
  assert.equal(slots(out.instructions), slots(p.instructions));
  assert.doesNotThrow(() => encode(out.instructions));
  return { ...out, program: p };
}

/** The results whose description starts with `prefix` and names `what` (e.g. 'byte offset'). */
function pick(results: CoreRelocationResult[], prefix: string, what: string): CoreRelocationResult[] {
  const found = results.filter((r) => r.description.startsWith(prefix) && /: ([a-z ]+) \d+ -> /.exec(r.description)?.[1] === what);
  assert.ok(found.length > 0, `no '${what}' relocation for ${prefix} among:\n${results.map((r) => r.description).join('\n')}`);
  return found;
}

/** Asserts every matching relocation resolved to `value`. */
function expect(results: CoreRelocationResult[], prefix: string, what: string, value: number | bigint | 'poisoned'): void {
  for (const r of pick(results, prefix, what)) {
    if (value === 'poisoned') assert.equal(r.poisoned, true, r.description);
    else {
      assert.equal(r.poisoned, false, r.description);
      assert.equal(r.targetValue, BigInt(value), r.description);
    }
  }
}

const structId = (btf: Btf, name: string): number => {
  const t = btf.typeByName(name, BtfKind.STRUCT);
  assert.ok(t, `no struct ${name} in the BTF`);
  return t.id;
};
const byteOffset = (btf: Btf, struct: string, field: string): number => {
  const loc = findMember(btf, structId(btf, struct), field);
  assert.ok(loc, `${struct} has no ${field}`);
  return loc.bitOffset / 8;
};
/** libbpf's bitfield load: the field's int size, doubled until one aligned load covers it. */
function bitfield(btf: Btf, struct: string, field: string) {
  const loc = findMember(btf, structId(btf, struct), field)!;
  let size = sizeOf(btf, loc.member.type)!;
  let off = Math.floor(loc.bitOffset / 8 / size) * size;
  while (loc.bitOffset + loc.member.bitfieldSize - off * 8 > size * 8) {
    size *= 2;
    off = Math.floor(loc.bitOffset / 8 / size) * size;
  }
  return { off, size, lshift: 64 - (loc.bitOffset + loc.member.bitfieldSize - off * 8), rshift: 64 - loc.member.bitfieldSize };
}

for (const [label, spec] of [['clang-19', objects.fields], ['clang 14', objects.fields14]] as const) {
  test(`${label} fields.o probe_chain: BPF_CORE_READ chains, anonymous members, bitfields, flavours against vmlinux`, () => {
    const { results } = relocate(spec, 'probe_chain');
    const task = (f: string) => byteOffset(kernel, 'task_struct', f);
    expect(results, 'struct task_struct::real_parent (', 'byte offset', task('real_parent'));
    expect(results, 'struct task_struct::tgid (', 'byte offset', task('tgid'));
    expect(results, 'struct task_struct::mm (', 'byte offset', task('mm'));
    expect(results, 'struct task_struct::pid (', 'byte offset', task('pid'));
    expect(results, 'struct task_struct::__state (', 'byte offset', task('__state'));
    expect(results, 'struct task_struct::comm[3] (', 'byte offset', task('comm') + 3);
    expect(results, 'struct task_struct::comm (', 'byte size', 16);
    expect(results, 'struct task_struct::flags (', 'byte size', 4);
    expect(results, 'struct task_struct::prio (', 'signed', 1);
    // mm_struct keeps these inside an anonymous struct: the target path has an extra step
    expect(results, 'struct mm_struct::map_count (', 'byte offset', byteOffset(kernel, 'mm_struct', 'map_count'));
    expect(results, 'struct mm_struct::start_code (', 'byte offset', byteOffset(kernel, 'mm_struct', 'start_code'));
    assert.match(pick(results, 'struct mm_struct::map_count (', 'byte offset')[0]!.description, /\(0:\d+:\d+\)/);
    for (const f of ['in_iowait', 'sched_reset_on_fork']) {
      const b = bitfield(kernel, 'task_struct', f);
      expect(results, `struct task_struct::${f} (`, 'byte offset', b.off);
      expect(results, `struct task_struct::${f} (`, 'byte size', b.size);
      expect(results, `struct task_struct::${f} (`, 'left shift', b.lshift);
      expect(results, `struct task_struct::${f} (`, 'right shift', b.rshift);
      expect(results, `struct task_struct::${f} (`, 'signed', 0);
    }
    expect(results, 'struct task_struct::in_iowait (', 'field exists', 1);
    // the flavours: ___x finds task_struct's fields; ___old's 'state' is gone since 5.14
    expect(results, 'struct task_struct___x::pid (', 'byte offset', task('pid'));
    expect(results, 'struct task_struct___x::tgid (', 'field exists', 1);
    expect(results, 'struct task_struct___old::state (', 'field exists', 0);
    expect(results, 'struct task_struct___old::state (', 'byte offset', 'poisoned');
    assert.equal(results.filter((r) => r.poisoned).length, 1);
  });

  test(`${label} fields.o direct_btf, tp_ctx, raw_regs: LDX offsets, a resized load, a poisoned resize`, () => {
    const d = relocate(spec, 'direct_btf');
    const task = (f: string) => byteOffset(kernel, 'task_struct', f);
    expect(d.results, 'struct task_struct::pid (', 'byte offset', task('pid'));
    expect(d.results, 'struct task_struct::comm[2] (', 'byte offset', task('comm') + 2);
    expect(d.results, 'struct task_struct::real_parent (', 'byte offset', task('real_parent'));
    expect(d.results, 'struct task_struct::flags (', 'byte offset', task('flags'));
    // flags: unsigned long locally, unsigned int in the kernel: the u64 load becomes a u32 load
    const flags = pick(d.results, 'struct task_struct::flags (', 'byte offset')[0]!;
    assert.match(flags.description, /access size 8 -> 4$/);
    assert.equal(d.program.instructions[flags.index]!.code, 0x79);
    assert.deepEqual(d.instructions[flags.index], { ...d.program.instructions[flags.index]!, code: 0x61, off: task('flags') });
    // prio: long locally, int in the kernel: cannot be resized, poisoned (dead code behind a size check)
    expect(d.results, 'struct task_struct___wide::prio (', 'byte size', 4);
    expect(d.results, 'struct task_struct___wide::prio (', 'byte offset', 'poisoned');
    const b = bitfield(kernel, 'task_struct', 'in_execve');
    expect(d.results, 'struct task_struct::in_execve (', 'left shift', b.lshift);

    // the tracepoint context: the kernel's struct starts with an 8-byte trace_entry
    const tp = relocate(spec, 'tp_ctx');
    expect(tp.results, 'struct trace_event_raw_sys_enter::id (', 'byte offset', byteOffset(kernel, 'trace_event_raw_sys_enter', 'id'));
    expect(tp.results, 'struct trace_event_raw_sys_enter::args[1] (', 'byte offset', byteOffset(kernel, 'trace_event_raw_sys_enter', 'args') + 8);
    const raw = relocate(spec, 'raw_regs');
    expect(raw.results, 'struct pt_regs::orig_ax (', 'byte offset', byteOffset(kernel, 'pt_regs', 'orig_ax'));
    expect(raw.results, 'struct pt_regs::si (', 'byte offset', byteOffset(kernel, 'pt_regs', 'si'));
  });
}

const enumValue = (btf: Btf, type: string, name: string): bigint => {
  for (const id of btf.idsByName(type)) {
    const t = btf.type(id);
    if (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) {
      const v = t.values.find((e) => e.name === name);
      if (v) return BigInt.asUintN(64, BigInt(v.value));
    }
  }
  assert.fail(`no enumerator ${type}::${name}`);
};

for (const [label, spec, modern] of [['clang-19', objects.types, true], ['clang 14', objects.types14, false]] as const) {
  test(`${label} types.o: type existence, sizes, ids${modern ? ', TYPE_MATCHES, 64-bit enums' : ''}, enumerators`, () => {
    const { results } = relocate(spec, 'sock_consts');
    const taskId = structId(kernel, 'task_struct');
    expect(results, 'struct task_struct (', 'type exists', 1);
    expect(results, 'struct task_struct (', 'type size', sizeOf(kernel, taskId)!);
    expect(results, 'struct task_struct (', 'target type id', taskId);
    expect(results, 'struct task_struct:', 'local type id', structId(spec.btf!, 'task_struct'));
    expect(results, 'struct tsbpf_no_such_type:', 'type exists', 0);
    expect(results, 'struct tsbpf_no_such_type:', 'type size', 0);
    expect(results, 'struct tsbpf_no_such_type:', 'target type id', 0);
    expect(results, 'typedef pid_t (', 'type size', 4);
    expect(results, 'struct list_head___bad (', 'type exists', 1);
    if (modern) {
      expect(results, 'struct list_head (', 'type matches', 1);
      expect(results, 'struct list_head___bad:', 'type matches', 0);
      expect(results, 'enum pid_type (', 'type matches', 1);
      expect(results, 'enum pid_type___x:', 'type matches', 0);
      expect(results, 'typedef pid_t (', 'type matches', 1);
    }
    assert.ok(results.every((r) => !r.poisoned));

    const e = relocate(spec, 'enum_values').results;
    expect(e, 'enum pid_type::PIDTYPE_SID (', 'enum value exists', 1);
    expect(e, 'enum pid_type::PIDTYPE_SID (', 'enum value', enumValue(kernel, 'pid_type', 'PIDTYPE_SID'));
    expect(e, 'enum pid_type::PIDTYPE_MAX (', 'enum value', enumValue(kernel, 'pid_type', 'PIDTYPE_MAX'));
    expect(e, 'enum pid_type___x::PIDTYPE_BOGUS:', 'enum value exists', 0);
    expect(e, 'enum pid_type___x::PIDTYPE_BOGUS:', 'enum value', 'poisoned');
    if (modern) {
      expect(e, 'enum perf_callchain_context::PERF_CONTEXT_USER (', 'enum value', enumValue(kernel, 'perf_callchain_context', 'PERF_CONTEXT_USER'));
      expect(e, 'enum perf_callchain_context::PERF_CONTEXT_KERNEL (', 'enum value', enumValue(kernel, 'perf_callchain_context', 'PERF_CONTEXT_KERNEL'));
    }
  });
}

/**
 * vmlinux with task_struct changed: real_parent and parent swap places, tgid moves into a new
 * anonymous struct at the end (the old member is renamed), and the in_iowait bitfield is gone
 * (renamed).
 */
function alteredVmlinux(): Btf {
  const b = new BtfBuilder();
  const taskId = structId(kernel, 'task_struct');
  const intId = kernel.typeByName('int', BtfKind.INT)!.id;
  for (let id = 1; id < kernel.typeCount; id++) {
    const t = kernel.type(id);
    if (id !== taskId || t.kind !== BtfKind.STRUCT) {
      b.add(t);
      continue;
    }
    const rp = t.members.find((m) => m.name === 'real_parent')!;
    const p = t.members.find((m) => m.name === 'parent')!;
    // renamed rather than removed, so the other members keep their indices (and target paths)
    const renamed: Record<string, string> = { in_iowait: 'was_in_iowait', tgid: 'old_tgid' };
    const members = t.members.map((m) =>
      m === rp ? { ...m, bitOffset: p.bitOffset } : m === p ? { ...m, bitOffset: rp.bitOffset } : { ...m, name: renamed[m.name] ?? m.name },
    );
    // the anonymous struct is appended as a new type after all of vmlinux's
    members.push({ name: '', type: kernel.typeCount, bitOffset: t.size * 8, bitfieldSize: 0 });
    b.add({ ...t, size: t.size + 8, members });
  }
  const anon: BtfType = { kind: BtfKind.STRUCT, name: '', size: 8, members: [{ name: 'pad', type: intId, bitOffset: 0, bitfieldSize: 0 }, { name: 'tgid', type: intId, bitOffset: 32, bitfieldSize: 0 }] };
  assert.equal(b.add(anon), kernel.typeCount);
  return parseBtf(b.finish());
}

test('a vmlinux with a different task_struct layout: the same object relocates to the new offsets', () => {
  const altered = alteredVmlinux();
  const real = relocate(objects.fields, 'probe_chain');
  const moved = relocate(objects.fields, 'probe_chain', altered);
  const offsetOf = (results: CoreRelocationResult[], prefix: string) => pick(results, prefix, 'byte offset')[0]!;
  const rpReal = offsetOf(real.results, 'struct task_struct::real_parent (');
  const rpMoved = offsetOf(moved.results, 'struct task_struct::real_parent (');
  assert.equal(rpReal.targetValue, BigInt(byteOffset(kernel, 'task_struct', 'real_parent')));
  assert.equal(rpMoved.targetValue, BigInt(byteOffset(kernel, 'task_struct', 'parent')), 'real_parent now sits where parent was');
  assert.notEqual(rpMoved.targetValue, rpReal.targetValue);
  assert.equal(moved.instructions[rpMoved.index]!.imm, byteOffset(kernel, 'task_struct', 'parent'));
  // tgid moved into an anonymous struct at the old end of task_struct
  const tgid = offsetOf(moved.results, 'struct task_struct::tgid (');
  assert.equal(tgid.targetValue, BigInt(sizeOf(kernel, structId(kernel, 'task_struct'))! + 4));
  assert.match(tgid.description, /\(0:\d+:1\)/, 'the target path goes through the anonymous member');
  // in_iowait is gone: its existence check is 0 and every other relocation of it poisoned
  expect(moved.results, 'struct task_struct::in_iowait (', 'field exists', 0);
  for (const what of ['byte offset', 'byte size', 'left shift', 'right shift', 'signed']) {
    expect(moved.results, 'struct task_struct::in_iowait (', what, 'poisoned');
  }
  // everything not about the changed fields resolves as on the real kernel
  const changed = /::(real_parent|tgid|in_iowait) /;
  const same = (rs: CoreRelocationResult[]) => rs.filter((r) => !changed.test(r.description));
  assert.deepEqual(same(moved.results), same(real.results));
  // and the layout change also shows in type-based relocations
  const sizes = relocate(objects.types, 'sock_consts', altered).results;
  expect(sizes, 'struct task_struct (', 'type size', sizeOf(kernel, structId(kernel, 'task_struct'))! + 8);
});
