/**
 * Property: whatever a compiler hands the writer, it either writes an object tsbpf's reader
 * reads back, or throws an ObjectWriteError; never a TypeError or RangeError from inside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FormatError } from '../../src/errors.js';
import { ObjectWriteError, readObject, writeObject, type ObjectSpec } from '../../src/object/index.js';
import { handBuilt } from './writer-fixture.js';
import { ROOT } from './writer-oracle.js';

const FIXTURES = ['testdata/object/features.bpf.o', 'testdata/objdump/maps_globals.bpf.o', 'testdata/objdump/subprogs.bpfeb.o', 'testdata/btf/types.o'];
const bytes = FIXTURES.map((f) => readFileSync(join(ROOT, f)));

/** A fresh spec: one of the fixtures, or the hand-built object. */
function fresh(which: number): ObjectSpec {
  return which < bytes.length ? readObject(bytes[which]!) : handBuilt().spec;
}

type Mutation = (s: ObjectSpec, pick: (n: number) => number) => void;

const MAP_TYPES = ['HASH', 'ARRAY', 'PROG_ARRAY', 'RINGBUF', 'ARRAY_OF_MAPS', 'PERCPU_ARRAY', 'NOPE'];
const SECTIONS = ['.text', 'xdp', '.data', '', 'socket', '.maps', 'license'];

const mutations: Mutation[] = [
  (s, r) => { const p = s.programs[r(s.programs.length)]; const ref = p?.references[r(p.references.length)]; if (ref) ref.index = r(p!.instructions.length + 4) - 2; },
  (s, r) => { for (const p of s.programs) for (const ref of p.references) if (ref.kind === 'map_value' && r(3) === 0) ref.offset = r(300) - 4; },
  (s, r) => { s.maps.splice(r(s.maps.length), 1); },
  (s, r) => { const p = s.programs[r(s.programs.length)]; const f = p?.funcInfos[r(p.funcInfos.length)]; if (f) f.typeId = r(200) - 1; },
  (s, r) => { const m = s.maps[r(s.maps.length)]; if (m) [m.keyType, m.valueType] = [r(3) === 0 ? undefined : r(200), r(3) === 0 ? undefined : r(200)]; },
  (s, r) => { const p = s.programs[r(s.programs.length)]; const f = p?.functions[r(p.functions.length)]; if (f) [f.start, f.end] = [f.start + r(5) - 2, f.end + r(5) - 2]; },
  (s, r) => { const p = s.programs[r(s.programs.length)]; const l = p?.lineInfos[r(p.lineInfos.length)]; if (l) l.index = r(p!.instructions.length + 2); },
  (s, r) => { const p = s.programs[r(s.programs.length)]; const i = p?.instructions[r(p.instructions.length)]; if (i) { i.src = r(7); if (r(2) === 0) i.code = [0x18, 0x85, 0xb7, 0x95][r(4)]!; } },
  (s, r) => {
    const m = s.maps[r(s.maps.length)];
    const names = [...s.programs.map((p) => p.name), ...s.maps.map((x) => x.name), 'nope'];
    m?.slots.push({ key: r(8) - 1, value: names[r(names.length)]! });
  },
  (s, r) => { const m = s.maps[r(s.maps.length)]; if (m) m.type = MAP_TYPES[r(MAP_TYPES.length)]!; },
  (s, r) => { const m = s.maps[r(s.maps.length)]; const v = m?.variables[r(m.variables.length)]; if (v) [v.offset, v.size, v.typeId] = [r(40) - 2, r(40), r(2) ? v.typeId : r(200)]; },
  (s, r) => { const p = s.programs[r(s.programs.length)]; if (p) p.section = SECTIONS[r(SECTIONS.length)]!; },
  (s, r) => {
    const names = [...s.programs.map((p) => p.name), ...s.maps.map((x) => x.name)];
    const target = r(2) === 0 ? s.programs[r(s.programs.length)] : s.maps[r(s.maps.length)];
    if (target) target.name = names[r(names.length)]!;
  },
  (s, r) => { const p = s.programs[r(s.programs.length)]; const c = p?.coreRelos[r(p.coreRelos.length)]; if (c) c.relo = { ...c.relo, typeId: r(300) }; },
  (s, r) => { const m = s.maps[r(s.maps.length)]; if (m) [m.maxEntries, m.flags, m.keySize, m.valueSize] = [r(5), r(3) === 0 ? -1 : r(4096), r(20), r(20)]; },
  (s, r) => { const m = s.maps[r(s.maps.length)]; if (m?.data) m.data = m.data.subarray(0, r(m.data.length + 1)); },
];

test('random damage to specs: an ObjectWriteError or an object the reader reads back', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: bytes.length }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: mutations.length - 1 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 })), { minLength: 1, maxLength: 3 }),
      (which, steps) => {
        const spec = fresh(which);
        for (const [m, seeds] of steps) {
          let k = 0;
          mutations[m]!(spec, (n) => (n <= 0 ? 0 : seeds[k++ % seeds.length]! % n));
        }
        let out: Uint8Array;
        try {
          out = writeObject(spec);
        } catch (err) {
          assert.ok(err instanceof ObjectWriteError, `writeObject threw ${err instanceof Error ? err.stack : String(err)}`);
          return;
        }
        try {
          readObject(out);
        } catch (err) {
          // The writer does not check what only the kernel knows (e.g. a CO-RE access string
          // against its type); the reader may still refuse such an object, with a FormatError.
          assert.ok(err instanceof FormatError, `readObject threw ${err instanceof Error ? err.stack : String(err)}`);
        }
      },
    ),
    { numRuns: 400, seed: 20240607 },
  );
});
