/**
 * Runs a program of an object file in the VM with its maps: the ObjectSpec's maps become map
 * models (global data sections start with their initial values), and map references become
 * indices into the VM's map table, as a loader would turn them into fds. This is how a kernel
 * program is unit-tested without a kernel.
 */
import type { Instruction } from '../asm/instruction.js';
import { BtfKind, resolveType, type Btf } from '../btf/index.js';
import { NotSupportedError } from '../errors.js';
import type { MapSpec, ObjectSpec, ProgramSpec } from '../object/index.js';
import { MapType } from '../uapi/enums.js';
import { createMap } from './maps/index.js';
import type { MapModel } from './maps/types.js';
import { Vm, type VmOptions } from './vm.js';

/** A program of an object, ready to run, and the models of its maps by name. */
export interface ObjectVm {
  vm: Vm;
  program: ProgramSpec;
  maps: Map<string, MapModel>;
}

/** Options of {@link vmForObject}: everything the VM takes but the map table. */
export interface ObjectVmOptions extends Omit<VmOptions, 'maps'> {
  /** Number of CPUs the per-CPU maps have (default 1). */
  cpus?: number;
  /** Map models to use instead of fresh ones, by name (to share maps between programs). */
  maps?: Map<string, MapModel>;
}

/** Whether a map's value type (a struct) has a struct bpf_spin_lock member, as the kernel requires for BPF_F_LOCK. */
function hasSpinLock(btf: Btf | undefined, valueType: number | undefined): boolean {
  if (!btf || !valueType) return false;
  const t = btf.type(resolveType(btf, valueType));
  if (t.kind !== BtfKind.STRUCT) return false;
  return t.members.some((m) => {
    const mt = btf.type(resolveType(btf, m.type));
    return mt.kind === BtfKind.STRUCT && mt.name === 'bpf_spin_lock';
  });
}

function modelFor(spec: MapSpec, cpus: number, btf: Btf | undefined): MapModel {
  const type = MapType[spec.type as keyof typeof MapType];
  const spinLock = hasSpinLock(btf, spec.valueType);
  const model = createMap({ type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags, name: spec.name, spinLock }, { cpus });
  if (spec.data) {
    const key = new Uint8Array(4);
    model.update(key, spec.data, 0);
  }
  return model;
}

/**
 * Prepares program `name` of `spec` to run in the VM. Maps the program uses are created (or
 * taken from `options.maps`); a map type the VM has no model of, or a kernel symbol, gives a
 * NotSupportedError naming it.
 *
 * @example
 * const { vm, maps } = vmForObject(readObject(readFileSync('count.bpf.o')), 'count_exec');
 * vm.run({ context: new Uint8Array(64) });
 * maps.get('counts')!.lookup(key);
 */
export function vmForObject(spec: ObjectSpec, name: string, options: ObjectVmOptions = {}): ObjectVm {
  const program = spec.programs.find((p) => p.name === name);
  if (!program) {
    throw new NotSupportedError(`program '${name}'`, `the object has no such program (it has: ${spec.programs.map((p) => p.name).join(', ') || 'none'})`);
  }
  const maps = options.maps ?? new Map<string, MapModel>();
  const table: MapModel[] = [];
  const indexOf = new Map<string, number>();
  const instructions: Instruction[] = program.instructions.map((i) => ({ ...i }));
  for (const ref of program.references) {
    if (ref.kind === 'kfunc' || ref.kind === 'ksym') {
      throw new NotSupportedError(`kernel symbol '${ref.name}'`, 'the VM has no kernel to resolve it against; pass the program a helper instead, or test it in the kernel');
    }
    let index = indexOf.get(ref.map);
    if (index === undefined) {
      let model = maps.get(ref.map);
      if (!model) {
        const mapSpec = spec.maps.find((m) => m.name === ref.map)!;
        if (!(mapSpec.type in MapType)) throw new NotSupportedError(`map type ${mapSpec.type}`, `map '${ref.map}'`);
        try {
          model = modelFor(mapSpec, options.cpus ?? 1, spec.btf);
        } catch (err) {
          throw new NotSupportedError(`map '${ref.map}' (${mapSpec.type})`, `the VM has no model of this map type: ${(err as Error).message}`);
        }
        maps.set(ref.map, model);
      }
      index = table.length;
      table.push(model);
      indexOf.set(ref.map, index);
    }
    instructions[ref.index]!.imm = index;
  }
  const { cpus: _cpus, maps: _maps, ...vmOptions } = options;
  return { vm: new Vm(instructions, { ...vmOptions, maps: table }), program, maps };
}
