/**
 * The top level of a kernel module: imports from tsbpf/lang, interfaces and type aliases,
 * maps, programs, functions, constants user space sets (.rodata), globals (.data/.bss),
 * compile-time constants and the license. Everything else at the top level is outside the
 * dialect. Also resolves TypeScript type annotations to dialect types and evaluates constant
 * expressions.
 */
import type {
  ArrowFunctionExpression,
  CallExpression,
  Expression,
  Function as FunctionNode,
  NewExpression,
  ObjectExpression,
  Program,
  Statement,
  TSInterfaceDeclaration,
  TSType,
  TSTypeAliasDeclaration,
  VariableDeclarator,
} from 'oxc-parser';
import { fail, Problem, type DiagnosticSink, type Span } from './diagnostics.js';
import { kernelCName } from './kernel-names.js';
import type { KernelTypes } from './kernel-types.js';
import { CONSTANT_OBJECTS, constantsType, isLangModule, langExport, MAP_CLASSES, type LangExport } from './lang-exports.js';
import { alignUp, BOOL, INT, isAggregate, layoutStruct, NUM_LITERAL, BIG_LITERAL, sizeOf, STRING, typeName, type IntType, type StructType, type Type } from './types.js';

/** A constant known at compile time. */
export type ConstValue =
  | { kind: 'int'; value: bigint; type: Type }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'object'; members: Map<string, ConstValue> }
  | { kind: 'array'; items: ConstValue[] }
  | { kind: 'zero' };

/** A map declared at the top level. */
export interface MapDecl {
  name: string;
  className: string;
  /** Map type as in MapType. */
  type: string;
  key: Type | undefined;
  value: Type | undefined;
  /** RingBuf/PerfEventArray: the record type. */
  record: Type | undefined;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: 'none' | 'by_name';
  mapExtra: bigint;
  at: Span;
}

/** A global variable: a constant user space sets (.rodata), or a mutable global (.data/.bss). */
export interface GlobalVar {
  name: string;
  type: Type;
  section: '.rodata' | '.data' | '.bss';
  init: Uint8Array;
  /** Byte offset in its section (set by `layoutGlobals`). */
  offset: number;
  /** `constant<T>()`: user space may set it before load. */
  settable: boolean;
  at: Span;
}

/** A top-level function. */
export interface FunctionDecl {
  name: string;
  node: FunctionNode;
  at: Span;
}

/** A program: a declarator call with its body. */
export interface ProgramDecl {
  name: string;
  declarator: string;
  args: string[];
  body: ArrowFunctionExpression;
  call: CallExpression;
  at: Span;
}

const span = (n: { start: number; end: number }): Span => ({ start: n.start, end: n.end });

/** Names a top-level statement kind for messages. */
function describe(node: { type: string }): string {
  switch (node.type) {
    case 'ClassDeclaration':
      return 'a class';
    case 'TSEnumDeclaration':
      return 'an enum';
    case 'TSModuleDeclaration':
      return 'a namespace';
    case 'ExportDefaultDeclaration':
      return 'a default export';
    case 'ExportAllDeclaration':
      return 'a re-export';
    default:
      return `'${node.type}'`;
  }
}

/** The declarations of one source file. */
export class Module {
  readonly imports = new Map<string, LangExport>();
  readonly interfaces = new Map<string, TSInterfaceDeclaration>();
  readonly aliases = new Map<string, TSTypeAliasDeclaration>();
  readonly maps: MapDecl[] = [];
  readonly globals: GlobalVar[] = [];
  readonly functions = new Map<string, FunctionDecl>();
  readonly programs: ProgramDecl[] = [];
  readonly consts = new Map<string, ConstValue>();
  license = '';
  /** Top-level names, for duplicate checks. */
  private readonly names = new Map<string, Span>();
  private readonly structs = new Map<string, StructType>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly sink: DiagnosticSink,
    readonly kernel: KernelTypes,
  ) {}

  /** Collects every top-level declaration, reporting what is outside the dialect. */
  collect(program: Program): void {
    for (const stmt of program.body) {
      try {
        this.statement(stmt as Statement);
      } catch (e) {
        if (!(e instanceof Problem)) throw e;
        this.sink.add(e.at, e.detail, e.hint);
      }
    }
  }

  private declare(name: string, at: Span): void {
    const prev = this.names.get(name);
    if (prev) fail(at, `'${name}' is declared twice`, `rename one of them (the other is at line ${this.sink.source.position(prev.start).line})`);
    this.names.set(name, at);
  }

  private statement(stmt: Statement): void {
    switch (stmt.type) {
      case 'ImportDeclaration': {
        const from = stmt.source.value;
        if (!isLangModule(from)) {
          if (stmt.importKind === 'type' || stmt.specifiers.every((s) => s.type === 'ImportSpecifier' && s.importKind === 'type')) {
            fail(span(stmt), `types can only be imported from tsbpf/lang (not '${from}')`, 'declare the interfaces in this file and import them from here on the user side');
          }
          fail(span(stmt), `a kernel program can only import tsbpf/lang (not '${from}')`, 'move the code it needs into this file: kernel programs are compiled as one module');
        }
        for (const s of stmt.specifiers) {
          if (s.type !== 'ImportSpecifier') fail(span(s), 'only named imports from tsbpf/lang are supported', "write `import { HashMap, helpers as bpf, type u32 } from 'tsbpf/lang'`");
          const imported = s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value);
          const meaning = langExport(imported, kernelCName);
          if (!meaning) fail(span(s.imported), `tsbpf/lang has no export '${imported}'`, 'check the name (see docs/compiler.md for what tsbpf/lang exports)');
          this.declare(s.local.name, span(s.local));
          this.imports.set(s.local.name, meaning);
        }
        return;
      }
      case 'ExportNamedDeclaration':
        if (stmt.source) fail(span(stmt), 'a kernel module cannot re-export another module', 'declare everything in this file');
        if (stmt.declaration) this.statement(stmt.declaration as Statement);
        return;
      case 'TSInterfaceDeclaration':
        if (stmt.typeParameters) fail(span(stmt.typeParameters), 'generic interfaces are not part of the dialect', 'declare a concrete interface for each layout');
        this.declare(stmt.id.name, span(stmt.id));
        this.interfaces.set(stmt.id.name, stmt);
        return;
      case 'TSTypeAliasDeclaration':
        if (stmt.typeParameters) fail(span(stmt.typeParameters), 'generic type aliases are not part of the dialect', 'declare a concrete type');
        this.declare(stmt.id.name, span(stmt.id));
        this.aliases.set(stmt.id.name, stmt);
        return;
      case 'FunctionDeclaration': {
        const f = stmt as FunctionNode;
        if (!f.id) fail(span(stmt), 'a function needs a name', 'name it');
        if (f.async || f.generator) fail(span(stmt), `${f.async ? 'async' : 'generator'} functions are not part of the dialect`, 'write a plain function');
        if (!f.body) {
          fail(span(stmt), 'a function declaration without a body is not part of the dialect', 'give the function a body');
        }
        this.declare(f.id.name, span(f.id));
        this.functions.set(f.id.name, { name: f.id.name, node: f, at: span(f.id) });
        return;
      }
      case 'VariableDeclaration':
        if (stmt.kind !== 'const' && stmt.kind !== 'let') fail(span(stmt), `'${stmt.kind}' declarations are not part of the dialect`, "use 'const' (maps, programs, constants) or 'let' (globals)");
        for (const d of stmt.declarations) this.variable(stmt.kind, d);
        return;
      case 'ExpressionStatement': {
        const e = stmt.expression;
        if (e.type === 'CallExpression' && e.callee.type === 'Identifier' && this.imports.get(e.callee.name)?.kind === 'function' && (this.imports.get(e.callee.name) as { name: string }).name === 'license') {
          const arg = e.arguments[0];
          const v = arg && arg.type !== 'SpreadElement' ? this.constEval(arg) : undefined;
          if (!v || v.kind !== 'string') fail(span(e), 'license() takes a string literal', "write license('GPL')");
          if (this.license) fail(span(e), 'the license is declared twice', 'keep one license() call');
          this.license = v.value;
          return;
        }
        fail(span(stmt), 'statements at the top level are not part of the dialect', 'put code inside a program or a function; the top level only declares');
        return;
      }
      case 'TSEnumDeclaration': {
        const members = new Map<string, ConstValue>();
        let next = 0n;
        for (const m of stmt.body.members) {
          const key = m.id.type === 'Identifier' ? m.id.name : String((m.id as { value: unknown }).value);
          if (m.initializer) {
            const v = this.constEval(m.initializer);
            if (!v || v.kind !== 'int') fail(span(m), 'enum members must be integer constants', 'give each member an integer value');
            next = v.value;
          }
          members.set(key, { kind: 'int', value: next, type: NUM_LITERAL });
          next++;
        }
        this.declare(stmt.id.name, span(stmt.id));
        this.consts.set(stmt.id.name, { kind: 'object', members });
        return;
      }
      case 'EmptyStatement':
        return;
      default:
        fail(span(stmt), `${describe(stmt)} at the top level is not part of the dialect`, 'the top level declares imports, interfaces, maps, programs, functions, constants and globals');
    }
  }

  private variable(kind: 'const' | 'let', d: VariableDeclarator): void {
    if (d.id.type !== 'Identifier') fail(span(d.id), 'destructuring is not part of the dialect at the top level', 'declare one name per declaration');
    const name = d.id.name;
    const at = span(d.id);
    const annotation = d.id.typeAnnotation?.typeAnnotation;
    const init = d.init ? unwrap(d.init) : null;
    if (init?.type === 'NewExpression') {
      if (kind !== 'const') fail(span(d), 'maps are declared with const', `write 'export const ${name} = new ...'`);
      this.declare(name, at);
      this.maps.push(this.mapDecl(name, init, at));
      return;
    }
    if (init?.type === 'CallExpression' && init.callee.type === 'Identifier') {
      const meaning = this.imports.get(init.callee.name);
      if (meaning?.kind === 'declarator') {
        if (kind !== 'const') fail(span(d), 'programs are declared with const', `write 'export const ${name} = ${init.callee.name}(...)'`);
        this.declare(name, at);
        this.programs.push(this.programDecl(name, meaning.name, init, at));
        return;
      }
      if (meaning?.kind === 'function' && meaning.name === 'constant') {
        if (kind !== 'const') fail(span(d), 'constants are declared with const', `write 'export const ${name} = constant<u32>(0)'`);
        const targ = init.typeArguments?.params[0] ?? annotation;
        if (!targ) fail(span(init), 'constant() needs its type', `write constant<u32>(0)`);
        const type = this.resolveType(targ);
        const arg = init.arguments[0];
        const value = arg && arg.type !== 'SpreadElement' ? this.constEval(arg) : undefined;
        if (!value) fail(span(init), 'constant() takes a constant initial value', 'write a literal, e.g. constant<u32>(0)');
        this.declare(name, at);
        this.globals.push({ name, type, section: '.rodata', init: this.encode(type, value, span(arg!)), offset: 0, settable: true, at });
        return;
      }
    }
    if (kind === 'const' && !annotation) {
      if (!init) fail(at, `'${name}' needs a value`, 'initialise it');
      const v = this.constEval(init);
      if (!v) fail(span(init), `top-level const '${name}' must be a compile-time constant`, "use 'let' for a global variable, or constant<T>(v) for a value user space sets");
      this.declare(name, at);
      this.consts.set(name, v);
      return;
    }
    // A global variable: let (mutable, .data/.bss) or an annotated const table (.rodata).
    if (!annotation) fail(at, `global '${name}' needs a type annotation`, `write 'let ${name}: u64 = 0n'`);
    const type = this.resolveType(annotation);
    if (type.kind === 'ptr') fail(span(annotation), 'globals cannot hold pointers', 'store the address as a u64');
    let bytes: Uint8Array = new Uint8Array(sizeOf(type));
    if (init) {
      const v = this.constEval(init);
      if (!v) fail(span(init), `the initial value of global '${name}' must be a constant`, 'initialise globals with literals or zero(), and assign them in a program');
      bytes = this.encode(type, v, span(init));
    }
    const zero = bytes.every((b) => b === 0);
    this.declare(name, at);
    this.globals.push({ name, type, section: kind === 'const' ? '.rodata' : zero ? '.bss' : '.data', init: bytes, offset: 0, settable: false, at });
  }

  private mapDecl(name: string, init: NewExpression, at: Span): MapDecl {
    const callee = init.callee;
    const cls = callee.type === 'Identifier' ? this.imports.get(callee.name) : undefined;
    if (!cls || cls.kind !== 'map') fail(span(init.callee), `'new' is only for the map classes of tsbpf/lang`, 'declare a map, e.g. new HashMap<K, V>({ maxEntries: 1024 })');
    const info = MAP_CLASSES[cls.name]!;
    const targs = init.typeArguments?.params ?? [];
    const expect = cls.name === 'ArrayMap' || cls.name === 'PerCpuArrayMap' || cls.name === 'RingBuf' || cls.name === 'PerfEventArray' || cls.name === 'Queue' || cls.name === 'Stack' || cls.name === 'BloomFilter' ? 1 : info.keyed ? 2 : 0;
    if (targs.length !== expect) fail(span(init), `${cls.name} takes ${expect} type argument${expect === 1 ? '' : 's'}`, expect === 2 ? `write new ${cls.name}<KeyType, ValueType>({...})` : expect === 1 ? `write new ${cls.name}<ValueType>({...})` : `write new ${cls.name}({...})`);
    const types = targs.map((t) => this.resolveType(t));
    for (const [i, t] of types.entries()) {
      if (t.kind === 'void' || t.kind === 'string' || sizeOf(t) === 0) fail(span(targs[i]!), `${typeName(t)} cannot be stored in a map`, 'use an integer, a struct, a FixedArray or a CharArray');
    }
    const opts = init.arguments[0];
    const options = new Map<string, { value: ConstValue; at: Span }>();
    if (opts) {
      if (opts.type !== 'ObjectExpression') fail(span(opts), 'map options must be an object literal', '{ maxEntries: 1024 }');
      for (const p of (opts as ObjectExpression).properties) {
        if (p.type !== 'Property' || p.computed || p.key.type !== 'Identifier') fail(span(p), 'map options are plain properties', '{ maxEntries: 1024, flags: 0 }');
        const v = this.constEval(p.value);
        if (!v) fail(span(p.value), `map option '${p.key.name}' must be a constant`, 'write a literal or a top-level const');
        options.set(p.key.name, { value: v, at: span(p.value) });
      }
    }
    const num = (key: string, required: boolean, dflt: number): number => {
      const o = options.get(key);
      if (!o) {
        if (required) fail(opts ? span(opts) : span(init), `${cls.name} needs the option '${key}'`, `add ${key}: N to the options`);
        return dflt;
      }
      if (o.value.kind !== 'int' || o.value.value < 0n || o.value.value > 0xffffffffn) fail(o.at, `'${key}' must be an integer from 0 to 2^32-1`, `write ${key}: 1024`);
      options.delete(key);
      return Number(o.value.value);
    };
    let key: Type | undefined;
    let value: Type | undefined;
    let record: Type | undefined;
    let maxEntries = 0;
    let mapExtra = 0n;
    let keySize = 0;
    let valueSize = 0;
    switch (cls.name) {
      case 'ArrayMap':
      case 'PerCpuArrayMap':
        key = INT.u32;
        value = types[0]!;
        maxEntries = num('maxEntries', true, 0);
        break;
      case 'RingBuf': {
        record = types[0]!;
        const sizeAt = options.get('size')?.at ?? span(init);
        maxEntries = num('size', true, 0);
        if (maxEntries < 4096 || (maxEntries & (maxEntries - 1)) !== 0) fail(sizeAt, `a ring buffer's size must be a power of two and a multiple of the page size (4096), not ${maxEntries}`, 'use e.g. size: 1 << 20 (1 MiB)');
        break;
      }
      case 'PerfEventArray':
        record = types[0]!;
        keySize = 4;
        valueSize = 4;
        maxEntries = num('maxEntries', false, 0);
        break;
      case 'ProgArray':
        keySize = 4;
        valueSize = 4;
        maxEntries = num('maxEntries', true, 0);
        break;
      case 'StackTrace': {
        const depth = num('depth', false, 127);
        keySize = 4;
        valueSize = depth * 8;
        maxEntries = num('maxEntries', true, 0);
        break;
      }
      case 'Queue':
      case 'Stack':
        value = types[0]!;
        maxEntries = num('maxEntries', true, 0);
        break;
      case 'BloomFilter':
        value = types[0]!;
        maxEntries = num('maxEntries', true, 0);
        mapExtra = BigInt(num('hashes', false, 0));
        break;
      default:
        key = types[0]!;
        value = types[1]!;
        maxEntries = num('maxEntries', true, 0);
    }
    if (cls.name !== 'RingBuf' && cls.name !== 'PerfEventArray' && maxEntries === 0) fail(opts ? span(opts) : span(init), 'maxEntries must be at least 1', 'write maxEntries: 1024');
    let flags = num('flags', false, cls.name === 'LpmTrie' ? 1 : 0);
    const pin = options.get('pinning');
    let pinning: 'none' | 'by_name' = 'none';
    if (pin) {
      if (pin.value.kind !== 'string' || pin.value.value !== 'byName') fail(pin.at, "pinning must be 'byName'", "write pinning: 'byName'");
      pinning = 'by_name';
      options.delete('pinning');
    }
    for (const [k, o] of options) fail(o.at, `${cls.name} has no option '${k}'`, 'see the map class in tsbpf/lang for its options');
    if (cls.name === 'LpmTrie') {
      flags |= 1;
      if (key?.kind !== 'struct' || key.fields[0]?.name !== 'prefixlen' || key.fields[0].type !== INT.u32) fail(span(targs[0]!), "an LpmTrie key is a struct whose first field is 'prefixlen: u32'", 'declare interface Key { prefixlen: u32; data: FixedArray<u8, 4> }');
    }
    if (key) keySize = sizeOf(key);
    if (value) valueSize = sizeOf(value);
    return { name, className: cls.name, type: info.type, key, value, record, keySize, valueSize, maxEntries, flags, pinning, mapExtra, at };
  }

  private programDecl(name: string, declarator: string, call: CallExpression, at: Span): ProgramDecl {
    const args: string[] = [];
    let body: ArrowFunctionExpression | undefined;
    for (const a of call.arguments) {
      if (a.type === 'ArrowFunctionExpression') {
        body = a;
        continue;
      }
      if (a.type === 'SpreadElement') fail(span(a), 'spread arguments are not part of the dialect', 'pass the arguments one by one');
      const v = this.constEval(a);
      if (!v || v.kind !== 'string') fail(span(a), `${declarator}() takes string literals before the program body`, `e.g. ${declarator === 'tracepoint' ? "tracepoint('syscalls', 'sys_enter_execve', (ctx) => { ... })" : `${declarator}('name', (ctx) => { ... })`}`);
      args.push(v.value);
    }
    if (!body) fail(span(call), `${declarator}() needs the program body as an arrow function`, `write ${declarator}(..., (ctx) => { ...; return 0; })`);
    if (body.async) fail(span(body), 'a program body cannot be async', 'remove async: programs run to completion in the kernel');
    return { name, declarator, args, body, call, at };
  }

  /** Encodes a constant of `type` as little-endian bytes. */
  encode(type: Type, v: ConstValue, at: Span): Uint8Array {
    const out = new Uint8Array(sizeOf(type));
    this.encodeInto(out, 0, type, v, at);
    return out;
  }

  private encodeInto(out: Uint8Array, off: number, type: Type, v: ConstValue, at: Span): void {
    if (v.kind === 'zero') return;
    switch (type.kind) {
      case 'int':
      case 'bool': {
        const n = v.kind === 'int' ? v.value : v.kind === 'bool' ? (v.value ? 1n : 0n) : fail(at, `expected a number for ${typeName(type)}`, 'write an integer literal');
        const size = type.kind === 'int' ? type.size : 1;
        if (type.kind === 'int') checkRange(n, type, at);
        let u = BigInt.asUintN(size * 8, n);
        for (let i = 0; i < size; i++) {
          out[off + i] = Number(u & 0xffn);
          u >>= 8n;
        }
        return;
      }
      case 'chars': {
        if (v.kind !== 'string') fail(at, `expected a string for ${typeName(type)}`, "write a string literal, e.g. 'bash'");
        const bytes = new TextEncoder().encode(v.value);
        if (bytes.length > type.length) fail(at, `'${v.value}' is ${bytes.length} bytes, longer than ${typeName(type)}`, 'shorten it');
        out.set(bytes, off);
        return;
      }
      case 'array': {
        if (v.kind !== 'array') fail(at, `expected an array literal for ${typeName(type)}`, 'write [a, b, ...] or zero()');
        if (v.items.length > type.length) fail(at, `${v.items.length} elements do not fit ${typeName(type)}`, 'remove elements');
        const es = sizeOf(type.elem);
        v.items.forEach((item, i) => this.encodeInto(out, off + i * es, type.elem, item, at));
        return;
      }
      case 'struct': {
        if (v.kind !== 'object') fail(at, `expected an object literal for ${typeName(type)}`, 'write { field: value, ... } or zero()');
        for (const [k, item] of v.members) {
          const f = type.fields.find((x) => x.name === k);
          if (!f) fail(at, `${typeName(type)} has no field '${k}'`, `its fields are: ${type.fields.map((x) => x.name).join(', ')}`);
          this.encodeInto(out, off + f.offset, f.type, item, at);
        }
        return;
      }
      default:
        fail(at, `a ${typeName(type)} cannot be initialised here`, 'use zero()');
    }
  }

  /** Evaluates a constant expression, or returns undefined when it is not constant. */
  constEval(e: Expression): ConstValue | undefined {
    e = unwrap(e);
    switch (e.type) {
      case 'Literal': {
        const v = (e as { value: unknown }).value;
        if ('bigint' in e && typeof (e as { bigint?: string }).bigint === 'string') return { kind: 'int', value: BigInt((e as { bigint: string }).bigint), type: BIG_LITERAL };
        if (typeof v === 'number') {
          if (!Number.isInteger(v)) fail(span(e), `${v} is not an integer; the dialect has no floating point`, 'use integers (scale the value, e.g. milliseconds instead of seconds)');
          return { kind: 'int', value: BigInt(v), type: NUM_LITERAL };
        }
        if (typeof v === 'bigint') return { kind: 'int', value: v, type: BIG_LITERAL };
        if (typeof v === 'string') return { kind: 'string', value: v };
        if (typeof v === 'boolean') return { kind: 'bool', value: v };
        return undefined;
      }
      case 'TemplateLiteral':
        if (e.expressions.length === 0) return { kind: 'string', value: e.quasis.map((q) => q.value.cooked ?? q.value.raw).join('') };
        return undefined;
      case 'Identifier': {
        const c = this.consts.get(e.name);
        if (c) return c;
        return undefined;
      }
      case 'UnaryExpression': {
        const a = this.constEval(e.argument);
        if (!a) return undefined;
        if (e.operator === '!' ) return a.kind === 'bool' ? { kind: 'bool', value: !a.value } : a.kind === 'int' ? { kind: 'bool', value: a.value === 0n } : undefined;
        if (a.kind !== 'int') return undefined;
        if (e.operator === '-') return { ...a, value: -a.value };
        if (e.operator === '+') return a;
        if (e.operator === '~') return { ...a, value: ~a.value };
        return undefined;
      }
      case 'BinaryExpression': {
        const a = this.constEval(e.left as Expression);
        const b = this.constEval(e.right);
        if (!a || !b) return undefined;
        if (a.kind === 'string' && b.kind === 'string' && e.operator === '+') return { kind: 'string', value: a.value + b.value };
        if (a.kind !== 'int' || b.kind !== 'int') return undefined;
        const type = a.type.kind === 'literal' ? b.type : a.type;
        const r = foldBinary(e.operator, a.value, b.value, type);
        if (r === undefined) return undefined;
        if (typeof r === 'boolean') return { kind: 'bool', value: r };
        return { kind: 'int', value: r, type };
      }
      case 'MemberExpression': {
        if (e.computed) return undefined;
        const obj = unwrap(e.object);
        const key = (e.property as { name: string }).name;
        if (obj.type === 'Identifier') {
          const imp = this.imports.get(obj.name);
          if (imp?.kind === 'constants') {
            const v = CONSTANT_OBJECTS[imp.name]![key];
            if (v === undefined) fail(span(e.property), `${imp.name} has no member '${key}'`, `its members are: ${Object.keys(CONSTANT_OBJECTS[imp.name]!).join(', ')}`);
            return { kind: 'int', value: BigInt(v), type: NUM_LITERAL };
          }
        }
        const o = this.constEval(obj);
        if (o?.kind === 'object') return o.members.get(key);
        return undefined;
      }
      case 'ObjectExpression': {
        const members = new Map<string, ConstValue>();
        for (const p of e.properties) {
          if (p.type !== 'Property' || p.computed || p.kind !== 'init' || p.method) return undefined;
          const k = p.key.type === 'Identifier' ? p.key.name : p.key.type === 'Literal' ? String((p.key as { value: unknown }).value) : undefined;
          if (k === undefined) return undefined;
          const v = this.constEval(p.value);
          if (!v) return undefined;
          members.set(k, v);
        }
        return { kind: 'object', members };
      }
      case 'ArrayExpression': {
        const items: ConstValue[] = [];
        for (const el of e.elements) {
          if (!el || el.type === 'SpreadElement') return undefined;
          const v = this.constEval(el);
          if (!v) return undefined;
          items.push(v);
        }
        return { kind: 'array', items };
      }
      case 'CallExpression': {
        if (e.callee.type !== 'Identifier') return undefined;
        const imp = this.imports.get(e.callee.name);
        if (imp?.kind === 'function' && imp.name === 'zero' && e.arguments.length === 0) return { kind: 'zero' };
        if (imp?.kind === 'int' && e.arguments.length === 1 && e.arguments[0]!.type !== 'SpreadElement') {
          const a = this.constEval(e.arguments[0] as Expression);
          if (a?.kind !== 'int') return undefined;
          const t = INT[imp.name];
          return { kind: 'int', value: t.signed ? BigInt.asIntN(t.size * 8, a.value) : BigInt.asUintN(t.size * 8, a.value), type: t };
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Resolves a type annotation to a dialect type. */
  resolveType(node: TSType): Type {
    switch (node.type) {
      case 'TSBooleanKeyword':
        return BOOL;
      case 'TSNumberKeyword':
        fail(span(node), "'number' has no fixed width in the kernel", 'use u8, u16, u32, i8, i16 or i32 from tsbpf/lang');
      case 'TSBigIntKeyword':
        fail(span(node), "'bigint' has no fixed width in the kernel", 'use u64 or i64 from tsbpf/lang');
      case 'TSStringKeyword':
        fail(span(node), "'string' has no fixed size in the kernel", 'use CharArray<N> (or Comm for 16 bytes) from tsbpf/lang');
      case 'TSVoidKeyword':
        return { kind: 'void' };
      case 'TSParenthesizedType' as string:
        return this.resolveType((node as unknown as { typeAnnotation: TSType }).typeAnnotation);
      case 'TSTypeLiteral': {
        const members = node.members.map((m) => this.member(m, '(anonymous)'));
        return layoutStruct('(anonymous)', members, span(node));
      }
      case 'TSTypeReference': {
        if (node.typeName.type !== 'Identifier') fail(span(node), 'qualified type names are not part of the dialect', 'import the type by name from tsbpf/lang');
        const name = node.typeName.name;
        const args = node.typeArguments?.params ?? [];
        const local = this.localType(name, span(node));
        if (local) {
          if (args.length > 0) fail(span(node), `${name} is not generic`, `write ${name}`);
          return local;
        }
        const imp = this.imports.get(name);
        if (!imp) {
          if (['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'bool', 'FixedArray', 'CharArray', 'Comm', 'Ptr'].includes(name)) {
            fail(span(node), `'${name}' is not imported`, `add it to the import from tsbpf/lang: import { type ${name} } from 'tsbpf/lang'`);
          }
          fail(span(node), `unknown type '${name}'`, 'declare it as an interface in this file, or import it from tsbpf/lang');
        }
        return this.langType(imp, name, args, node);
      }
      case 'TSArrayType':
        fail(span(node), 'arrays without a length are not part of the dialect', 'use FixedArray<T, N>');
      case 'TSUnionType':
        fail(span(node), 'union types are not part of the dialect', 'use one type (T | undefined comes from map lookups and needs no annotation)');
      default:
        fail(span(node), `this type (${node.type}) is not part of the dialect`, 'use u8..u64, i8..i64, bool, interfaces, FixedArray, CharArray or Ptr');
    }
  }

  private langType(imp: LangExport, name: string, args: TSType[], node: TSType): Type {
    const at = span(node);
    const n = (i: number): number => {
      const a = args[i];
      if (!a || a.type !== 'TSLiteralType' || typeof (a.literal as { value: unknown }).value !== 'number') fail(a ? span(a) : at, `${name} needs a number literal length`, `e.g. ${name === 'CharArray' ? 'CharArray<16>' : 'FixedArray<u8, 16>'}`);
      const v = (a.literal as { value: number }).value;
      if (!Number.isInteger(v) || v <= 0 || v > 1 << 20) fail(span(a), `length ${v} is not a positive integer`, 'use a length from 1 up');
      return v;
    };
    switch (imp.kind) {
      case 'int':
        return INT[imp.name];
      case 'kernel': {
        const s = this.kernel.structByName(imp.cName, at);
        if (!s) fail(at, `the kernel has no struct ${imp.cName}`, 'check the name against the kernel headers (btf dump of /sys/kernel/btf/vmlinux)');
        return s;
      }
      case 'type':
        switch (imp.name) {
          case 'bool':
            return BOOL;
          case 'Comm':
            return { kind: 'chars', length: 16 };
          case 'CharArray':
            return { kind: 'chars', length: n(0) };
          case 'FixedArray': {
            if (!args[0]) fail(at, 'FixedArray needs an element type and a length', 'e.g. FixedArray<u64, 16>');
            const elem = this.resolveType(args[0]);
            if (elem.kind === 'void') fail(span(args[0]), 'an array of void is not a type', 'use an integer or struct element type');
            return { kind: 'array', elem, length: n(1) };
          }
          case 'Ptr': {
            if (!args[0]) fail(at, 'Ptr needs the type it points to', 'e.g. Ptr<TaskStruct>');
            const a0 = args[0];
            const pointee = a0.type === 'TSUnknownKeyword' || a0.type === 'TSVoidKeyword' ? ({ kind: 'void' } as Type) : this.resolveType(a0);
            return { kind: 'ptr', pointee, space: 'kernel' };
          }
          case 'Address':
            return { kind: 'ptr', pointee: { kind: 'void' }, space: 'any' };
          case 'SpinLock':
            return { kind: 'opaque', name: 'SpinLock', size: 4, align: 4, cName: 'bpf_spin_lock' };
          default:
            fail(at, `${imp.name} is not a type a value can have`, 'use u8..u64, i8..i64, bool, interfaces, FixedArray, CharArray or Ptr');
        }
      case 'constants':
        if (args.length > 0) fail(at, `${name} is not generic`, `write ${name}`);
        return constantsType(name);
      default:
        fail(at, `'${name}' is not a type`, 'use u8..u64, i8..i64, bool, interfaces, FixedArray, CharArray or Ptr');
    }
  }

  /** A local interface or alias by name (resolved once). */
  localType(name: string, at: Span): Type | undefined {
    const cached = this.structs.get(name);
    if (cached) return cached;
    const iface = this.interfaces.get(name);
    const alias = this.aliases.get(name);
    if (!iface && !alias) return undefined;
    if (this.resolving.has(name)) fail(at, `'${name}' contains itself`, 'a struct cannot contain itself; use Ptr<T> or a u64 id');
    this.resolving.add(name);
    try {
      if (alias) return this.resolveType(alias.typeAnnotation);
      const members: Array<{ name: string; type: Type }> = [];
      for (const h of iface!.extends) {
        const base = h.expression.type === 'Identifier' ? this.localType(h.expression.name, span(h)) : undefined;
        if (!base || base.kind !== 'struct') fail(span(h), 'an interface can only extend another interface of this file', 'copy the fields in');
        members.push(...base.fields.map((f) => ({ name: f.name, type: f.type })));
      }
      for (const m of iface!.body.body) members.push(this.member(m, name));
      if (members.length === 0) fail(span(iface!), `interface '${name}' has no fields`, 'give it at least one field');
      const s = layoutStruct(name, members, span(iface!.id));
      this.structs.set(name, s);
      return s;
    } finally {
      this.resolving.delete(name);
    }
  }

  private member(m: TSInterfaceDeclaration['body']['body'][number], owner: string): { name: string; type: Type } {
    if (m.type !== 'TSPropertySignature' || m.computed || (m.key.type !== 'Identifier' && m.key.type !== 'Literal')) {
      fail(span(m), `only plain fields are part of a struct (in '${owner}')`, 'declare fields as name: type');
    }
    if (m.optional) fail(span(m), 'optional fields are not part of the dialect', `a struct's fields are always present; remove the '?'`);
    const key = m.key.type === 'Identifier' ? m.key.name : String((m.key as { value: unknown }).value);
    if (!m.typeAnnotation) fail(span(m), `field '${key}' needs a type`, `write ${key}: u32`);
    const type = this.resolveType(m.typeAnnotation.typeAnnotation);
    if (type.kind === 'void' || type.kind === 'string') fail(span(m.typeAnnotation), `a field cannot be ${typeName(type)}`, 'use a sized type');
    return { name: key, type };
  }

  /** Lays out the global data sections; returns their sizes. */
  layoutGlobals(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const g of this.globals) {
      const a = Math.max(1, Math.min(8, alignOfType(g.type)));
      const cur = sizes.get(g.section) ?? 0;
      g.offset = alignUp(cur, a);
      sizes.set(g.section, g.offset + sizeOf(g.type));
    }
    return sizes;
  }
}

function alignOfType(t: Type): number {
  switch (t.kind) {
    case 'int':
      return t.size;
    case 'struct':
      return t.align;
    case 'array':
      return alignOfType(t.elem);
    case 'ptr':
      return 8;
    default:
      return 1;
  }
}

/** Strips parentheses, `as`, `satisfies` and `!` (type-level only). */
export function unwrap(e: Expression): Expression {
  for (;;) {
    if (e.type === 'ParenthesizedExpression' || e.type === 'TSSatisfiesExpression') e = e.expression;
    else if (e.type === 'TSAsExpression' && e.typeAnnotation.type === 'TSTypeReference' && e.typeAnnotation.typeName.type === 'Identifier' && e.typeAnnotation.typeName.name === 'const') e = e.expression;
    else return e;
  }
}

/** Checks that a constant fits an integer type. */
export function checkRange(v: bigint, t: IntType, at: Span): void {
  const bits = BigInt(t.size * 8);
  const min = t.signed ? -(1n << (bits - 1n)) : 0n;
  const max = t.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (v < min || v > max) fail(at, `${v} does not fit in ${t.name}`, `use a value from ${t.signed ? min : 0} to ${max}, or convert explicitly with ${t.name}(x)`);
}

/** Folds a binary operator on constants (mathematically; wrapped when given a type). */
export function foldBinary(op: string, a: bigint, b: bigint, type: Type): bigint | boolean | undefined {
  const signed = type.kind === 'int' ? type.signed : true;
  const bits = type.kind === 'int' ? type.size * 8 : type.kind === 'literal' ? 0 : 64;
  const wrap = (v: bigint): bigint => (bits === 0 ? v : signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
  switch (op) {
    case '+': return wrap(a + b);
    case '-': return wrap(a - b);
    case '*': return wrap(a * b);
    case '/': return b === 0n ? 0n : wrap(a / b);
    case '%': return b === 0n ? a : wrap(a % b);
    case '<<': return b < 0n || b > 63n ? undefined : wrap(a << b);
    case '>>': return b < 0n || b > 63n ? undefined : wrap(a >> b);
    case '>>>': return b < 0n || b > 63n ? undefined : bits === 0 ? BigInt.asUintN(64, a) >> b : wrap(BigInt.asUintN(bits, a) >> b);
    case '&': return wrap(a & b);
    case '|': return wrap(a | b);
    case '^': return wrap(a ^ b);
    case '==': case '===': return a === b;
    case '!=': case '!==': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    default: return undefined;
  }
}

export { isAggregate, STRING };
