/**
 * The symbol table of a written object, addressed by keys ('fn:name', 'map:name', 'sec:.text',
 * 'var:.data:name', 'ext:name') so relocations can name a symbol before the table is complete.
 * Global names share one namespace, as in a linker: a duplicate is an ObjectWriteError.
 */
import { STB, STT } from '../elf/constants.js';
import type { ElfRelocationSpec, ElfSymbolSpec } from '../elf/spec.js';
import { ObjectWriteError } from './write-error.js';

/** A relocation whose symbol is still a key. */
export interface PendingRelocation {
  offset: number;
  symbol: string;
  type: number;
}

export class SymbolTable {
  readonly list: ElfSymbolSpec[] = [];
  private readonly byKey = new Map<string, number>();
  /** Global name -> what defined it, for duplicate reports. */
  private readonly globals = new Map<string, string>();

  /** Defines a symbol under `key`; `what` describes it for duplicate-name errors. */
  define(key: string, symbol: ElfSymbolSpec, what: string): number {
    const name = symbol.name ?? '';
    if ((symbol.bind ?? STB.LOCAL) !== STB.LOCAL && name !== '') {
      const previous = this.globals.get(name);
      if (previous !== undefined) {
        throw new ObjectWriteError('duplicate-name', name, what, `'${name}' is also the name of ${previous}; global symbols must be unique`);
      }
      this.globals.set(name, what);
    }
    if (this.byKey.has(key)) throw new ObjectWriteError('duplicate-name', name, what, `'${name}' is defined twice`);
    this.list.push(symbol);
    this.byKey.set(key, this.list.length);
    return this.list.length;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The STT_SECTION symbol of `section`, defined on first use. */
  sectionSymbol(section: string): string {
    const key = `sec:${section}`;
    if (!this.byKey.has(key)) this.define(key, { name: '', type: STT.SECTION, bind: STB.LOCAL, section }, `section ${section}`);
    return key;
  }

  /** Relocations with their symbols as numbers for writeElf (1-based, spec order). */
  resolve(relocations: readonly PendingRelocation[], where: string): ElfRelocationSpec[] {
    return relocations.map((r) => {
      if (r.symbol.startsWith('sec:')) this.sectionSymbol(r.symbol.slice(4));
      const n = this.byKey.get(r.symbol);
      if (n === undefined) throw new ObjectWriteError('unknown-function', r.symbol.replace(/^[a-z]+:/, ''), where, `relocation at 0x${r.offset.toString(16)} names symbol ${r.symbol}, which is not defined`);
      return { offset: r.offset, symbol: n, type: r.type };
    });
  }
}
