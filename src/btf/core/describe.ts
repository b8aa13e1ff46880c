/** Human-readable one-line descriptions of relocation results. */
import { CoreReloKind } from '../ext.js';
import type { Btf } from '../parser.js';
import { describeType } from './btf-util.js';
import type { CoreSpec } from './spec.js';
import { isFieldBased } from './spec.js';

const WHAT: Record<number, string> = {
  [CoreReloKind.FIELD_BYTE_OFFSET]: 'byte offset',
  [CoreReloKind.FIELD_BYTE_SIZE]: 'byte size',
  [CoreReloKind.FIELD_EXISTS]: 'field exists',
  [CoreReloKind.FIELD_SIGNED]: 'signed',
  [CoreReloKind.FIELD_LSHIFT_U64]: 'left shift',
  [CoreReloKind.FIELD_RSHIFT_U64]: 'right shift',
  [CoreReloKind.TYPE_ID_LOCAL]: 'local type id',
  [CoreReloKind.TYPE_ID_TARGET]: 'target type id',
  [CoreReloKind.TYPE_EXISTS]: 'type exists',
  [CoreReloKind.TYPE_SIZE]: 'type size',
  [CoreReloKind.ENUMVAL_EXISTS]: 'enum value exists',
  [CoreReloKind.ENUMVAL_VALUE]: 'enum value',
  [CoreReloKind.TYPE_MATCHES]: 'type matches',
};

/** 'real_parent', 'mm.map_count', 'comm[3]' from the high-level spec (root index as '[n]' when > 0). */
function fieldPath(spec: CoreSpec): { prefix: string; path: string } {
  const [root, ...rest] = spec.accessors;
  const prefix = root && root.idx > 0 ? `[${root.idx}]` : '';
  let path = '';
  for (const a of rest) path += a.name === undefined ? `[${a.idx}]` : `${path === '' ? '' : '.'}${a.name}`;
  return { prefix, path };
}

/** What a relocation of `local` resolved to, e.g. "struct task_struct::real_parent (0:96): byte offset 40 -> 1280". */
export function describeResult(
  localBtf: Btf,
  local: CoreSpec,
  target: CoreSpec | undefined,
  origVal: bigint,
  newVal: bigint,
  poisoned: string | undefined,
  resized: { from: number; to: number } | undefined,
): string {
  const what = WHAT[local.kind] ?? `kind ${local.kind}`;
  let head = describeType(localBtf, local.rootTypeId);
  if (isFieldBased(local.kind)) {
    const { prefix, path } = fieldPath(local);
    head += prefix + (path === '' ? '' : `::${path}`);
    head += ` (${(target ?? local).raw.join(':')})`;
  } else if (local.kind === CoreReloKind.ENUMVAL_EXISTS || local.kind === CoreReloKind.ENUMVAL_VALUE) {
    head += `::${local.accessors[0]?.name ?? '?'}`;
  }
  if (target && !isFieldBased(local.kind) && local.kind !== CoreReloKind.TYPE_ID_LOCAL) head += ` (target [${target.rootTypeId}])`;
  const after = poisoned !== undefined ? `poisoned (${poisoned})` : newVal.toString();
  const size = resized ? `, access size ${resized.from} -> ${resized.to}` : '';
  return `${head}: ${what} ${origVal} -> ${after}${size}`;
}
