/**
 * Reads an ELF object into an ObjectSpec: programs (linked with their subprograms), maps (BTF
 * .maps, global data sections, .kconfig), license and BTF. Deterministic and kernel-free.
 */
import { parseBtf, type Btf } from '../btf/parser.js';
import { parseBtfExt, type BtfExt } from '../btf/ext.js';
import { cString } from '../bytes/reader.js';
import { EM, ET } from '../elf/constants.js';
import { parseElf, type ElfFile } from '../elf/reader.js';
import { FormatError } from '../errors.js';
import { isDataSection, readBtfMaps, readDataMap, readKconfigMap } from './maps.js';
import { readPrograms } from './programs.js';
import type { ObjectSpec } from './spec.js';

const FORMAT = 'BPF object';

/** The text of section `name` up to its NUL ('license'), or undefined without the section. */
function sectionText(file: ElfFile, name: string): string | undefined {
  const s = file.section(name);
  return s ? cString(s.data) : undefined;
}

/**
 * Reads a BPF object file built by clang (`-target bpf -g`) or by tsbpf's compiler.
 * Throws a FormatError naming the section and what is wrong for anything malformed.
 *
 * @example
 * const spec = readObject(readFileSync('execsnoop.bpf.o'));
 * spec.programs.map((p) => `${p.name}: ${p.progType} ${p.attachTo}`);
 */
export function readObject(bytes: Uint8Array): ObjectSpec {
  const file = parseElf(bytes);
  if (file.machine !== EM.BPF) throw new FormatError(FORMAT, 18, `e_machine is ${file.machine}, not EM_BPF (247): not a BPF object`);
  if (file.type !== ET.REL) throw new FormatError(FORMAT, 16, `e_type is ${file.type}, expected a relocatable object (ET_REL)`);
  const btfSection = file.section('.BTF');
  const btf: Btf | undefined = btfSection ? parseBtf(btfSection.data) : undefined;
  const extSection = file.section('.BTF.ext');
  const btfExt: BtfExt | undefined = btf && extSection ? parseBtfExt(extSection.data, btf) : undefined;
  const license = sectionText(file, 'license') ?? '';
  const versionSection = file.section('version');
  const kernelVersion =
    versionSection && versionSection.data.byteLength >= 4
      ? new DataView(versionSection.data.buffer, versionSection.data.byteOffset).getUint32(0, file.littleEndian)
      : 0;

  const kconfig = readKconfigMap(file, btf);
  const maps = [...readBtfMaps(file, btf), ...file.sections.filter(isDataSection).map((s) => readDataMap(file, s, btf))];
  if (kconfig) maps.push(kconfig);
  const programs = readPrograms(file, btfExt, kconfig, license, kernelVersion);
  return { littleEndian: file.littleEndian, license, kernelVersion, programs, maps, btf, btfBytes: btfSection?.data, btfExt };
}

/**
 * Names of the externs an object declares `__weak` (kfuncs, ksyms and .kconfig values the
 * reader marked `weak`), which the loader may leave unresolved.
 *
 * @example
 * weakExterns(readObject(readFileSync('x.bpf.o'))); // Set { 'CONFIG_BPF_SYSCALL', 'bpf_task_acquire' }
 */
export function weakExterns(spec: ObjectSpec): Set<string> {
  const names = new Set<string>();
  for (const m of spec.maps) for (const v of m.variables) if (v.weak) names.add(v.name);
  for (const p of spec.programs) for (const r of p.references) if ((r.kind === 'kfunc' || r.kind === 'ksym') && r.weak) names.add(r.name);
  return names;
}
