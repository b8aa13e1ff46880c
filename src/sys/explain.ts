/**
 * The explain mode: one line per system call tsbpf makes, the way `strace -e bpf,perf_event_open,
 * ioctl` shows them — command, the arguments that are set, and the result. Turned on by
 * TSBPF_EXPLAIN=1 or the CLI's --explain; lines go to stderr unless a sink is given.
 */
import { AttachType, MapType, ProgType } from '../uapi/enums.js';
import { errnoMessage, errnoName } from './errno.js';
import type { Struct } from './struct.js';

type Sink = (line: string) => void;

let sink: Sink | undefined = process.env.TSBPF_EXPLAIN === '1' ? (line) => process.stderr.write(`${line}\n`) : undefined;

/** Turns the explain mode on (with an optional sink) or off (undefined). Returns the old sink. */
export function setExplain(next: Sink | boolean | undefined): Sink | undefined {
  const old = sink;
  sink = next === true ? (line) => process.stderr.write(`${line}\n`) : next === false ? undefined : next;
  return old;
}

/** Whether calls are being explained (callers skip formatting work otherwise). */
export function explaining(): boolean {
  return sink !== undefined;
}

/** Emits one line. */
export function explainLine(line: string): void {
  sink?.(line);
}

function enumName(table: Record<string, number>, prefix: string, v: number): string {
  const name = Object.entries(table).find(([, x]) => x === v)?.[0];
  return name ? `${prefix}${name}` : String(v);
}

const ENUM_FIELDS: Readonly<Record<string, (v: number) => string>> = {
  map_type: (v) => enumName(MapType, 'BPF_MAP_TYPE_', v),
  prog_type: (v) => enumName(ProgType, 'BPF_PROG_TYPE_', v),
  attach_type: (v) => enumName(AttachType, 'BPF_', v),
  expected_attach_type: (v) => enumName(AttachType, 'BPF_', v),
};

function showBytes(b: Uint8Array): string {
  const head = Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `[${head}${b.byteLength > 16 ? ` ... (${b.byteLength} bytes)` : ''}]`;
}

/** A C string (printable text, then NUL) as a quoted string; anything else is shown as bytes. */
function printable(b: Uint8Array): string | undefined {
  const end = b.indexOf(0);
  if (end <= 0) return undefined;
  const s = b.subarray(0, end);
  return s.every((c) => c >= 0x20 && c < 0x7f) ? JSON.stringify(new TextDecoder().decode(s)) : undefined;
}

/** `{map_type=BPF_MAP_TYPE_HASH, key_size=4, map_name="counts"}` */
export function describeStruct(s: Struct, hints: Readonly<Record<string, string>> = {}): string {
  const parts = s.nonZero().map(([name, v]) => {
    if (hints[name]) return `${name}=${hints[name]}`;
    const ptr = s.pointers.get(name);
    if (ptr) return `${name}=${printable(ptr) ?? showBytes(ptr)}`;
    if (typeof v === 'string') return `${name}=${JSON.stringify(v)}`;
    const asEnum = ENUM_FIELDS[name];
    return `${name}=${asEnum ? asEnum(Number(v)) : v}`;
  });
  return `{${parts.join(', ')}}`;
}

/** ` = 5` or ` = -1 EPERM (Operation not permitted)`. */
export function describeResult(ret: number): string {
  return ret >= 0 ? ` = ${ret}` : ` = -1 ${errnoName(-ret)} (${errnoMessage(-ret)})`;
}
