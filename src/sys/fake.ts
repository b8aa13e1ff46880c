/**
 * A fake kernel for root-less unit tests of the loader logic: maps that store values, programs
 * that load (or fail verification with a log), BTF objects, fds, info queries. It implements
 * the same Syscalls interface as the native addon; install it with `useSyscalls(new FakeKernel())`.
 * It models the contract, not the kernel: no verifier, no attach points.
 */
import { cString } from '../bytes/reader.js';
import { BPF_ATTR, STRUCTS } from '../uapi/layouts.js';
import { BpfCmd } from '../uapi/enums.js';
import { Errno } from './errno.js';
import type { PollHandle, Syscalls } from './native.js';
import { Struct } from './struct.js';

interface FakeMap {
  kind: 'map';
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  frozen: boolean;
  entries: Map<string, Uint8Array>;
}

interface FakeProg {
  kind: 'prog';
  id: number;
  type: number;
  name: string;
  insns: Uint8Array;
  license: string;
}

type FakeObject = FakeMap | FakeProg | { kind: 'btf' | 'link' | 'perf'; id: number };

/** A call the fake kernel received, for assertions. */
export interface FakeCall {
  cmd: string;
  ret: number;
}

const hexKey = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const CMD_NAMES = new Map(Object.entries(BpfCmd).map(([k, v]) => [v as number, k]));

/** A kernel double implementing Syscalls. */
export class FakeKernel implements Syscalls {
  readonly calls: FakeCall[] = [];
  readonly objects = new Map<number, FakeObject>();
  /** A verifier stand-in: return a log to reject a program, undefined to accept it. */
  verify: (prog: FakeProg) => string | undefined = () => undefined;
  private nextFd = 100;
  private nextId = 1;
  private nextAddress = 0x1000_0000n;
  private readonly memory: Array<{ start: bigint; view: Uint8Array }> = [];

  addressOf(view: ArrayBufferView): bigint {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const start = this.nextAddress;
    this.nextAddress += BigInt(bytes.byteLength + 16);
    this.memory.push({ start, view: bytes });
    return start;
  }

  /** The bytes at a fake address (what a kernel's copy_from_user would see). */
  read(address: bigint, length: number): Uint8Array {
    for (const m of this.memory) {
      if (address >= m.start && address + BigInt(length) <= m.start + BigInt(m.view.byteLength)) {
        const at = Number(address - m.start);
        return m.view.subarray(at, at + length);
      }
    }
    throw new Error(`fake kernel: bad address 0x${address.toString(16)} (+${length})`);
  }

  private cstring(address: bigint): string {
    for (const m of this.memory) {
      if (address >= m.start && address < m.start + BigInt(m.view.byteLength)) {
        return cString(m.view.subarray(Number(address - m.start)));
      }
    }
    return '';
  }

  private fd(obj: FakeObject): number {
    const fd = this.nextFd++;
    this.objects.set(fd, obj);
    return fd;
  }

  bpf(cmd: number, attrBytes: Uint8Array): number {
    const name = CMD_NAMES.get(cmd) ?? String(cmd);
    const ret = this.dispatch(name, attrBytes);
    this.calls.push({ cmd: name, ret });
    return ret;
  }

  private attr<K extends keyof typeof BPF_ATTR>(layout: K, bytes: Uint8Array): Struct {
    return new Struct(layout, BPF_ATTR[layout], bytes.byteLength, (v) => this.addressOf(v), bytes);
  }

  private mapOf(fd: number): FakeMap | undefined {
    const m = this.objects.get(fd);
    return m?.kind === 'map' ? m : undefined;
  }

  private dispatch(cmd: string, bytes: Uint8Array): number {
    switch (cmd) {
      case 'MAP_CREATE': {
        const a = this.attr('map_create', bytes);
        const m: FakeMap = {
          kind: 'map',
          id: this.nextId++,
          type: a.num('map_type'),
          keySize: a.num('key_size'),
          valueSize: a.num('value_size'),
          maxEntries: a.num('max_entries'),
          flags: a.num('map_flags'),
          name: a.str('map_name'),
          frozen: false,
          entries: new Map(),
        };
        if (m.maxEntries === 0) return -Errno.EINVAL;
        return this.fd(m);
      }
      case 'MAP_LOOKUP_ELEM':
      case 'MAP_UPDATE_ELEM':
      case 'MAP_DELETE_ELEM':
      case 'MAP_GET_NEXT_KEY':
      case 'MAP_FREEZE':
        return this.mapElem(cmd, this.attr('map_elem', bytes));
      case 'PROG_LOAD': {
        const a = this.attr('prog_load', bytes);
        const prog: FakeProg = {
          kind: 'prog',
          id: this.nextId++,
          type: a.num('prog_type'),
          name: a.str('prog_name'),
          insns: new Uint8Array(this.read(a.get('insns') as bigint, a.num('insn_cnt') * 8)),
          license: this.cstring(a.get('license') as bigint),
        };
        const log = this.verify(prog);
        if (log === undefined) return this.fd(prog);
        const size = a.num('log_size');
        a.set('log_true_size', log.length + 1);
        if (size === 0) return -Errno.EACCES;
        const out = this.read(a.get('log_buf') as bigint, size);
        const text = new TextEncoder().encode(log);
        out.set(text.subarray(0, size - 1));
        out[Math.min(text.length, size - 1)] = 0;
        return text.length + 1 > size ? -Errno.ENOSPC : -Errno.EACCES;
      }
      case 'BTF_LOAD':
        return this.fd({ kind: 'btf', id: this.nextId++ });
      case 'OBJ_GET_INFO_BY_FD': {
        const a = this.attr('info', bytes);
        const obj = this.objects.get(a.num('bpf_fd'));
        if (!obj) return -Errno.EBADF;
        const len = a.num('info_len');
        const out = this.read(a.get('info') as bigint, len);
        const layout = obj.kind === 'map' ? STRUCTS.bpf_map_info : obj.kind === 'prog' ? STRUCTS.bpf_prog_info : STRUCTS.bpf_btf_info;
        const info = new Struct('info', layout.fields, len, (v) => this.addressOf(v), out);
        info.set('id', obj.id);
        if (obj.kind === 'map') info.assign({ type: obj.type, key_size: obj.keySize, value_size: obj.valueSize, max_entries: obj.maxEntries, map_flags: obj.flags, name: obj.name });
        if (obj.kind === 'prog') info.assign({ type: obj.type, name: obj.name, xlated_prog_len: obj.insns.byteLength });
        return 0;
      }
      default:
        return -Errno.EINVAL;
    }
  }

  private mapElem(cmd: string, a: Struct): number {
    const m = this.mapOf(a.num('map_fd'));
    if (!m) return -Errno.EBADF;
    if (cmd === 'MAP_FREEZE') {
      m.frozen = true;
      return 0;
    }
    const keyAddr = a.get('key') as bigint;
    const key = keyAddr === 0n ? undefined : this.read(keyAddr, m.keySize);
    switch (cmd) {
      case 'MAP_LOOKUP_ELEM': {
        const v = key && m.entries.get(hexKey(key));
        if (!v) return -Errno.ENOENT;
        this.read(a.get('value') as bigint, m.valueSize).set(v);
        return 0;
      }
      case 'MAP_UPDATE_ELEM': {
        if (!key) return -Errno.EINVAL;
        if (m.frozen) return -Errno.EPERM;
        const k = hexKey(key);
        const flags = Number(a.get('flags'));
        const exists = m.entries.has(k);
        if (flags === 1 && exists) return -Errno.EEXIST;
        if (flags === 2 && !exists) return -Errno.ENOENT;
        if (!exists && m.entries.size >= m.maxEntries) return -Errno.E2BIG;
        m.entries.set(k, new Uint8Array(this.read(a.get('value') as bigint, m.valueSize)));
        return 0;
      }
      case 'MAP_DELETE_ELEM':
        return key && m.entries.delete(hexKey(key)) ? 0 : -Errno.ENOENT;
      default: {
        const keys = [...m.entries.keys()];
        const next = key ? keys[keys.indexOf(hexKey(key)) + 1] : keys[0];
        if (next === undefined || (key && !m.entries.has(hexKey(key)) && keys.length === 0)) return -Errno.ENOENT;
        this.read(a.get('next_key') as bigint, m.keySize).set(Buffer.from(next, 'hex'));
        return 0;
      }
    }
  }

  perfEventOpen(): number {
    return this.fd({ kind: 'perf', id: this.nextId++ });
  }

  ioctl(): number {
    return 0;
  }

  close(fd: number): number {
    return this.objects.delete(fd) ? 0 : -Errno.EBADF;
  }

  mmap(_fd: number, length: number): ArrayBuffer {
    return new ArrayBuffer(length);
  }

  munmap(): number {
    return 0;
  }

  poll(): PollHandle {
    return {};
  }

  pollStop(): void {}

  pollRef(): void {}
}
