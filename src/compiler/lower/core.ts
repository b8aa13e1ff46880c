/**
 * The lowering context of one function: the IR being built, the current block, scopes of local
 * bindings, flow facts, loop targets, and the memory primitives every construct uses (loads and
 * stores of places in each space, addresses, copies, probe reads with CO-RE).
 */
import type { CondName } from '../../asm/op-names.js';
import { CoreReloKind } from '../../btf/ext.js';
import { FuncId } from '../../uapi/enums.js';
import type { BtfGen } from '../btf-gen.js';
import { checkContextAccess, writesContext } from '../context-access.js';
import { fail, type Span } from '../diagnostics.js';
import { defsOf, imm, IrFunction, isReg, reg, type Base, type Block, type CoreRef, type Inst, type Size, type Slot, type Terminator, type Value } from '../ir.js';
import type { GlobalVar, MapDecl, Module } from '../module.js';
import type { ProgramInfo } from '../programs.js';
import { alignOf, INT, is64, isAggregate, sizeOf, typeName, type StructType, type Type } from '../types.js';
import { Flow, type HeldLock } from './flow.js';
import type { Binding, NullableBinding, NullRef, Place, Space, Val } from './values.js';

/** Whatever the lowering of one function needs from the whole compilation. */
export interface CompileUnit {
  module: Module;
  btf: BtfGen;
  /** Functions called (by name), to compile as subprograms. */
  calledFunctions: Set<string>;
  /** Maps a function uses. */
  usedMaps: Set<string>;
  /** String literals placed in .rodata: text -> offset. */
  strings: Map<string, number>;
  /** Adds a string to .rodata, returning its global variable. */
  rodataString(text: string): GlobalVar;
  /** Signatures of top-level functions, resolved once. */
  sigs: Map<string, import('./functions.js').FunctionSig>;
  /** BPF-to-BPF calls made, for recursion checks. */
  callEdges: Array<{ from: string; to: string; at: Span }>;
}

/** Loop targets for break/continue, with the flows that reach them. */
export interface LoopFrame {
  brk: Block;
  cont: Block;
  breakFlows: Array<Flow | undefined>;
  contFlows: Array<Flow | undefined>;
  label?: string;
}

/** How a `return` is lowered: from a program or subprogram, or from an inlined body. */
export interface ReturnTarget {
  kind: 'exit' | 'inline' | 'loop';
  /** loop: the boundedLoop body's loop (return true breaks, return continues). */
  frame?: LoopFrame;
  /** inline: the register receiving the value and the block to continue at. */
  reg?: number;
  join?: Block;
  joinFlows?: Array<Flow | undefined>;
  type: Type;
}

const SIZES: ReadonlySet<number> = new Set([1, 2, 4, 8]);

/** Per-function lowering state and primitives. */
export class Lowerer {
  readonly fn: IrFunction;
  cur: Block | undefined;
  flow: Flow = new Flow();
  private scopes: Array<Map<string, Binding>> = [new Map()];
  private nextBinding = 1;
  readonly loops: LoopFrame[] = [];
  ret: ReturnTarget;
  /** The source offset instructions are attributed to. */
  at = 0;
  /** The context register's copy (programs) for helpers that take ctx. */
  ctxReg: number | undefined;
  /** Reservations made in this function, to check at every return. */
  readonly reservations: NullableBinding[] = [];
  depth = 0;
  /** Lowering a subprogram (not a program's entry). */
  isSubprogram = false;
  /** Functions being inlined, innermost last (recursion and depth checks). */
  inlineStack: string[] = [];

  constructor(
    readonly unit: CompileUnit,
    name: string,
    at: number,
    readonly program: ProgramInfo,
    retType: Type,
  ) {
    this.fn = new IrFunction(name, at);
    this.cur = this.fn.entry;
    this.ret = { kind: 'exit', type: retType };
  }

  get module(): Module {
    return this.unit.module;
  }

  // ---- diagnostics -------------------------------------------------------------------------

  /** Throws a compile error at `at`. */
  fail(at: Span | undefined, detail: string, hint: string): never {
    return fail(at, detail, hint);
  }

  // ---- instructions and blocks --------------------------------------------------------------

  emit(i: Inst): void {
    if (!this.cur) return; // unreachable code: dropped
    i.at ??= this.at;
    this.cur.insts.push(i);
    if (this.addresses.size > 0) for (const d of defsOf(i)) this.forgetAddressesOf(d);
  }

  /**
   * Addresses computed in the current block, by base and offset, so that `e.comm` used twice
   * is computed once (as clang's CSE does). Valid only within one block, and only while the
   * base register keeps its value.
   */
  private readonly addresses = new Map<string, { reg: number; base: number }>();
  private addressesBlock: Block | undefined;

  private forgetAddressesOf(reg: number): void {
    for (const [k, v] of this.addresses) if (v.base === reg || v.reg === reg) this.addresses.delete(k);
  }

  newReg(): number {
    return this.fn.newReg();
  }

  newBlock(): Block {
    const b = this.fn.newBlock();
    b.depth = this.depth;
    return b;
  }

  terminate(t: Terminator): void {
    if (!this.cur) return;
    t.at ??= this.at;
    this.cur.term = t;
    this.cur = undefined;
  }

  jump(target: Block): void {
    this.terminate({ op: 'jmp', target });
  }

  /**
   * Continues in block `b` (falling through from the current block, if any) with the flow
   * facts of the paths that reach it; `flow` undefined means none does, so what follows is
   * unreachable and dropped.
   */
  enter(b: Block, flow: Flow | undefined): void {
    if (this.cur) this.jump(b);
    if (flow === undefined) {
      this.cur = undefined;
      return;
    }
    this.cur = b;
    this.flow = flow;
  }

  branch(cond: CondName, a: Value, b: Value, w: 32 | 64, t: Block, f: Block): void {
    let ra = a;
    let rb = b;
    if (!isReg(ra)) {
      if (!isReg(rb)) {
        const r = this.newReg();
        this.emit({ op: 'mov', dst: r, src: ra, w: 64 });
        ra = reg(r);
      } else {
        [ra, rb] = [rb, ra];
        cond = mirror(cond);
      }
    }
    if (!isReg(rb) && (rb.imm < -0x80000000n || rb.imm > 0x7fffffffn) && w === 64) rb = reg(this.toReg(rb, true));
    this.terminate({ op: 'br', cond, a: (ra as { reg: number }).reg, b: rb, w, t, f });
  }

  // ---- scopes -------------------------------------------------------------------------------

  pushScope(): void {
    this.scopes.push(new Map());
  }

  popScope(): void {
    this.scopes.pop();
  }

  bind<B extends Binding = Binding>(b: DistributiveOmit<B, 'id'>, at: Span): B {
    const scope = this.scopes[this.scopes.length - 1]!;
    if (scope.has(b.name)) this.fail(at, `'${b.name}' is declared twice in this scope`, 'rename one of them');
    const full = { ...b, id: this.nextBinding++ } as unknown as B;
    scope.set(b.name, full);
    return full;
  }

  /**
   * Binds `name` to the same maybe-missing value as `b` (`const w = v` of a const `v`): one
   * binding id, so a check of either narrows both and a reservation is tracked once.
   */
  alias(b: NullableBinding, name: string, at: Span): void {
    const scope = this.scopes[this.scopes.length - 1]!;
    if (scope.has(name)) this.fail(at, `'${name}' is declared twice in this scope`, 'rename one of them');
    scope.set(name, { ...b, name });
  }

  lookup(name: string): Binding | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const b = this.scopes[i]!.get(name);
      if (b) return b;
    }
    return undefined;
  }

  /** Names visible in local scopes (for closures-capture checks). */
  isLocal(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  // ---- loops --------------------------------------------------------------------------------

  pushLoop(brk: Block, cont: Block, label?: string): LoopFrame {
    const f: LoopFrame = { brk, cont, breakFlows: [], contFlows: [], ...(label ? { label } : {}) };
    this.loops.push(f);
    return f;
  }

  popLoop(): void {
    this.loops.pop();
  }

  // ---- values -------------------------------------------------------------------------------

  /** A value in a register (moving an immediate into a new one). */
  toReg(v: Value, wide = true): number {
    if (isReg(v)) return v.reg;
    const r = this.newReg();
    this.emit({ op: 'mov', dst: r, src: v, w: wide ? 64 : 32 });
    return r;
  }

  /** A fresh register holding a copy of `v` (for two-address operations). */
  copy(v: Value, w: 32 | 64): number {
    const r = this.newReg();
    this.emit({ op: 'mov', dst: r, src: v, w: isReg(v) ? 64 : w });
    return r;
  }

  slot(size: number, align: number, name: string): Slot {
    return this.fn.newSlot(Math.max(1, size), align, name, this.at);
  }

  // ---- memory -------------------------------------------------------------------------------

  /** A place for a new zeroed stack object of type `t`. */
  stackObject(t: Type, name: string, zeroed = true): Place {
    const size = sizeOf(t);
    if (size > 512) this.fail({ start: this.at, end: this.at }, `a ${typeName(t)} (${size} bytes) does not fit the 512-byte stack`, 'keep it in a map value (e.g. a PerCpuArrayMap with one entry) and look it up');
    const s = this.slot(Math.ceil(size / 8) * 8, 8, name);
    const place: Place = { base: { slot: s }, off: 0, space: 'stack', align: 8 };
    if (zeroed) this.memzero(place, Math.ceil(size / 8) * 8);
    return place;
  }

  /** Whether a place can be read with loads (not probe reads). */
  static direct(space: Space): boolean {
    return space !== 'kernel' && space !== 'user';
  }

  /** The place `off` bytes into `p`. */
  static offset(p: Place, off: number, core?: Place['core']): Place {
    const out: Place = { base: p.base, off: p.off + off, space: p.space, align: gcdAlign(p.align, off) };
    if (core) out.core = core;
    return out;
  }

  private coreRef(p: Place): CoreRef | undefined {
    if (!p.core) return undefined;
    const typeId = this.unit.btf.kernelStruct(p.core.root).id;
    return { typeId, path: p.core.access, kind: CoreReloKind.FIELD_BYTE_OFFSET };
  }

  /** Base register of a place whose base is a register, or an address computed for it. */
  private baseOf(p: Place): Base {
    return p.base;
  }

  /**
   * Resolves a place with a run-time index: branches to `bad` when the index is out of range
   * (unsigned compare, so negative indices are too), else continues in `ok` with the element's
   * address in a register.
   */
  private resolveDynamic(p: Place, ok: Block, bad: Block): Place {
    const d = p.dynamic!;
    const idx = d.index;
    const w = is64(idx.type) ? 64 : 32;
    this.branch('jge', idx.v, imm(d.length), w, bad, ok);
    this.enter(ok, this.flow);
    const off = this.newReg();
    if (w === 32) this.emit({ op: 'zext', dst: off, src: this.toReg(idx.v) });
    else this.emit({ op: 'mov', dst: off, src: idx.v, w: 64 });
    if (d.size > 1) this.emit({ op: 'alu', alu: 'mul', dst: off, b: imm(d.size), w: 64 });
    const base: Place = { base: p.base, off: p.off, space: p.space, align: p.align };
    const a = this.copy(reg(this.address(base)), 64);
    this.emit({ op: 'alu', alu: 'add', dst: a, b: reg(off), w: 64 });
    const out: Place = { base: { reg: a }, off: 0, space: p.space, align: gcdAlign(p.align, d.size) };
    if (p.shared) out.shared = true;
    return out;
  }

  /** Runs `body` on the place, skipping it when a run-time index is out of range. */
  withPlace(p: Place, body: (q: Place) => void): void {
    if (!p.dynamic) {
      body(p);
      return;
    }
    const ok = this.newBlock();
    const join = this.newBlock();
    const flow = this.flow;
    body(this.resolveDynamic(p, ok, join));
    this.enter(join, flow);
  }

  /** Reads a scalar of type `t` from `p` (0 when a run-time index is out of range). */
  load(p: Place, t: Type, at: Span | undefined): number {
    if (p.dynamic) {
      const ok = this.newBlock();
      const bad = this.newBlock();
      const join = this.newBlock();
      const r = this.newReg();
      const flow = this.flow;
      const v = this.load(this.resolveDynamic(p, ok, bad), t, at);
      this.emit({ op: 'mov', dst: r, src: reg(v), w: 64 });
      this.jump(join);
      this.enter(bad, flow);
      this.emit({ op: 'mov', dst: r, src: imm(0), w: 64 });
      this.enter(join, flow);
      return r;
    }
    const size = sizeOf(t);
    if (!SIZES.has(size)) this.fail(at, `cannot load a ${typeName(t)} as one value`, 'read its fields');
    const dst = this.newReg();
    if (!Lowerer.direct(p.space)) {
      // Probe read into a stack temporary, then load it.
      const tmp = this.slot(8, 8, 'probe');
      this.probeRead(p.space === 'user' ? 'user' : 'kernel', { base: { slot: tmp }, off: 0, space: 'stack', align: 8 }, p, size, at);
      this.emit({ op: 'ld', dst, base: { slot: tmp }, off: 0, size: size as Size });
    } else {
      this.contextAccess(p, 0, size, false, at);
      const core = p.space === 'btf' ? this.coreRef(p) : undefined;
      const i: Inst = { op: 'ld', dst, base: this.baseOf(p), off: p.off, size: size as Size };
      if (core) i.core = core;
      this.emit(i);
    }
    if (t.kind === 'int' && t.signed && t.size < 4) {
      const sh = 32 - t.size * 8;
      this.emit({ op: 'alu', alu: 'lsh', dst, b: imm(sh), w: 32 });
      this.emit({ op: 'alu', alu: 'arsh', dst, b: imm(sh), w: 32 });
    }
    return dst;
  }

  /** Checks that a place may be written. */
  writable(p: Place, at: Span | undefined): void {
    switch (p.space) {
      case 'kernel':
      case 'user':
      case 'btf':
        this.fail(at, 'kernel memory is read-only for a program', 'copy the value into a local, a map value or a ring buffer record first');
      case 'rodata':
        this.fail(at, 'this is a constant (.rodata): it is read-only in the kernel', 'declare a mutable global with let, or set the constant from user space before loading');
      case 'ctx':
        if (!writesContext(this.program.contextAccess)) this.fail(at, `the context of ${this.program.declarator} programs is read-only`, 'copy the value into a local first');
        return;
      default:
        return;
    }
  }

  /**
   * Checks a `size`-byte load or store at `off` bytes into a context place against the program
   * type's context rules (context-access.ts): the verifier refuses the others with "invalid
   * bpf_context access".
   */
  contextAccess(p: Place, off: number, size: number, write: boolean, at: Span | undefined): void {
    if (p.space !== 'ctx' || this.program.context.kind !== 'struct') return;
    const refused = checkContextAccess(this.program.contextAccess, this.program.context.struct, p.off + off, size, write);
    if (refused) this.fail(at, refused.message, refused.hint);
  }

  /** Writes a scalar to `p` (dropped when a run-time index is out of range). */
  store(p: Place, v: Value, size: number, at: Span | undefined): void {
    if (p.dynamic) {
      this.withPlace(p, (q) => this.store(q, v, size, at));
      return;
    }
    this.writable(p, at);
    if (!SIZES.has(size)) this.fail(at, 'cannot store this value in one instruction', 'assign its fields');
    this.contextAccess(p, 0, size, true, at);
    let src = v;
    if (!isReg(src) && size === 8 && (src.imm < -0x80000000n || src.imm > 0x7fffffffn)) src = reg(this.toReg(src));
    this.emit({ op: 'st', base: this.baseOf(p), off: p.off, src, size: size as Size });
  }

  /** Zeroes `size` bytes at `p` (a writable direct place). */
  memzero(p: Place, size: number, at?: Span): void {
    let off = 0;
    while (off < size) {
      const chunk = largestChunk(size - off, gcdAlign(p.align, off));
      this.contextAccess(p, off, chunk, true, at);
      this.emit({ op: 'st', base: p.base, off: p.off + off, src: imm(0), size: chunk });
      off += chunk;
    }
  }

  /**
   * Checks that a whole-value copy of a `type` between `dst` and `src` touches no spin lock in a
   * map value or global: the verifier refuses loads and stores that overlap a bpf_spin_lock
   * ("bpf_spin_lock cannot be accessed directly by load/store").
   */
  copyable(type: Type, dst: Place | undefined, src: Place | undefined, at: Span | undefined): void {
    if (!containsSpinLock(type)) return;
    const locked = (p: Place | undefined): boolean => p !== undefined && (p.space === 'map' || p.space === 'global');
    if (locked(dst)) this.fail(at, `writing a whole ${typeName(type)} into a map value would overwrite its SpinLock, which the verifier forbids (bpf_spin_lock cannot be accessed directly by load/store)`, 'set the other fields one by one (under bpf.spinLock if they must change together)');
    if (locked(src)) this.fail(at, `copying a whole ${typeName(type)} out of a map value would read its SpinLock, which the verifier forbids (bpf_spin_lock cannot be accessed directly by load/store)`, 'copy the other fields one by one (under bpf.spinLock if they must be read together)');
  }

  /** Checks that map memory handed to a helper (a key, value or record) holds no spin lock. */
  helperMemory(type: Type, space: Space, what: string, at: Span | undefined): void {
    if (!containsSpinLock(type) || (space !== 'map' && space !== 'global')) return;
    this.fail(at, `${what} is a map value holding a SpinLock, which the verifier does not let helpers read (bpf_spin_lock cannot be accessed directly by load/store)`, `build the value on the stack (const x: ${typeName(type)} = zero(); then set its fields) and pass that`);
  }

  /** Copies `size` bytes from `src` to `dst` (probe reads for kernel and user sources). */
  memcopy(dst: Place, src: Place, size: number, at: Span | undefined): void {
    this.writable(dst, at);
    if (size > 4096) this.fail(at, `copying ${size} bytes inline is too large`, 'copy the fields you need');
    if (!Lowerer.direct(src.space)) {
      this.probeRead(src.space === 'user' ? 'user' : 'kernel', dst, src, size, at);
      return;
    }
    let off = 0;
    const align = Math.min(dst.align, src.align);
    while (off < size) {
      const chunk = largestChunk(size - off, gcdAlign(align, off));
      this.contextAccess(src, off, chunk, false, at);
      this.contextAccess(dst, off, chunk, true, at);
      const r = this.newReg();
      const core = src.space === 'btf' && off === 0 ? this.coreRef(src) : undefined;
      const ld: Inst = { op: 'ld', dst: r, base: src.base, off: src.off + off, size: chunk };
      if (core) ld.core = core;
      this.emit(ld);
      this.emit({ op: 'st', base: dst.base, off: dst.off + off, src: reg(r), size: chunk });
      off += chunk;
    }
  }

  /** The address of a place, in a register (kernel places: with their CO-RE relocation). */
  address(p: Place): number {
    if (p.dynamic) this.fail(undefined, 'the address of an element at a run-time index cannot be taken', 'use a constant index');
    if (this.addressesBlock !== this.cur) {
      this.addresses.clear();
      this.addressesBlock = this.cur;
    }
    if ('slot' in p.base) {
      const key = `slot${p.base.slot.id}+${p.off}`;
      const known = this.addresses.get(key);
      if (known) return known.reg;
      const r = this.newReg();
      this.emit({ op: 'frame', dst: r, slot: p.base.slot, off: p.off });
      this.addresses.set(key, { reg: r, base: -1 });
      return r;
    }
    const core = this.coreRef(p);
    if (p.off === 0 && !core) return p.base.reg;
    const key = `r${p.base.reg}+${p.off}${core ? `:${p.core!.root.cName}:${p.core!.access.map((s) => ('member' in s ? s.member : s.index)).join('.')}` : ''}`;
    const known = this.addresses.get(key);
    if (known) return known.reg;
    const base = p.base.reg;
    const r = this.copy(reg(base), 64);
    if (core) this.emit({ op: 'coreadd', dst: r, core, local: p.off });
    else this.emit({ op: 'alu', alu: 'add', dst: r, b: imm(p.off), w: 64 });
    this.addresses.set(key, { reg: r, base });
    return r;
  }

  /** bpf_probe_read_{kernel,user}(dst, size, src). */
  probeRead(which: 'kernel' | 'user', dst: Place, src: Place, size: number, at: Span | undefined): void {
    const id = which === 'user' ? FuncId.probe_read_user : FuncId.probe_read_kernel;
    this.checkHelper(id, which === 'user' ? 'reading user memory' : 'reading kernel memory', at);
    const srcAddr = this.address(src);
    const dstAddr = this.address(dst);
    this.call(id, [reg(dstAddr), imm(size), reg(srcAddr)]);
  }

  /** Calls helper `id` with arguments; returns the register holding r0. */
  call(id: number, args: Value[]): number {
    if (id !== FuncId.spin_lock && id !== FuncId.spin_unlock) this.checkUnlocked(`a call of bpf_${helperName(id)}`, { start: this.at, end: this.at });
    const regs = args.map((a) => a);
    regs.forEach((a, i) => this.emit({ op: 'mov', dst: i + 1, src: a, w: 64 }));
    this.emit({ op: 'call', helper: id, nargs: args.length });
    const r = this.newReg();
    this.emit({ op: 'mov', dst: r, src: reg(0), w: 64 });
    return r;
  }

  /**
   * Checks that the program type may call helper `id` (and that the license allows it), and
   * that no spin lock is held (bpf.spinLock and bpf.spinUnlock check their own rules).
   */
  checkHelper(id: number, what: string, at: Span | undefined): void {
    this.program.checkHelper(id, what, at, this.module.license);
    if (id !== FuncId.spin_lock && id !== FuncId.spin_unlock) this.checkUnlocked(`${what} calls bpf_${helperName(id)}`, at);
  }

  // ---- spin locks ---------------------------------------------------------------------------

  /** 1-based line of a source offset. */
  lineOf(offset: number): number {
    return this.module.sink.source.position(offset).line;
  }

  /** Where the held lock was taken, for messages: "'v.lock' (taken on line 9)". */
  private lockDesc(l: HeldLock): string {
    return `'${l.name}' (taken on line ${this.lineOf(l.at)})`;
  }

  /**
   * Fails when a call is made with a spin lock held on this path (or on some of the paths that
   * reach it): the verifier allows no helper, kfunc or BPF-to-BPF call between bpf_spin_lock and
   * bpf_spin_unlock ("function calls are not allowed while holding a lock").
   */
  checkUnlocked(what: string, at: Span | undefined, hint?: (held: HeldLock) => string): void {
    const l = this.flow.lock;
    if (!l || !this.cur) return;
    if (l.mixed) this.fail(at, `${what} where the spin lock ${this.lockDesc(l)} is held on some paths and not on others`, 'take and release the lock on the same path (lock, change the fields, unlock) so every path reaches here with it released');
    this.fail(at, `${what} while the spin lock ${this.lockDesc(l)} is held; the verifier allows no function calls while holding a lock`, hint?.(l) ?? `call bpf.spinUnlock(${l.name}) first: between spinLock and spinUnlock only read and write the value's fields`);
  }

  /**
   * Fails when the program or function would end here with a spin lock held: the verifier
   * requires every path to release it before exiting ("bpf_spin_unlock is missing").
   */
  checkLockReleased(at: Span | undefined, what: string): void {
    const l = this.flow.lock;
    if (!l || !this.cur) return;
    const held = l.mixed ? 'may still be held (it is released on some paths to here, not all)' : 'is still held';
    this.fail(at, `${what} while the spin lock ${this.lockDesc(l)} ${held}; the verifier requires bpf_spin_unlock before exit`, `call bpf.spinUnlock(${l.name}) on every path before returning`);
  }

  /** bpf.spinLock(lock): only one lock at a time. */
  takeLock(lock: HeldLock, at: Span): void {
    const l = this.flow.lock;
    if (l && this.cur) {
      if (l.mixed) this.fail(at, `bpf.spinLock(${lock.name}) where the spin lock ${this.lockDesc(l)} is held on some paths and not on others`, 'take and release each lock on the same path, so every path reaches here with none held');
      if (l.key === lock.key) this.fail(at, `the spin lock ${this.lockDesc(l)} is taken again while held, which would deadlock; the verifier refuses it`, `call bpf.spinUnlock(${l.name}) before taking it again`);
      this.fail(at, `bpf.spinLock(${lock.name}) while the spin lock ${this.lockDesc(l)} is held; the verifier allows one bpf_spin_lock at a time`, `call bpf.spinUnlock(${l.name}) first, or keep the values under one lock`);
    }
    this.flow = this.flow.withLock(lock);
  }

  /** bpf.spinUnlock(lock): the lock this path holds. */
  releaseLock(lock: HeldLock, at: Span): void {
    if (!this.cur) return;
    const l = this.flow.lock;
    if (!l) this.fail(at, `bpf.spinUnlock(${lock.name}) without a bpf.spinLock(${lock.name}) before it on this path; the verifier refuses an unlock without a lock`, `call bpf.spinLock(${lock.name}) first, or remove this unlock`);
    if (l.mixed) this.fail(at, `bpf.spinUnlock(${lock.name}) where the spin lock ${this.lockDesc(l)} is held on some paths and not on others`, 'take and release the lock on the same path, so exactly the paths that lock it reach the unlock');
    if (l.key !== lock.key) this.fail(at, `bpf.spinUnlock(${lock.name}) while the lock held is ${this.lockDesc(l)}; the verifier refuses unlocking a different lock`, `unlock ${l.name}, the lock this path took`);
    this.flow = this.flow.withLock(undefined);
  }

  /** A register holding the address of map `m`. */
  mapRef(m: MapDecl): number {
    if (TRACING_TYPES.has(this.program.progType) && m.value && containsSpinLock(m.value)) {
      this.fail({ start: this.at, end: this.at }, `map '${m.name}' holds a SpinLock, which ${this.program.declarator} programs cannot use (the verifier refuses: tracing programs cannot use bpf_spin_lock)`, 'use the map from a networking or cgroup program, or drop the lock and use atomic += on its fields');
    }
    this.unit.usedMaps.add(m.name);
    const r = this.newReg();
    this.emit({ op: 'ldmap', dst: r, map: m.name });
    return r;
  }

  /** The place of a global variable. */
  globalPlace(g: GlobalVar): Place {
    const r = this.newReg();
    this.emit({ op: 'ldmapval', dst: r, map: g.section, off: g.offset });
    return { base: { reg: r }, off: 0, space: g.section === '.rodata' ? 'rodata' : 'global', align: Math.min(8, alignOf(g.type)) };
  }

  /** A value as a scalar Value (loading places, checking presence). */
  scalarOf(v: Val, at: Span | undefined): { type: Type; v: Value } {
    switch (v.k) {
      case 'scalar':
        return { type: v.type, v: v.v };
      case 'place':
        if (isAggregate(v.type)) this.fail(at, `a ${typeName(v.type)} is not a single value`, 'use one of its fields');
        return { type: v.type, v: reg(this.load(v.place, v.type, at)) };
      case 'nullable': {
        this.requirePresent(v, at);
        if (isAggregate(v.type)) this.fail(at, `a ${typeName(v.type)} is not a single value`, 'use one of its fields');
        return { type: v.type, v: reg(this.load(this.refPlace(v.ref), v.type, at)) };
      }
      case 'string':
        this.fail(at, 'a string is not a value the kernel can compute with', 'strings are for printk formats, strEq and strCopy');
      case 'void':
        this.fail(at, 'this expression has no value', 'use a call that returns something');
      default:
        this.fail(at, 'this is not a value', 'use a variable, a field or a call');
    }
  }

  /** The place a present reference points at. */
  refPlace(ref: NullRef): Place {
    const p: Place = { base: { reg: ref.ptr }, off: 0, space: ref.space, align: ref.space === 'packet' ? 1 : 8 };
    if (ref.shared) p.shared = true;
    return p;
  }

  /** Fails unless the flow says this maybe-missing value is present. */
  requirePresent(v: Extract<Val, { k: 'nullable' }>, at: Span | undefined): void {
    const b = v.binding;
    if (!b) this.fail(at, 'this value may be undefined (the map may not hold the key)', 'assign it to a const and check it: if (!v) return 0;');
    const p = this.flow.presence.get(b.id);
    if (p === 'present') {
      if (this.flow.refs.get(b.id) === 'released') this.fail(at, `'${b.name}' was already submitted or discarded`, 'use the record before submitting it');
      return;
    }
    if (p === 'absent') this.fail(at, `'${b.name}' is undefined here`, 'this path is where the check failed; use it only where it is present');
    const what = v.ref.source === 'reserve' ? 'the ring buffer may be full' : v.ref.source === 'pop' ? 'the map may be empty' : v.ref.source === 'packet' ? 'the packet may be too short' : 'the map may not hold the key';
    this.fail(at, `'${b.name}' may be undefined here (${what})`, `check it first: if (!${b.name}) return 0;  or  if (${b.name}) { ... }`);
  }

  /** Materialises a scalar in the width its type needs (for stores and calls). */
  widthOf(t: Type): 32 | 64 {
    return is64(t) ? 64 : 32;
  }

  /** Checks a struct has a field, with a hint listing them. */
  field(s: StructType, name: string, at: Span | undefined): { type: Type; offset: number; index?: number } {
    if (s.origin === 'kernel') {
      const m = this.unit.module.kernel.member(s, name, at);
      if (!m) this.fail(at, `struct ${s.cName} has no member '${name}'`, `its members include: ${this.unit.module.kernel.memberNames(s, at).slice(0, 12).join(', ')}`);
      if (m.bitfield) this.fail(at, `'${name}' is a bitfield, which the dialect cannot read yet`, 'read the containing word with bpf.readKernel and mask it');
      return { type: m.type, offset: m.offset };
    }
    const f = s.fields.find((x) => x.name === name);
    if (!f) this.fail(at, `${s.name} has no field '${name}'`, `its fields are: ${s.fields.map((x) => x.name).join(', ')}`);
    return { type: f.type, offset: f.offset };
  }

  /** u32/u64 etc. of a scalar type, for width decisions. */
  static intTypeOf(t: Type): Type {
    return t.kind === 'literal' ? (t.bigint ? INT.u64 : INT.u32) : t;
  }
}

/** The kernel's name of helper `id` without its bpf_ prefix ("ktime_get_ns"). */
function helperName(id: number): string {
  for (const [name, v] of Object.entries(FuncId)) if (v === id) return name;
  return `#${id}`;
}

/** Program types the verifier calls tracing (is_tracing_prog_type): no spin locks for them. */
const TRACING_TYPES = new Set(['KPROBE', 'TRACEPOINT', 'PERF_EVENT', 'RAW_TRACEPOINT', 'RAW_TRACEPOINT_WRITABLE']);

function containsSpinLock(t: Type): boolean {
  if (t.kind === 'opaque') return t.cName === 'bpf_spin_lock';
  if (t.kind === 'struct' && t.origin === 'local') return t.fields.some((f) => containsSpinLock(f.type));
  if (t.kind === 'array') return containsSpinLock(t.elem);
  return false;
}

/** Omit over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The comparison with swapped operands. */
export function mirror(c: CondName): CondName {
  const m: Record<CondName, CondName> = { jeq: 'jeq', jne: 'jne', jgt: 'jlt', jlt: 'jgt', jge: 'jle', jle: 'jge', jsgt: 'jslt', jslt: 'jsgt', jsge: 'jsle', jsle: 'jsge', jset: 'jset' };
  return m[c];
}

/** The alignment of (something aligned to `a`) + `off`. */
export function gcdAlign(a: number, off: number): number {
  let x = a;
  while (x > 1 && off % x !== 0) x >>= 1;
  return Math.max(1, x);
}

function largestChunk(remaining: number, align: number): Size {
  for (const s of [8, 4, 2, 1] as const) if (s <= remaining && s <= align) return s;
  return 1;
}
