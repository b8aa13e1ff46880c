/**
 * The record types of a TypeScript kernel module's ring buffers and perf event arrays, read
 * from its source: `new RingBuf<ExecEvent>(...)` says what `events` carries, which the object's
 * BTF cannot (a BPF_MAP_TYPE_RINGBUF map has no value type; the compiler emits the record
 * struct under its TypeScript name, but nothing ties it to the map). An interface becomes the
 * BTF type of that name; the dialect's own types (u32, Comm, FixedArray<u8, 4>, ...) become
 * codecs directly. Parsing is oxc's, as the compiler's, and costs well under a millisecond.
 * The compiler's module analysis (src/compiler/module.ts) knows the same declarations, but a
 * load served from the object cache must not import the compiler (~60 ms of modules), so this
 * reads only the map declarations; the compiler reporting record types into the object (or
 * the cache entry) would retire this module.
 */
import { parseSync } from 'oxc-parser';
import { array, bool, cstring, i16, i32, i64, i8, u16, u32, u64, u8, type Codec } from './kernel/codec.js';

/** Codecs of the dialect's scalar types, by their tsbpf/lang names. */
const SCALARS: Record<string, Codec<unknown>> = { u8, u16, u32, u64, i8, i16, i32, i64, bool } as Record<string, Codec<unknown>>;

/** The slice of oxc's ESTree-shaped AST this module reads. */
interface Node {
  type: string;
  [field: string]: unknown;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';

/** The number of a literal type argument (`4` in FixedArray<u8, 4>). */
function literalNumber(t: Node | undefined): number | undefined {
  const lit = t?.type === 'TSLiteralType' && isNode(t.literal) ? t.literal : undefined;
  return typeof lit?.value === 'number' ? lit.value : undefined;
}

/** A record type argument as a BTF type name or a codec; undefined when it is neither. */
function recordType(t: Node, langName: (local: string) => string | undefined): string | Codec<unknown> | undefined {
  if (t.type !== 'TSTypeReference' || !isNode(t.typeName) || t.typeName.type !== 'Identifier') return undefined;
  const local = t.typeName.name as string;
  const args = isNode(t.typeArguments) ? (t.typeArguments.params as Node[]) : [];
  const name = langName(local);
  if (name === undefined) return local; // the module's own interface: its BTF struct has this name
  if (name in SCALARS) return SCALARS[name];
  if (name === 'Comm') return cstring(16);
  if (name === 'CharArray') {
    const n = literalNumber(args[0]);
    return n === undefined ? undefined : cstring(n);
  }
  if (name === 'FixedArray' && args[0]) {
    const elem = recordType(args[0], langName);
    const n = literalNumber(args[1]);
    return elem === undefined || typeof elem === 'string' || n === undefined ? undefined : array(elem, n);
  }
  return undefined;
}

/**
 * The record type of each `RingBuf<T>` and `PerfEventArray<T>` declared at the top level of
 * `source`, by map name; those whose T cannot be named (an inline object type) are left out,
 * and Collection.events() says so when asked for them.
 *
 * @example
 * recordTypes("export const events = new RingBuf<ExecEvent>({ size: 4096 });", 'x.bpf.ts'); // { events: 'ExecEvent' }
 */
export function recordTypes(source: string, fileName: string): Record<string, string | Codec<unknown>> {
  const { program } = parseSync(fileName, source, { lang: 'ts', sourceType: 'module' });
  // Local names of tsbpf/lang imports (`import { RingBuf as RB }`), to the names lang exports.
  const imported = new Map<string, string>();
  for (const stmt of program.body as unknown as Node[]) {
    if (stmt.type !== 'ImportDeclaration' || (stmt.source as { value?: string }).value !== 'tsbpf/lang') continue;
    for (const s of stmt.specifiers as Node[]) {
      if (s.type === 'ImportSpecifier' && isNode(s.imported) && isNode(s.local)) imported.set(s.local.name as string, s.imported.name as string);
    }
  }
  const langName = (local: string): string | undefined => imported.get(local);
  const out: Record<string, string | Codec<unknown>> = {};
  for (const stmt of program.body as unknown as Node[]) {
    const decl = stmt.type === 'ExportNamedDeclaration' && isNode(stmt.declaration) ? stmt.declaration : stmt;
    if (decl.type !== 'VariableDeclaration') continue;
    for (const d of decl.declarations as Node[]) {
      const init = d.init;
      if (!isNode(init) || init.type !== 'NewExpression' || !isNode(init.callee) || !isNode(d.id) || d.id.type !== 'Identifier') continue;
      const cls = langName(init.callee.name as string);
      if (cls !== 'RingBuf' && cls !== 'PerfEventArray') continue;
      const arg = isNode(init.typeArguments) ? (init.typeArguments.params as Node[])[0] : undefined;
      const type = arg && recordType(arg, langName);
      if (type !== undefined) out[d.id.name as string] = type;
    }
  }
  return out;
}
