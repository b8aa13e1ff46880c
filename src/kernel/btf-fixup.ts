/**
 * What a loader changes in an object's BTF before BPF_BTF_LOAD, following libbpf's rules:
 *
 * - Fixups the kernel always needs: clang leaves DATASEC sizes and variable offsets at zero (the
 *   ELF symbol table has the real ones; the kernel wants sizes that match the data maps and
 *   offsets in increasing order); extern VARs and FUNCs have a linkage the kernel rejects; the
 *   .ksyms DATASEC lists FUNCs, where the kernel accepts only VARs.
 * - Sanitisation for older kernels: kinds the running kernel does not know are rewritten into
 *   kinds it does, keeping every type id and string offset in place (libbpf's
 *   bpf_object__sanitize_btf).
 */
import { BtfFuncLinkage, BtfKind, BtfVarLinkage, type Btf } from '../btf/index.js';
import type { ObjectSpec } from '../object/index.js';
import { BtfEditor } from './btf-edit.js';

/** The BTF features of a kernel that decide how an object's BTF is sanitised. */
export interface BtfFeatures {
  /** VAR and DATASEC (5.2). */
  datasec: boolean;
  /** FUNC and FUNC_PROTO (5.0). */
  func: boolean;
  /** FUNC with global linkage (5.6). */
  funcGlobal: boolean;
  /** FLOAT (5.13). */
  float: boolean;
  /** DECL_TAG (5.16). */
  declTag: boolean;
  /** TYPE_TAG (5.17). */
  typeTag: boolean;
  /** ENUM64 and signed ENUM (6.0). */
  enum64: boolean;
  /** DATASEC names starting with '?' (5.17 era libbpf convention). */
  qmarkDatasec: boolean;
}

/** Every feature on: what a current kernel supports. */
export const ALL_BTF_FEATURES: Readonly<BtfFeatures> = {
  datasec: true,
  func: true,
  funcGlobal: true,
  float: true,
  declTag: true,
  typeTag: true,
  enum64: true,
  qmarkDatasec: true,
};

/** What {@link prepareObjectBtf} did, for the loader and for tests. */
export interface PreparedBtf {
  bytes: Uint8Array;
  /** Kind changes made for an older kernel, e.g. 'DECL_TAG [12] -> INT'. */
  sanitised: string[];
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Natural alignment of a variable of `size` bytes when nothing better is known. */
const alignFor = (size: number): number => (size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1);

/**
 * Returns the object's BTF as the kernel should see it: fixed up and sanitised for `features`.
 *
 * @example
 * const { bytes } = prepareObjectBtf(spec.btf!, spec, ALL_BTF_FEATURES);
 */
export function prepareObjectBtf(btf: Btf, spec: Pick<ObjectSpec, 'maps'>, features: BtfFeatures): PreparedBtf {
  const ed = new BtfEditor(btf);
  fixDatasecs(ed, btf, spec);
  fixExternLinkage(ed, btf);
  const sanitised = sanitise(ed, btf, features);
  return { bytes: ed.finish(), sanitised };
}

/** A 4-byte signed INT of the object, or a new one (libbpf's find_int_btf_id). */
function intType(ed: BtfEditor, btf: Btf, cache: { id?: number }): number {
  if (cache.id !== undefined) return cache.id;
  for (const id of ed.ids()) {
    if (btf.kindOf(id) !== BtfKind.INT) continue;
    const t = btf.type(id);
    if (t.kind === BtfKind.INT && t.size === 4 && t.bits === 32) return (cache.id = id);
  }
  return (cache.id = ed.addInt('int', 4, 1));
}

function fixDatasecs(ed: BtfEditor, btf: Btf, spec: Pick<ObjectSpec, 'maps'>): void {
  const int = {} as { id?: number };
  let dummyVar: number | undefined;
  for (const id of ed.ids()) {
    if (btf.kindOf(id) !== BtfKind.DATASEC) continue;
    const sec = btf.type(id);
    if (sec.kind !== BtfKind.DATASEC) continue;
    // Each secinfo is 3 words after the 3-word header: type, offset, size.
    const entries = sec.vars.map((v, i) => ({ ...v, i }));
    const map = spec.maps.find((m) => m.name === sec.name && m.section === sec.name && m.data !== undefined);
    let size: number;
    if (sec.name === '.ksyms') {
      // Kernel symbols get a fake 4-byte int slot each: the kernel checks the DATASEC, the loader
      // resolves the symbols itself.
      entries.forEach((e, k) => {
        if (btf.kindOf(e.type) === BtfKind.FUNC) {
          dummyVar ??= ed.addType([ed.addString('dummy_ksym'), BtfKind.VAR << 24, intType(ed, btf, int), BtfVarLinkage.GLOBAL_ALLOCATED]);
          e.type = dummyVar;
        } else if (btf.kindOf(e.type) === BtfKind.VAR) {
          ed.setWord(e.type, 2, intType(ed, btf, int));
        }
        e.offset = 4 * k;
        e.size = 4;
      });
      size = 4 * entries.length;
    } else if (map) {
      for (const e of entries) {
        const name = btf.kindOf(e.type) === BtfKind.VAR ? btf.nameOf(e.type) : '';
        const v = map.variables.find((x) => x.name === name);
        if (v) {
          e.offset = v.offset;
          e.size = v.size;
        }
      }
      size = map.valueSize;
    } else {
      // Sections without a map (.maps, license): the kernel only checks that the variables are
      // in order and inside the section, so lay them out one after another.
      let end = 0;
      const placedByClang = entries.some((e) => e.offset !== 0);
      for (const e of entries) {
        if (!placedByClang) e.offset = align(end, alignFor(e.size));
        end = Math.max(end, e.offset + e.size);
      }
      size = Math.max(sec.size, end);
    }
    entries.sort((a, b) => a.offset - b.offset || a.i - b.i);
    ed.setWord(id, 2, Math.max(size, 1));
    entries.forEach((e, k) => {
      ed.setWord(id, 3 + 3 * k, e.type);
      ed.setWord(id, 4 + 3 * k, e.offset);
      ed.setWord(id, 5 + 3 * k, e.size);
    });
  }
}

/** Extern VARs and FUNCs get linkages the kernel accepts; extern prototypes get parameter names. */
function fixExternLinkage(ed: BtfEditor, btf: Btf): void {
  let paramName: number | undefined;
  for (const id of ed.ids()) {
    const kind = btf.kindOf(id);
    if (kind === BtfKind.VAR && ed.word(id, 3) === BtfVarLinkage.GLOBAL_EXTERN) {
      ed.setWord(id, 3, BtfVarLinkage.GLOBAL_ALLOCATED);
    } else if (kind === BtfKind.FUNC && (ed.word(id, 1) & 0xffff) === BtfFuncLinkage.EXTERN) {
      ed.setInfo(id, BtfKind.FUNC, BtfFuncLinkage.GLOBAL);
      // The kernel rejects a global function's prototype with unnamed parameters.
      const proto = ed.word(id, 2);
      if (proto !== 0 && btf.kindOf(proto) === BtfKind.FUNC_PROTO) {
        const t = btf.type(proto);
        if (t.kind !== BtfKind.FUNC_PROTO) continue;
        t.params.forEach((p, k) => {
          if (p.type !== 0 && ed.word(proto, 3 + 2 * k) === 0) ed.setWord(proto, 3 + 2 * k, (paramName ??= ed.addString('dummy_ksym')));
        });
      }
    }
  }
}

/** Rewrites kinds `features` says the kernel lacks; returns what was changed. */
function sanitise(ed: BtfEditor, btf: Btf, f: BtfFeatures): string[] {
  const done: string[] = [];
  let enum64Placeholder: number | undefined;
  const note = (id: number, from: string, to: string): void => void done.push(`${from} [${id}] -> ${to}`);
  for (const id of ed.ids()) {
    const kind = btf.kindOf(id);
    const vlen = ed.word(id, 1) & 0xffff;
    if (!f.datasec && kind === BtfKind.VAR) {
      // A 1-byte INT: never bigger than the variable was.
      ed.setInfo(id, BtfKind.INT, 0).setWord(id, 2, 1).setWord(id, 3, 8);
      note(id, 'VAR', 'INT');
    } else if (!f.datasec && kind === BtfKind.DATASEC) {
      // A STRUCT whose members are the variables, named like them; '.'/'?' are not valid in C names.
      const name = btf.nameOf(id).replace(/[.?]/g, '_');
      ed.setWord(id, 0, ed.addString(name)).setInfo(id, BtfKind.STRUCT, vlen);
      for (let k = 0; k < vlen; k++) {
        const type = ed.word(id, 3 + 3 * k);
        const offset = ed.word(id, 4 + 3 * k);
        ed.setWord(id, 3 + 3 * k, ed.word(type, 0));
        ed.setWord(id, 4 + 3 * k, type);
        ed.setWord(id, 5 + 3 * k, offset * 8);
      }
      note(id, 'DATASEC', 'STRUCT');
    } else if (f.datasec && !f.qmarkDatasec && kind === BtfKind.DATASEC && btf.nameOf(id).startsWith('?')) {
      ed.setWord(id, 0, ed.addString(`_${btf.nameOf(id).slice(1)}`));
      note(id, 'DATASEC ?name', 'DATASEC _name');
    } else if (!f.func && kind === BtfKind.FUNC_PROTO) {
      // An ENUM has the same record shape (8 bytes per entry); the kernel wants size 4.
      ed.setInfo(id, BtfKind.ENUM, vlen).setWord(id, 2, 4);
      note(id, 'FUNC_PROTO', 'ENUM');
    } else if (!f.func && kind === BtfKind.FUNC) {
      ed.setInfo(id, BtfKind.TYPEDEF, 0);
      note(id, 'FUNC', 'TYPEDEF');
    } else if (!f.funcGlobal && kind === BtfKind.FUNC && vlen === BtfFuncLinkage.GLOBAL) {
      ed.setInfo(id, BtfKind.FUNC, BtfFuncLinkage.STATIC);
      note(id, 'FUNC global', 'FUNC static');
    } else if (!f.float && kind === BtfKind.FLOAT) {
      // An empty struct of the same size; anonymous, since 'float' is no struct name.
      ed.setWord(id, 0, 0).setInfo(id, BtfKind.STRUCT, 0);
      note(id, 'FLOAT', 'STRUCT');
    } else if (!f.declTag && kind === BtfKind.DECL_TAG) {
      // Same record size: the component_idx word becomes the INT encoding word.
      ed.setWord(id, 0, 0).setInfo(id, BtfKind.INT, 0).setWord(id, 2, 1).setWord(id, 3, 8);
      note(id, 'DECL_TAG', 'INT');
    } else if (!f.typeTag && kind === BtfKind.TYPE_TAG) {
      ed.setWord(id, 0, 0).setInfo(id, BtfKind.CONST, 0);
      note(id, 'TYPE_TAG', 'CONST');
    } else if (!f.enum64 && kind === BtfKind.ENUM && ed.word(id, 1) >>> 31 === 1) {
      // Signed enums came with ENUM64: drop the kflag.
      ed.setInfo(id, BtfKind.ENUM, vlen);
      note(id, 'ENUM signed', 'ENUM');
    } else if (!f.enum64 && kind === BtfKind.ENUM64) {
      // A union of the same size whose members (12 bytes, like enumerators) are 1-byte INTs.
      enum64Placeholder ??= ed.addInt('enum64_placeholder', 1);
      ed.setInfo(id, BtfKind.UNION, vlen);
      for (let k = 0; k < vlen; k++) ed.setWord(id, 4 + 3 * k, enum64Placeholder).setWord(id, 5 + 3 * k, 0);
      note(id, 'ENUM64', 'UNION');
    }
  }
  return done;
}
