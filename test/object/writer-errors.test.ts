/** Specs the object writer refuses: each gives an ObjectWriteError naming what and where. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgramBuilder, R0, R1, type Instruction } from '../../src/asm/index.js';
import { ObjectWriteError, writeObject, type ObjectSpec, type ObjectWriteProblem } from '../../src/object/index.js';
import { handBuilt, mapSpec, programOf } from './writer-fixture.js';

/** Asserts that writing the spec `mutate` makes fails with the given problem, subject and place. */
function refuses(mutate: (spec: ObjectSpec) => void, problem: ObjectWriteProblem, subject: string, where: RegExp): void {
  const { spec } = handBuilt();
  mutate(spec);
  assert.throws(
    () => writeObject(spec),
    (err: unknown) => {
      assert.ok(err instanceof ObjectWriteError, `expected an ObjectWriteError, got ${String(err)}`);
      assert.equal(err.problem, problem, err.message);
      assert.equal(err.subject, subject, err.message);
      assert.match(err.where, where);
      assert.ok(err.message.startsWith(err.where), err.message);
      return true;
    },
  );
}

const program = (spec: ObjectSpec, name: string) => spec.programs.find((p) => p.name === name)!;

test('the hand-built spec itself is accepted', () => {
  assert.ok(writeObject(handBuilt().spec).byteLength > 0);
});

test('a reference to a map the spec does not have', () => {
  refuses((s) => {
    const ref = program(s, 'count_calls').references.find((r) => r.kind === 'map')!;
    (ref as { map: string }).map = 'nope';
  }, 'unknown-map', 'nope', /^program 'count_calls' instruction 7$/);
  refuses((s) => {
    s.maps.find((m) => m.name === 'outer')!.slots = [{ key: 0, value: 'missing' }];
  }, 'unknown-map', 'missing', /^map 'outer' slot 0$/);
});

test('a global data reference past the end of its section', () => {
  refuses((s) => {
    const ref = program(s, 'count_calls').references.find((r) => r.kind === 'map_value' && r.map === '.rodata')!;
    (ref as { offset: number }).offset = 8;
  }, 'out-of-range', '.rodata', /^program 'count_calls' instruction \d+ \(in fill\)$/);
  refuses((s) => {
    s.maps.find((m) => m.name === '.bss')!.variables[0]!.offset = 4;
  }, 'out-of-range', 'counter', /^map '\.bss' variable 'counter'$/);
  refuses((s) => {
    const ref = program(s, 'extras').references.find((r) => r.kind === 'map_value' && r.map === '.kconfig')!;
    (ref as { offset: number }).offset = 2;
  }, 'out-of-range', '.kconfig', /^program 'extras' instruction 3$/);
  refuses((s) => {
    s.maps.find((m) => m.name === 'jumps')!.slots = [{ key: 2, value: 'tail' }];
  }, 'out-of-range', 'jumps', /^map 'jumps' slot 2$/);
});

test('duplicate names: programs, maps, globals across kinds, variables, functions', () => {
  refuses((s) => (s.programs[2]!.name = 'extras'), 'bad-layout', 'extras', /^program 'extras'$/);
  refuses((s) => {
    const dup = programOf('extras', 'xdp', new ProgramBuilder().mov(R0, 0).exit().build(), []);
    s.programs.push(dup);
  }, 'duplicate-name', 'extras', /^program 'extras'$/);
  refuses((s) => s.maps.push(mapSpec({ name: 'counts', type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1 })), 'duplicate-name', 'counts', /^map 'counts'$/);
  // One global namespace, as in a linker: a map named like a program.
  refuses((s) => (s.maps.find((m) => m.name === 'inner')!.name = 'tail'), 'duplicate-name', 'tail', /^map 'tail'$/);
  refuses((s) => (s.maps.find((m) => m.name === '.bss')!.variables[0]!.name = 'tail'), 'duplicate-name', 'tail', /^program 'tail'$/);
  refuses((s) => (s.maps.find((m) => m.name === '.bss')!.variables[0]!.name = 'limit'), 'duplicate-name', 'limit', /^map '\.bss' variable 'limit'$/);
  refuses((s) => {
    const v = s.maps.find((m) => m.name === '.rodata')!.variables;
    v.push({ ...v[0]! });
  }, 'duplicate-name', 'limit', /^map '\.rodata' variable 'limit'$/);
  refuses((s) => (program(s, 'count_calls').functions[1]!.name = 'tail'), 'duplicate-name', 'tail', /^program 'count_calls' function 'tail'$/);
});

test('subprograms of one name must be the same code wherever they were linked', () => {
  refuses((s) => {
    const p = program(s, 'count_calls');
    const other = programOf('other', 'tracepoint/syscalls/sys_enter_getppid', new ProgramBuilder().callLocal('fill').exit().label('fill').mov(R0, 1).exit().build(), ['fill']);
    s.programs.push(other);
    assert.ok(p.functions.some((f) => f.name === 'fill'));
  }, 'conflicting-function', 'fill', /^program 'other' function 'fill'$/);
});

test('references that do not fit their instruction', () => {
  const ldImm: Instruction = { code: 0x18, dst: R1, src: 1, off: 0, imm: 0, imm2: 0 };
  refuses((s) => {
    program(s, 'tail').instructions.unshift(ldImm);
    program(s, 'tail').functions[0]!.end++;
  }, 'bad-reference', 'tail', /^program 'tail' instruction 0$/);
  refuses((s) => {
    program(s, 'tail').references.push({ kind: 'map', index: 0, map: 'counts' });
  }, 'bad-reference', 'counts', /^program 'tail' instruction 0$/);
  refuses((s) => {
    program(s, 'tail').references.push({ kind: 'map_value', index: 0, map: 'counts', offset: 0 });
    program(s, 'tail').instructions.unshift({ ...ldImm, src: 2 });
    program(s, 'tail').functions[0]!.end++;
  }, 'bad-reference', 'counts', /^program 'tail' instruction 0$/);
});

test('layouts, BTF and line info the kernel would refuse', () => {
  refuses((s) => (program(s, 'count_calls').functions[1]!.start += 1), 'bad-layout', 'count_calls', /^program 'count_calls'$/);
  refuses((s) => (s.maps.find((m) => m.name === 'counts')!.keyType = 999), 'missing-btf', 'counts', /^map 'counts' key type$/);
  refuses((s) => (s.btf = undefined), 'missing-btf', 'limit', /^map '\.rodata' variable 'limit'$/);
  refuses((s) => (s.maps.find((m) => m.name === '.kconfig')!.variables[0]!.typeId = undefined), 'missing-btf', 'LINUX_KERNEL_VERSION', /^\.kconfig variable 'LINUX_KERNEL_VERSION'$/);
  refuses((s) => {
    (program(s, 'extras').references.find((r) => r.kind === 'kfunc')! as { name: string }).name = 'bpf_no_such_kfunc';
  }, 'missing-btf', 'bpf_no_such_kfunc', /^program 'extras' instruction 1$/);
  refuses((s) => {
    const p = program(s, 'count_calls');
    p.lineInfos = p.lineInfos.filter((l) => l.line !== 30);
  }, 'incomplete', 'fill', /^program 'count_calls' function 'fill'$/);
});

test('what ELF objects cannot express', () => {
  refuses((s) => (s.programs[0]!.section = '.text'), 'unsupported', 'count_calls', /^program 'count_calls'$/);
  refuses((s) => (s.maps.find((m) => m.name === '.bss')!.data![0] = 1), 'unsupported', '.bss', /^map '\.bss'$/);
  refuses((s) => (s.maps.find((m) => m.name === 'counts')!.type = 'NO_SUCH_TYPE'), 'unsupported', 'counts', /^map 'counts'$/);
  refuses((s) => (s.maps.find((m) => m.name === '.rodata')!.section = '.maps2'), 'unsupported', '.rodata', /^map '\.rodata'$/);
});
