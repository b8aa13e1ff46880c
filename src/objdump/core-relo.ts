/**
 * CO-RE relocation descriptions as llvm-objdump 17+ prints them under `-dr`
 * (`CO-RE <byte_off> [7] struct task_struct::real_parent (0:2)`), following the rules of
 * LLVM's BTFParser::symbolize: type-based kinds name the type, enum kinds the enumerator and its
 * value, field kinds the member path and the raw access string. Malformed records print the raw
 * access string and what is wrong instead of throwing.
 */
import { BtfKind, coreReloKindShortName, type Btf, type CoreRelo } from '../btf/index.js';
import { TsbpfError } from '../errors.js';

const TYPE_KINDS = new Set([6, 7, 8, 9, 12]); // local/target type id, type exists/size/matches
const ENUM_KINDS = new Set([10, 11]); // enumval exists/value
const MAX_MODIFIERS = 32;

class Unprintable extends Error {}

/** One CO-RE record in llvm-objdump's words. */
export function describeCoreRelo(btf: Btf, relo: CoreRelo): string {
  const kind = `<${KIND_LABELS[relo.kind] ?? `reloc kind #${relo.kind}`}>`;
  try {
    return `${kind} ${describe(btf, relo)}`;
  } catch (err) {
    if (!(err instanceof Unprintable) && !(err instanceof TsbpfError)) throw err;
    return `${kind} [${relo.typeId}] '${relo.accessStr}' <${err.message}>`;
  }
}

// libbpf's short names, except that LLVM prints 'reloc kind #N' for unknown kinds.
const KIND_LABELS: readonly string[] = Array.from({ length: 13 }, (_, k) => coreReloKindShortName(k));

function typeAt(btf: Btf, id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= btf.typeCount) throw new Unprintable(`unknown type id: ${id}${what}`);
}

function isModifier(kind: number): boolean {
  return kind === BtfKind.CONST || kind === BtfKind.VOLATILE || kind === BtfKind.RESTRICT || kind === BtfKind.TYPE_TAG;
}

function skipModifiersAndTypedefs(btf: Btf, id: number): number {
  for (let i = 0; id !== 0 && i <= MAX_MODIFIERS; i++) {
    const k = btf.kindOf(id);
    if (!isModifier(k) && k !== BtfKind.TYPEDEF) return id;
    const next = btf.sizeOrType(id);
    if (next >= btf.typeCount) return id;
    id = next;
  }
  return id;
}

function describe(btf: Btf, relo: CoreRelo): string {
  const spec = relo.accessStr === '' ? [] : relo.accessStr.split(':').map((p) => {
    if (!/^\d+$/.test(p)) throw new Unprintable('spec string is not a number');
    return Number(p);
  });
  let id = relo.typeId;
  typeAt(btf, id, '');
  let out = `[${id}]`;
  for (let chain = 0; id !== 0 && isModifier(btf.kindOf(id)); chain++) {
    if (chain >= MAX_MODIFIERS) throw new Unprintable('modifiers chain is too long');
    const k = btf.kindOf(id);
    out += k === BtfKind.CONST ? ' const' : k === BtfKind.VOLATILE ? ' volatile' : k === BtfKind.RESTRICT ? ' restrict' : ` type_tag("${btf.nameOf(id)}")`;
    id = btf.sizeOrType(id);
    typeAt(btf, id, ' in modifiers chain');
  }
  if (id === 0) out += ' void';
  else {
    const t = btf.type(id);
    const keyword =
      t.kind === BtfKind.TYPEDEF ? ' typedef' : t.kind === BtfKind.STRUCT ? ' struct' : t.kind === BtfKind.UNION ? ' union'
        : t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64 ? ' enum' : t.kind === BtfKind.FWD ? (t.union ? ' fwd union' : ' fwd struct') : '';
    out += `${keyword} ${t.name || `<anon ${id}>`}`;
  }

  if (TYPE_KINDS.has(relo.kind)) {
    if (spec.length !== 1 || spec[0] !== 0) throw new Unprintable("unexpected type-based relocation spec: should be '0'");
    return out;
  }
  out += '::';
  if (ENUM_KINDS.has(relo.kind)) {
    const t = btf.type(skipModifiersAndTypedefs(btf, id));
    if (spec.length !== 1) throw new Unprintable('unexpected enumval relocation spec size');
    const idx = spec[0]!;
    if (t.kind !== BtfKind.ENUM && t.kind !== BtfKind.ENUM64) throw new Unprintable(`unexpected type kind for enum relocation: ${t.kind}`);
    const v = t.values[idx];
    if (!v) throw new Unprintable(`bad value index: ${idx}`);
    const raw = BigInt.asUintN(64, BigInt(v.value));
    return `${out}${v.name || `<anon ${idx}>`} = ${t.signed ? BigInt.asIntN(64, raw) : raw}`;
  }
  if (relo.kind > 5) throw new Unprintable(`unknown relocation kind: ${relo.kind}`);
  if (spec.length < 1) throw new Unprintable('field spec too short');
  if (spec[0] !== 0) out += `[${spec[0]}]`;
  for (let i = 1; i < spec.length; i++) {
    id = skipModifiersAndTypedefs(btf, id);
    const t = btf.type(id);
    const idx = spec[i]!;
    if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
      const m = t.members[idx];
      if (!m) throw new Unprintable(`member index ${idx} for spec sub-string ${i} is out of range`);
      if (i !== 1 || spec[0] !== 0) out += '.';
      out += m.name || `<anon ${idx}>`;
      id = m.type;
      typeAt(btf, id, '');
    } else if (t.kind === BtfKind.ARRAY) {
      out += `[${idx}]`;
      id = t.type;
      typeAt(btf, id, '');
    } else {
      throw new Unprintable(`unexpected type kind ${t.kind} for spec sub-string ${i}`);
    }
  }
  return `${out} (${relo.accessStr})`;
}
