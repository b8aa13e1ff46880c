import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError, NotSupportedError } from '../../src/errors.js';
import { ElfWriteError, PT, SHT, elfToWriteSpec, parseElf, writeElf, type ElfFile } from '../../src/elf/index.js';
import { FIXTURES, fixture } from './oracle.js';

/** TSBPF_FUZZ_SCALE=20 runs every property twenty times as many cases (for a deeper local search). */
const SCALE = Math.max(1, Number(process.env.TSBPF_FUZZ_SCALE ?? 1) || 1);

/** How far `exercise` got, summed over a property's runs (to check the runs reach deep code). */
const reached = { parsed: 0, symbols: 0, relocations: 0, notes: 0, rewritten: 0 };
const resetReached = () => Object.keys(reached).forEach((k) => (reached[k as keyof typeof reached] = 0));

/** Runs `fn`, letting only FormatError (bad input, reported properly) through as acceptable. */
function tolerate(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof FormatError) return false;
    throw e;
  }
}

/**
 * Parses `bytes` and calls every accessor on everything the file holds. Only FormatError may
 * escape from reading; rewriting may also refuse with ElfWriteError or NotSupportedError, and
 * whatever it writes must parse again.
 */
function exercise(bytes: Uint8Array, rewrite: boolean): void {
  let file: ElfFile | undefined;
  if (!tolerate(() => (file = parseElf(bytes))) || file === undefined) return;
  const f: ElfFile = file;
  reached.parsed++;
  let checksum = 0;
  for (const s of f.sections) {
    for (const b of s.data) checksum ^= b;
    f.section(s.name);
    f.relocationSectionsFor(s);
    if (s.type === SHT.STRTAB) for (const at of [0, 1, s.data.byteLength >> 1, s.data.byteLength - 1]) tolerate(() => f.stringAt(s, at));
    if (s.type === SHT.REL || s.type === SHT.RELA) reached.relocations += tolerate(() => void f.relocations(s)) ? 1 : 0;
    if (s.type === SHT.NOTE) reached.notes += tolerate(() => void f.notes(s)) ? 1 : 0;
  }
  for (const p of f.segments) {
    if (p.type === PT.NOTE) reached.notes += tolerate(() => void f.notes(p)) ? 1 : 0;
    f.addressToOffset(p.vaddr);
  }
  const symbolsOk = tolerate(() => void f.symbols());
  if (symbolsOk && f.symbols().length > 0) reached.symbols++;
  tolerate(() => void f.dynamicSymbols());
  assert.ok(checksum >= 0);
  if (!rewrite || !symbolsOk) return;
  let out: Uint8Array | undefined;
  try {
    out = writeElf(elfToWriteSpec(f));
  } catch (e) {
    if (e instanceof FormatError || e instanceof ElfWriteError || e instanceof NotSupportedError) return;
    throw e;
  }
  reached.rewritten++;
  const again = parseElf(out);
  assert.ok(again.sections.length >= f.sections.length);
  // An empty symbol table comes back with its null symbol, which the writer always emits.
  const hasSymtab = f.sections.some((s) => s.index > 0 && s.type === SHT.SYMTAB);
  assert.equal(again.symbols().length, hasSymtab ? Math.max(1, f.symbols().length) : 0);
}

const FIX = FIXTURES.map((name) => ({ name, bytes: fixture(name) }));

/** Every header field of a fixture worth corrupting: [file offset, size in bytes]. */
function fieldSites(bytes: Uint8Array): Array<[number, 1 | 2 | 4 | 8]> {
  const sites: Array<[number, 1 | 2 | 4 | 8]> = [];
  const header: Array<[number, 1 | 2 | 4 | 8]> = [[4, 1], [5, 1], [16, 2], [18, 2], [24, 8], [32, 8], [40, 8], [48, 4], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2]];
  sites.push(...header);
  const f = parseElf(bytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, f.littleEndian));
  const phoff = Number(v.getBigUint64(32, f.littleEndian));
  const shdr: Array<[number, 1 | 2 | 4 | 8]> = [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]];
  f.sections.forEach((_, i) => shdr.forEach(([o, n]) => sites.push([shoff + i * 64 + o, n])));
  const phdr: Array<[number, 1 | 2 | 4 | 8]> = [[0, 4], [4, 4], [8, 8], [16, 8], [32, 8], [40, 8], [48, 8]];
  f.segments.forEach((_, i) => phdr.forEach(([o, n]) => sites.push([phoff + i * 56 + o, n])));
  for (const s of f.sections) {
    if (s.type === SHT.SYMTAB || s.type === SHT.DYNSYM) {
      for (let i = 0; i < s.size / 24; i++) sites.push([s.offset + i * 24, 4], [s.offset + i * 24 + 4, 1], [s.offset + i * 24 + 6, 2]);
    }
    if (s.type === SHT.REL || s.type === SHT.RELA) {
      for (let i = 0; i < Math.min(8, s.size / s.entsize); i++) sites.push([s.offset + i * s.entsize + 8, 4], [s.offset + i * s.entsize + 12, 4]);
    }
    if (s.type === SHT.NOTE) sites.push([s.offset, 4], [s.offset + 4, 4], [s.offset + 8, 4]);
  }
  return sites;
}
const SITES = FIX.map((x) => fieldSites(x.bytes));

const EXTREMES = [0n, 1n, 2n, 3n, 4n, 7n, 8n, 16n, 24n, 0x7fn, 0xffn, 0xff00n, 0xfff1n, 0xfffen, 0xffffn, 0x7fffffffn, 0xffffffffn, 1n << 32n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n];

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'field'; site: number; value: bigint; near: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
  fc.record({
    kind: fc.constant('field' as const),
    site: fc.nat(),
    value: fc.oneof(fc.constantFrom(...EXTREMES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
    near: fc.integer({ min: -2, max: 2 }),
  }),
);

function mutate(index: number, mutations: readonly Mutation[]): Uint8Array {
  const { bytes: original } = FIX[index]!;
  const le = original[5] === 1;
  let bytes = original.slice();
  for (const m of mutations) {
    if (bytes.length === 0) break;
    if (m.kind === 'flip') bytes[m.at % bytes.length] = m.value;
    else if (m.kind === 'truncate') bytes = bytes.slice(0, m.length % (bytes.length + 1));
    else {
      const sites = SITES[index]!;
      const [at, size] = sites[m.site % sites.length]!;
      const fileLength = BigInt(original.length);
      // Values just around the file length are the likeliest to slip past a bounds check.
      const value = m.value === 2n ? fileLength + BigInt(m.near) : m.value;
      const v = new DataView(bytes.buffer);
      if (at + size > bytes.length) continue;
      const bits = BigInt.asUintN(size * 8, value < 0n ? 0n : value);
      if (size === 1) v.setUint8(at, Number(bits));
      else if (size === 2) v.setUint16(at, Number(bits), le);
      else if (size === 4) v.setUint32(at, Number(bits), le);
      else v.setBigUint64(at, bits, le);
    }
  }
  return bytes;
}

test('the fixtures themselves pass the exercise, rewriting included', () => {
  for (const { name, bytes } of FIX) {
    const f = parseElf(bytes);
    assert.ok(f.sections.length > 0, name);
    exercise(bytes, true);
  }
});

test('random bytes: parseElf and every accessor throw only FormatError', { timeout: 120_000 * SCALE }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1024, size: 'max' }), (bytes) => exercise(bytes, true)),
    { numRuns: 1000 * SCALE },
  );
});

/** A file with a valid ELF64 header and section / program header tables of plausible random entries. */
const randomTables = fc.record({
  le: fc.boolean(),
  shstrndx: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
  // 1 KiB of data, half the bytes NUL so that random string offsets often find a terminated string.
  data: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })), { minLength: 1024, maxLength: 1024 }),
  sections: fc.array(
    fc.record({
      name: fc.integer({ min: 0, max: 80 }),
      // Mostly the types that have accessors, with sizes in whole entries, so runs get deep.
      type: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(SHT.SYMTAB, SHT.STRTAB, SHT.REL, SHT.RELA, SHT.NOTE, SHT.DYNSYM, SHT.SYMTAB_SHNDX, SHT.NOBITS, SHT.PROGBITS) },
        { weight: 1, arbitrary: fc.constantFrom(...Object.values(SHT)) },
        { weight: 1, arbitrary: fc.nat() },
      ),
      flags: fc.bigInt({ min: 0n, max: 0xfffn }),
      // Mostly inside the data (which spans file offsets 64 to 1088), sometimes anywhere.
      offset: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 64, max: 800 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5000 }) }),
      size: fc.oneof(fc.integer({ min: 0, max: 288 }), fc.integer({ min: 0, max: 12 }).map((n) => n * 24), fc.integer({ min: 0, max: 18 }).map((n) => n * 16)),
      link: fc.integer({ min: 0, max: 12 }),
      info: fc.integer({ min: 0, max: 12 }),
      addralign: fc.constantFrom(0, 1, 4, 8, 16, 3, 1 << 30),
      entsize: fc.constantFrom(0, 1, 4, 7, 16, 24, 24, 24),
    }),
    { maxLength: 10 },
  ),
  segments: fc.array(
    fc.record({
      type: fc.constantFrom(...Object.values(PT)),
      offset: fc.integer({ min: 0, max: 1200 }),
      filesz: fc.integer({ min: 0, max: 700 }),
      align: fc.constantFrom(0, 4, 8, 16),
    }),
    { maxLength: 3 },
  ),
});

function buildRandomElf({ le, shstrndx, data, sections, segments }: typeof randomTables extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const shoff = Math.ceil((64 + data.length) / 8) * 8;
  const phoff = shoff + sections.length * 64;
  const bytes = new Uint8Array(phoff + segments.length * 56);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1]);
  bytes.set(data, 64);
  v.setUint16(16, 1, le);
  v.setBigUint64(32, segments.length > 0 ? BigInt(phoff) : 0n, le);
  v.setBigUint64(40, sections.length > 0 ? BigInt(shoff) : 0n, le);
  v.setUint16(54, 56, le);
  v.setUint16(56, segments.length, le);
  v.setUint16(58, 64, le);
  v.setUint16(60, sections.length, le);
  v.setUint16(62, shstrndx, le);
  sections.forEach((s, i) => {
    const at = shoff + i * 64;
    v.setUint32(at, s.name, le);
    v.setUint32(at + 4, s.type >>> 0, le);
    v.setBigUint64(at + 8, s.flags, le);
    v.setBigUint64(at + 24, BigInt(s.offset), le);
    v.setBigUint64(at + 32, BigInt(s.size), le);
    v.setUint32(at + 40, s.link, le);
    v.setUint32(at + 44, s.info, le);
    v.setBigUint64(at + 48, BigInt(s.addralign), le);
    v.setBigUint64(at + 56, BigInt(s.entsize), le);
  });
  segments.forEach((p, i) => {
    const at = phoff + i * 56;
    v.setUint32(at, p.type, le);
    v.setBigUint64(at + 8, BigInt(p.offset), le);
    v.setBigUint64(at + 32, BigInt(p.filesz), le);
    v.setBigUint64(at + 40, BigInt(p.filesz), le);
    v.setBigUint64(at + 48, BigInt(p.align), le);
  });
  return bytes;
}

test('random section and program header tables behind a valid ELF64 header', { timeout: 120_000 * SCALE }, () => {
  resetReached();
  fc.assert(
    fc.property(randomTables, (spec) => exercise(buildRandomElf(spec), true)),
    { numRuns: 2000 * SCALE },
  );
  // Enough runs must get past parsing into the accessors and the writer to mean anything.
  // (Random symbol tables almost never decode; the fixture mutations below cover that path.)
  assert.ok(reached.parsed > 300 && reached.notes > 10 && reached.rewritten > 30, JSON.stringify(reached));
});

test('fixtures with flipped bytes, truncations and header fields set to extremes', { timeout: 300_000 * SCALE }, () => {
  const arb = fc.record({ index: fc.integer({ min: 0, max: FIX.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 6 }) });
  resetReached();
  fc.assert(
    fc.property(arb, ({ index, mutations }) => exercise(mutate(index, mutations), true)),
    { numRuns: 3000 * SCALE },
  );
  // The mutations must leave many files parseable, or the accessors are never reached. The
  // bounds sit well below what a run reaches (the mutations are random: a CI run once parsed 599).
  assert.ok(reached.parsed > 450 && reached.symbols > 300 && reached.relocations > 1000 && reached.notes > 30 && reached.rewritten > 300, JSON.stringify(reached));
});
