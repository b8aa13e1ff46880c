/**
 * The object's BTF, built while compiling: every type a map, a global, a function or a CO-RE
 * relocation refers to. Local structs are emitted with their C layout under their TypeScript
 * names (user space decodes map values and ring buffer records by them); integers get C names
 * (so `char[N]` decodes as a string and `unsigned long long` as a bigint). Kernel structs read
 * through CO-RE are emitted as clang emits a `preserve_access_index` struct: the kernel's name
 * and size, with only the members the program touches, at the kernel's offsets; libbpf and
 * tsbpf match them against the running kernel's BTF by name.
 */
import { BtfBuilder } from '../btf/builder.js';
import { BtfFuncLinkage, BtfIntEncoding, BtfKind, type BtfMember, type BtfStruct } from '../btf/kinds.js';
import type { CoreStep } from './ir.js';
import { sizeOf, type IntName, type StructType, type Type } from './types.js';

const C_INT: Record<IntName, string> = {
  u8: 'unsigned char',
  u16: 'unsigned short',
  u32: 'unsigned int',
  u64: 'unsigned long long',
  i8: 'signed char',
  i16: 'short',
  i32: 'int',
  i64: 'long long',
};

/** Builds the object's .BTF types on demand (ids are stable once given). */
export class BtfGen {
  readonly builder = new BtfBuilder();
  private readonly ints = new Map<string, number>();
  private readonly structs = new Map<StructType, number>();
  private readonly kernelStructs = new Map<string, { id: number; type: BtfStruct; members: Map<string, number> }>();
  private readonly ptrs = new Map<number, number>();
  private readonly arrays = new Map<string, number>();
  private readonly protos = new Map<string, number>();
  private indexType: number | undefined;

  /** The id of a C integer type by name, adding it once. */
  private int(name: string, size: number, encoding: number): number {
    let id = this.ints.get(name);
    if (id === undefined) {
      id = this.builder.add({ kind: BtfKind.INT, name, size, encoding, bitsOffset: 0, bits: size * 8 });
      this.ints.set(name, id);
    }
    return id;
  }

  /** `int`, the type of function results and context fields clang uses. */
  get intId(): number {
    return this.int('int', 4, BtfIntEncoding.SIGNED);
  }

  /** `char`. */
  get charId(): number {
    return this.int('char', 1, BtfIntEncoding.SIGNED);
  }

  private get arrayIndex(): number {
    return (this.indexType ??= this.int('__ARRAY_SIZE_TYPE__', 4, 0));
  }

  /** A pointer to type `target` (0 = void). */
  pointer(target: number): number {
    let id = this.ptrs.get(target);
    if (id === undefined) {
      id = this.builder.add({ kind: BtfKind.PTR, name: '', type: target });
      this.ptrs.set(target, id);
    }
    return id;
  }

  /** An array of `count` elements of type `elem`. */
  array(elem: number, count: number): number {
    const key = `${elem}:${count}`;
    let id = this.arrays.get(key);
    if (id === undefined) {
      id = this.builder.add({ kind: BtfKind.ARRAY, name: '', type: elem, indexType: this.arrayIndex, nelems: count });
      this.arrays.set(key, id);
    }
    return id;
  }

  /** The BTF id of a dialect type. */
  typeId(t: Type): number {
    switch (t.kind) {
      case 'int':
        return this.int(C_INT[t.name], t.size, t.signed ? BtfIntEncoding.SIGNED : 0);
      case 'literal':
        return t.bigint ? this.int(C_INT.u64, 8, 0) : this.intId;
      case 'bool':
        return this.int('_Bool', 1, BtfIntEncoding.BOOL);
      case 'chars':
        return this.array(this.charId, t.length);
      case 'array':
        return this.array(this.typeId(t.elem), t.length);
      case 'ptr':
        return this.pointer(t.pointee.kind === 'struct' && t.pointee.origin === 'kernel' ? this.kernelStruct(t.pointee).id : t.pointee.kind === 'void' ? 0 : this.typeId(t.pointee));
      case 'struct':
        return t.origin === 'kernel' ? this.kernelStruct(t).id : this.localStruct(t);
      case 'opaque': {
        // struct bpf_spin_lock { __u32 val; }: the verifier finds the lock by this name.
        const key = `opaque:${t.cName}`;
        let id = this.arrays.get(key);
        if (id === undefined) {
          id = this.builder.add({ kind: BtfKind.STRUCT, name: t.cName, size: t.size, members: [{ name: 'val', type: this.typeId({ kind: 'int', name: 'u32', size: 4, signed: false }), bitOffset: 0, bitfieldSize: 0 }] });
          this.arrays.set(key, id);
        }
        return id;
      }
      default:
        return 0;
    }
  }

  private localStruct(t: StructType): number {
    const known = this.structs.get(t);
    if (known !== undefined) return known;
    const members: BtfMember[] = [];
    const s: BtfStruct = { kind: t.union ? BtfKind.UNION : BtfKind.STRUCT, name: t.cName ?? t.name, size: t.size, members };
    const id = this.builder.add(s);
    this.structs.set(t, id);
    for (const f of t.fields) members.push({ name: f.name, type: this.typeId(f.type), bitOffset: f.offset * 8, bitfieldSize: 0 });
    return id;
  }

  /** The local copy of kernel struct `t` (members are added by `kernelMember`). */
  kernelStruct(t: StructType): { id: number; type: BtfStruct; members: Map<string, number> } {
    const name = t.cName ?? t.name;
    let k = this.kernelStructs.get(name);
    if (!k) {
      const type: BtfStruct = { kind: t.union ? BtfKind.UNION : BtfKind.STRUCT, name, size: t.size, members: [] };
      k = { id: this.builder.add(type), type, members: new Map() };
      this.kernelStructs.set(name, k);
    }
    return k;
  }

  /** Adds member `name` (of type `type`, at byte `offset`) to the local copy of kernel struct `t`. */
  kernelMember(t: StructType, name: string, type: Type, offset: number): void {
    const k = this.kernelStruct(t);
    if (k.members.has(name)) return;
    k.members.set(name, -1);
    const member: BtfMember = { name, type: 0, bitOffset: offset * 8, bitfieldSize: 0 };
    k.type.members.push(member);
    member.type = this.typeId(type);
  }

  /**
   * Puts the members of the local kernel struct copies in offset order (the kernel rejects BTF
   * whose struct members go backwards) and numbers them; call once all code is lowered.
   */
  finishKernelStructs(): void {
    for (const k of this.kernelStructs.values()) {
      k.type.members.sort((a, b) => a.bitOffset - b.bitOffset);
      k.type.members.forEach((m, i) => k.members.set(m.name, i));
    }
  }

  /** The CO-RE access string of a path (after finishKernelStructs). */
  accessString(path: CoreStep[]): string {
    const parts = ['0'];
    for (const step of path) {
      if ('index' in step) parts.push(String(step.index));
      else parts.push(String(this.kernelStruct(step.struct).members.get(step.member)));
    }
    return parts.join(':');
  }

  /** A FUNC_PROTO with these parameter and return types. */
  proto(params: Array<{ name: string; type: number }>, ret: number): number {
    const key = JSON.stringify([params, ret]);
    let id = this.protos.get(key);
    if (id === undefined) {
      id = this.builder.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType: ret, params });
      this.protos.set(key, id);
    }
    return id;
  }

  /** A FUNC: global for program entries, static for subprograms. */
  func(name: string, params: Array<{ name: string; type: number }>, ret: number, global: boolean): number {
    return this.builder.add({ kind: BtfKind.FUNC, name, type: this.proto(params, ret), linkage: global ? BtfFuncLinkage.GLOBAL : BtfFuncLinkage.STATIC });
  }

  /** A struct from explicit members (context records), added once per name. */
  namedStruct(name: string, size: number, members: Array<{ name: string; type: Type; offset: number }>): number {
    const key = `named:${name}`;
    let id = this.arrays.get(key);
    if (id === undefined) {
      const list: BtfMember[] = [];
      id = this.builder.add({ kind: BtfKind.STRUCT, name, size, members: list });
      this.arrays.set(key, id);
      for (const m of members) list.push({ name: m.name, type: this.typeId(m.type), bitOffset: m.offset * 8, bitfieldSize: 0 });
    }
    return id;
  }

  /** A `const volatile`-qualified type (for .rodata constants, as clang emits them). */
  constVolatile(id: number): number {
    const v = this.builder.add({ kind: BtfKind.VOLATILE, name: '', type: id });
    return this.builder.add({ kind: BtfKind.CONST, name: '', type: v });
  }

  /** Size of a type in bytes (for checks). */
  static size(t: Type): number {
    return sizeOf(t);
  }
}
