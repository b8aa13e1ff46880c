/**
 * Externs as clang emits them: an undefined NOTYPE symbol per name (GLOBAL, or WEAK for the
 * externs the spec marks `weak`: the loader may leave those unresolved), and in BTF an extern VAR (.kconfig values, kernel variables)
 * or extern FUNC (kfuncs) listed in DATASEC .kconfig or .ksyms. libbpf needs every VAR/FUNC of
 * those DATASECs to have its symbol, and every extern symbol to have its BTF.
 */
import { BtfFuncLinkage, BtfKind, BtfVarLinkage, type BtfType, type BtfVarSecinfo } from '../btf/kinds.js';
import { STB, STT } from '../elf/constants.js';
import type { MapSpec } from './spec.js';
import type { TypeTable } from './write-btf.js';
import { ObjectWriteError } from './write-error.js';
import type { DataTarget } from './write-data.js';
import type { SymbolTable } from './write-symbols.js';

/** What a program uses an extern for: calling it (kfunc) or taking its address (ksym). */
export type ExternUse = 'call' | 'address';

const isExternVar = (t: BtfType, name: string): boolean => t.kind === BtfKind.VAR && t.name === name && t.linkage === BtfVarLinkage.GLOBAL_EXTERN;
const isExternFunc = (t: BtfType, name: string): boolean => t.kind === BtfKind.FUNC && t.name === name && t.linkage === BtfFuncLinkage.EXTERN;

/** Collects extern references, then writes their symbols and DATASECs. */
export class Externs {
  private readonly ksyms = new Map<string, { use: ExternUse; where: string }>();
  private kconfig: MapSpec | undefined;

  /** Names bound STB_WEAK: the writer's `weakExterns` option and every extern marked weak. */
  private readonly weak: Set<string>;

  constructor(
    private readonly table: TypeTable,
    private readonly symbols: SymbolTable,
    weakExterns: Iterable<string>,
  ) {
    this.weak = new Set(weakExterns);
  }

  private bind(name: string): number {
    return this.weak.has(name) ? STB.WEAK : STB.GLOBAL;
  }

  /** Declares the .kconfig map: each variable becomes an extern VAR and symbol. */
  setKconfig(map: MapSpec): void {
    this.kconfig = map;
    const vars: BtfVarSecinfo[] = [];
    for (const v of map.variables) {
      const where = `.kconfig variable '${v.name}'`;
      if (v.weak) this.weak.add(v.name);
      let id = this.table.datasecVar('.kconfig', v.name) ?? this.table.find((t) => isExternVar(t, v.name));
      if (id === undefined) {
        if (v.typeId === undefined) throw new ObjectWriteError('missing-btf', v.name, where, 'a .kconfig extern needs its BTF type (typeId): libbpf parses the value by it');
        this.table.check(v.typeId, false, v.name, where);
        id = this.table.add({ kind: BtfKind.VAR, name: v.name, type: v.typeId, linkage: BtfVarLinkage.GLOBAL_EXTERN });
      }
      this.symbols.define(`ext:${v.name}`, { name: v.name, type: STT.NOTYPE, bind: this.bind(v.name) }, where);
      vars.push({ type: id, offset: v.offset, size: v.size });
    }
    if (vars.length > 0) this.table.putDatasec('.kconfig', map.valueSize, vars);
  }

  /** Relocation target of `&.kconfig + offset`: the extern starting there. */
  kconfigTarget(offset: number, where: string): DataTarget | undefined {
    if (!this.kconfig) return undefined;
    const v = this.kconfig.variables.find((x) => x.offset === offset);
    if (!v) throw new ObjectWriteError('out-of-range', '.kconfig', where, `no .kconfig variable starts at offset ${offset}; an extern is addressed at its start`);
    return { symbol: `ext:${v.name}`, imm: 0 };
  }

  /** Records a kfunc call or a kernel variable's address (`weak`: declared __weak); returns the symbol key. */
  use(name: string, use: ExternUse, where: string, weak = false): string {
    if (weak) this.weak.add(name);
    const known = this.ksyms.get(name);
    if (!known || (known.use === 'address' && use === 'call')) this.ksyms.set(name, { use, where });
    return `ext:${name}`;
  }

  /** Writes the .ksyms DATASEC and symbols: the spec's entries plus every name used. */
  finish(): void {
    const names = new Map<string, { use: ExternUse; where: string } | undefined>();
    const previous = this.table.find((t) => t.kind === BtfKind.DATASEC && t.name === '.ksyms');
    const ds = previous === undefined ? undefined : this.table.get(previous);
    if (ds?.kind === BtfKind.DATASEC) {
      for (const v of ds.vars) {
        const t = v.type > 0 && v.type < this.table.count ? this.table.get(v.type) : undefined;
        if (t && (t.kind === BtfKind.VAR || t.kind === BtfKind.FUNC)) names.set(t.name, undefined);
      }
    }
    for (const [name, u] of this.ksyms) names.set(name, u);
    const vars: BtfVarSecinfo[] = [];
    for (const [name, u] of names) {
      const where = u?.where ?? `.ksyms entry '${name}'`;
      let id = this.table.datasecVar('.ksyms', name) ?? this.table.find((t) => isExternFunc(t, name)) ?? this.table.find((t) => isExternVar(t, name));
      if (id === undefined) {
        if (u?.use === 'call') {
          throw new ObjectWriteError('missing-btf', name, where, `kfunc '${name}' needs a BTF FUNC with extern linkage and its prototype in spec.btf; libbpf checks it against the kernel's`);
        }
        // `extern const void name __ksym;`: a typeless kernel symbol, as clang describes it.
        id = this.table.add({ kind: BtfKind.VAR, name, type: this.table.constOf(0), linkage: BtfVarLinkage.GLOBAL_EXTERN });
      }
      const t = this.table.get(id);
      if (u?.use === 'call' && t.kind !== BtfKind.FUNC) throw new ObjectWriteError('missing-btf', name, where, `'${name}' is called but its BTF is a ${t.kind === BtfKind.VAR ? 'VAR' : 'type'}, not a FUNC`);
      this.symbols.define(`ext:${name}`, { name, type: STT.NOTYPE, bind: this.bind(name) }, where);
      vars.push({ type: id, offset: 0, size: t.kind === BtfKind.VAR ? this.varSize(t.type) : 0 });
    }
    if (vars.length > 0) this.table.putDatasec('.ksyms', 0, vars);
  }

  private varSize(type: number): number {
    return this.table.sourceSize(type) ?? 0;
  }
}
