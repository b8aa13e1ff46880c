/**
 * `tsbpf map list | show ID | dump ID`: the maps in the kernel, as `bpftool map` shows them.
 * Tables for people by default, `--json` for programs. `dump` decodes entries with the map's
 * own BTF when it was created with one (read back from the kernel), else prints hex bytes.
 */
import { endianness } from 'node:os';
import type { Command } from 'commander';
import { TsbpfError } from '../errors.js';
import type { BtfValue } from '../kernel/codec-btf.js';
import type { MapInfo } from '../kernel/map-info.js';
import { details, fdinfo, formatValue, hex, parseId as parseObjectId, table, toJson } from './format.js';

/** bpftool's name for a map type: 'percpu_hash' for PERCPU_HASH. */
const typeName = (info: MapInfo): string => info.type?.toLowerCase() ?? `type ${info.typeId}`;

const parseId = (text: string): number => parseObjectId(text, 'map', 'map list');

interface Row extends MapInfo {
  memlock?: number;
  frozen?: boolean;
}

async function infoById(id: number): Promise<Row> {
  const { mapFdById, readMapInfo } = await import('../kernel/map-info.js');
  using fd = mapFdById(id);
  return { ...readMapInfo(fd.value, `map id ${id}`), ...fdinfo(fd.value) };
}

async function list(opts: { json?: boolean }): Promise<void> {
  const { mapIds, MapNotFoundError } = await import('../kernel/map-info.js');
  const rows: Row[] = [];
  for (const id of mapIds()) {
    try {
      rows.push(await infoById(id));
    } catch (e) {
      if (!(e instanceof MapNotFoundError)) throw e; // freed between listing and opening
    }
  }
  if (opts.json) {
    process.stdout.write(toJson(rows) + '\n');
    return;
  }
  process.stdout.write(
    table(
      ['ID', 'TYPE', 'NAME', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'BTF'],
      rows.map((r) => [String(r.id), typeName(r), r.name, `${r.keySize}B`, `${r.valueSize}B`, String(r.maxEntries), `0x${r.flags.toString(16)}`, r.btfId ? String(r.btfId) : '-']),
    ),
  );
}

async function show(idText: string, opts: { json?: boolean }): Promise<void> {
  const row = await infoById(parseId(idText));
  if (opts.json) {
    process.stdout.write(toJson(row) + '\n');
    return;
  }
  const lines: Array<[string, string]> = [
    ['id', String(row.id)],
    ['type', typeName(row)],
    ['name', row.name],
    ['key', `${row.keySize}B`],
    ['value', `${row.valueSize}B`],
    ['max_entries', String(row.maxEntries)],
    ['flags', `0x${row.flags.toString(16)}`],
  ];
  if (row.memlock !== undefined) lines.push(['memlock', `${row.memlock}B`]);
  if (row.frozen !== undefined) lines.push(['frozen', row.frozen ? 'yes' : 'no']);
  if (row.btfId) lines.push(['btf_id', `${row.btfId} (key type ${row.btfKeyTypeId}, value type ${row.btfValueTypeId})`]);
  if (row.mapExtra) lines.push(['map_extra', `0x${row.mapExtra.toString(16)}`]);
  if (row.ifindex) lines.push(['ifindex', String(row.ifindex)]);
  process.stdout.write(details(lines));
}

/** Types whose entries cannot be listed without changing them or at all from user space. */
const UNDUMPABLE: Readonly<Record<string, string>> = {
  QUEUE: 'its values can only be read by popping them',
  STACK: 'its values can only be read by popping them',
  BLOOM_FILTER: 'a bloom filter can only answer whether a value may be in it',
  RINGBUF: 'ring buffer records are read by a consumer, not looked up',
  USER_RINGBUF: 'ring buffer records are read by a consumer, not looked up',
  PERF_EVENT_ARRAY: 'the kernel does not let user space read its slots',
  STRUCT_OPS: 'struct_ops maps are not dumped by tsbpf',
};

/** Labels for values that are ids of other objects. */
const VALUE_LABEL: Readonly<Record<string, string>> = { PROG_ARRAY: 'VALUE (prog id)', ARRAY_OF_MAPS: 'VALUE (map id)', HASH_OF_MAPS: 'VALUE (map id)', STACK_TRACE: 'VALUE (addresses)' };

async function dump(idText: string, opts: { json?: boolean }): Promise<void> {
  const id = parseId(idText);
  const { BpfMap } = await import('../kernel/map.js');
  const { mapCodecs } = await import('../kernel/map-btf.js');
  const { u32 } = await import('../kernel/codec.js');
  using map = BpfMap.fromId(id);
  const info = map.info();
  const why = info.type ? UNDUMPABLE[info.type] : 'tsbpf does not know its type';
  if (why) throw new TsbpfError(`map ${id} ('${info.name}', ${typeName(info)}) cannot be dumped: ${why}`);
  const codecs = mapCodecs(info);
  const fdValued = info.type === 'PROG_ARRAY' || info.type === 'ARRAY_OF_MAPS' || info.type === 'HASH_OF_MAPS';
  const decodeValue = (v: Uint8Array): BtfValue =>
    fdValued ? u32.decode(v) : info.type === 'STACK_TRACE' && !codecs.typed ? stackOf(v) : codecs.value.decode(v);
  const entries: Array<{ key: BtfValue | undefined; value: BtfValue; rawKey: Uint8Array; rawValue: Uint8Array }> = [];
  for (const [k, v] of map.entriesBytes()) entries.push({ key: codecs.key.decode(k), value: decodeValue(v), rawKey: k, rawValue: v });
  if (opts.json) {
    process.stdout.write(toJson(entries.map((e) => ({ key: e.key, value: e.value }))) + '\n');
    return;
  }
  if (!codecs.typed && !fdValued && info.type !== 'STACK_TRACE') {
    // bpftool's plain format for maps without BTF
    const out: string[] = [];
    for (const e of entries) {
      if (map.perCpu) {
        out.push(`key:\n${hex(e.rawKey)}`);
        const stride = map.userValueSize / (e.value as BtfValue[]).length;
        (e.value as BtfValue[]).forEach((_v, cpu) => out.push(`value (CPU ${String(cpu).padStart(2, '0')}): ${hex(e.rawValue.subarray(cpu * stride, cpu * stride + info.valueSize))}`));
      } else {
        out.push(`key: ${hex(e.rawKey)}  value: ${hex(e.rawValue)}`);
      }
    }
    out.push(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}`);
    process.stdout.write(out.join('\n') + '\n');
    return;
  }
  const valueLabel = (info.type && VALUE_LABEL[info.type]) || 'VALUE';
  const fmt = (v: BtfValue): string => (info.type === 'STACK_TRACE' && Array.isArray(v) ? v.map((a) => `0x${(a as bigint).toString(16)}`).join(' ') : formatValue(v));
  process.stdout.write(table(['KEY', valueLabel], entries.map((e) => [formatValue(e.key), fmt(e.value)])));
  process.stdout.write(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}\n`);
}

/** A stack trace value: u64 addresses up to the first zero. */
function stackOf(v: Uint8Array): bigint[] {
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: bigint[] = [];
  for (let off = 0; off + 8 <= v.byteLength; off += 8) {
    const ip = view.getBigUint64(off, endianness() === 'LE');
    if (ip === 0n) break;
    out.push(ip);
  }
  return out;
}

/** Adds `map list`, `map show` and `map dump` to the tsbpf command. */
export function register(program: Command): void {
  const map = program.command('map').description('inspect BPF maps in the kernel (needs root or CAP_BPF)');
  map.command('list').description('list every map: id, type, name, key/value size, max entries, flags').option('--json', 'JSON output').action(list);
  map.command('show').description("show one map's details").argument('<id>', 'map id (see "map list")').option('--json', 'JSON output').action(show);
  map
    .command('dump')
    .description("print a map's entries, decoded with its BTF when it has one, else as hex")
    .argument('<id>', 'map id (see "map list")')
    .option('--json', 'JSON output')
    .action(dump);
}
