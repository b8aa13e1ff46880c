/**
 * Models of kernel helper functions, keyed by their ids from include/uapi/linux/bpf.h (see
 * src/uapi/enums.ts). They return what the kernel's helpers return, negative errnos included,
 * and reach memory only through the VM's bounds-checked address space.
 */
import { VmError, VmErrorKind } from './errors.js';
import { FuncId } from '../uapi/enums.js';
import { ArrayMap } from './maps/array.js';
import { HashMap } from './maps/hash.js';
import { RingBuffer } from './maps/ringbuf.js';
import { Errno, type MapModel } from './maps/types.js';
import { type AddressSpace, RegionKind } from './memory.js';
import { formatPrintk } from './printk.js';
import type { Helper } from './runtime.js';

/** Bytes at a fixed address that probe_read_kernel/user can read. */
export interface ProbeRegion {
  address: bigint;
  bytes: Uint8Array;
}

/** The world the helpers see: clock, randomness, the current task, probe-able memory. */
export interface HelperEnvironment {
  /** ktime_get_ns and friends (default: process.hrtime.bigint). */
  clock?: () => bigint;
  /** Seed of get_prandom_u32 (default 1): runs are reproducible. */
  seed?: number;
  /** Current task: pid (thread id), tgid (process id), uid, gid and comm (16 bytes max). */
  pid?: number;
  tgid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
  /** Memory probe_read_kernel(_str) can read besides the VM's own regions. */
  kernelMemory?: readonly ProbeRegion[];
  /** Memory probe_read_user(_str) can read. */
  userMemory?: readonly ProbeRegion[];
  /** Called with each bpf_trace_printk message (they are also collected in `vm.trace`). */
  onTrace?: (message: string) => void;
}

/** What a helper can use of the VM (the Vm class implements it). */
export interface HelperHost {
  readonly memory: AddressSpace;
  /** Id of the CPU the program runs on. */
  readonly cpu: number;
  readonly env: HelperEnvironment;
  /** bpf_trace_printk output of the VM, one entry per call. */
  readonly trace: string[];
  /** The map a pointer from ld_imm64 (map fd) stands for; VmError otherwise. */
  mapAt(pointer: bigint): MapModel;
  /** The next value of the VM's pseudo-random generator (unsigned 32-bit). */
  random(): number;
  /** Ends the program at once with `r0` as its result. */
  terminate(r0: bigint): never;
}

const neg = (errno: number): bigint => BigInt(-errno);

/** Bytes as a latin1 string (no spread: formats may be long). */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function helperError(vm: HelperHost, detail: string): VmError {
  return new VmError(VmErrorKind.HELPER, detail, { pc: vm.memory.pc, instruction: vm.memory.describe(vm.memory.pc) });
}

function flags32(v: bigint): number {
  return v > 0xffffffffn ? -1 : Number(v);
}

function mapValueAddress(vm: HelperHost, map: MapModel, value: Uint8Array): bigint {
  return vm.memory.addressOf(value, RegionKind.MAP_VALUE, `value of map ${map.name || '(unnamed)'}`);
}

/** Reads from probe regions, then from the VM's memory; undefined when unreadable. */
function probe(vm: HelperHost, regions: readonly ProbeRegion[] | undefined, addr: bigint, size: number): Uint8Array | undefined {
  for (const r of regions ?? []) {
    const start = addr - r.address;
    if (start >= 0n && start + BigInt(size) <= BigInt(r.bytes.length)) return r.bytes.subarray(Number(start), Number(start) + size);
  }
  if (vm.memory.accessible(addr, size)) return vm.memory.slice(addr, size);
  return undefined;
}

function probeString(vm: HelperHost, regions: readonly ProbeRegion[] | undefined, addr: bigint, max: number): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const b = probe(vm, regions, addr + BigInt(i), 1);
    if (b === undefined) return undefined;
    out.push(b[0]!);
    if (b[0] === 0) break;
  }
  return Uint8Array.from(out);
}

function probeRead(which: 'kernel' | 'user' | 'any'): Helper<HelperHost> {
  return (vm, dst, size, src) => {
    const n = Number(size);
    const out = vm.memory.slice(dst, n, true);
    const regions = which === 'kernel' ? vm.env.kernelMemory : which === 'user' ? vm.env.userMemory : [...(vm.env.kernelMemory ?? []), ...(vm.env.userMemory ?? [])];
    const bytes = probe(vm, regions, src, n);
    if (bytes === undefined) {
      out.fill(0);
      return neg(Errno.EFAULT);
    }
    out.set(bytes);
    return 0n;
  };
}

function probeReadStr(which: 'kernel' | 'user' | 'any'): Helper<HelperHost> {
  return (vm, dst, size, src) => {
    const n = Number(size);
    if (n === 0) return 0n;
    const out = vm.memory.slice(dst, n, true);
    const regions = which === 'kernel' ? vm.env.kernelMemory : which === 'user' ? vm.env.userMemory : [...(vm.env.kernelMemory ?? []), ...(vm.env.userMemory ?? [])];
    const s = probeString(vm, regions, src, n);
    if (s === undefined) {
      out.fill(0);
      return neg(Errno.EFAULT);
    }
    out.set(s);
    if (s[s.length - 1] !== 0) out[n - 1] = 0;
    return BigInt(Math.min(s.length, n));
  };
}

function ringbufOf(vm: HelperHost, ptr: bigint): RingBuffer {
  const map = vm.mapAt(ptr);
  if (!(map instanceof RingBuffer)) throw helperError(vm, `map ${map.name || '(unnamed)'} is not a ring buffer`);
  return map;
}

function ringbufCommit(discard: boolean): Helper<HelperHost> {
  return (vm, data) => {
    const region = vm.memory.regionOf(data);
    const owner = region?.owner;
    if (!region || !(owner instanceof RingBuffer) || BigInt.asUintN(32, data) !== 0n || !owner.commit(region.bytes, discard)) {
      throw helperError(vm, `0x${data.toString(16)} is not a reserved ring buffer record`);
    }
    vm.memory.unmap(region);
    return 0n;
  };
}

const now = (vm: HelperHost): bigint => (vm.env.clock ?? process.hrtime.bigint)();

/**
 * The standard helper registry: map_lookup/update/delete_elem (1-3), probe_read (4),
 * ktime_get_ns (5, and the boot/coarse/tai variants), trace_printk (6), get_prandom_u32 (7),
 * get_smp_processor_id (8), get_current_pid_tgid (14), get_current_uid_gid (15),
 * get_current_comm (16), get_numa_node_id (42), probe_read_str (45), map_push/pop/peek_elem
 * (87-89), probe_read_user/kernel(_str) (112-115), ringbuf_output/reserve/submit/discard/query
 * (130-134), spin_lock/spin_unlock (93-94, no-ops: the VM is single-threaded) and
 * map_lookup_percpu_elem (195). Returns a fresh Map the caller may extend.
 */
export function standardHelpers(): Map<number, Helper<HelperHost>> {
  const h = new Map<number, Helper<HelperHost>>();
  h.set(FuncId.map_lookup_elem, (vm, mapPtr, keyPtr) => {
    const map = vm.mapAt(mapPtr);
    const value = map.lookup(vm.memory.read(keyPtr, map.keySize), vm.cpu);
    return value ? mapValueAddress(vm, map, value) : 0n;
  });
  h.set(FuncId.map_update_elem, (vm, mapPtr, keyPtr, valuePtr, flags) => {
    const map = vm.mapAt(mapPtr);
    const key = vm.memory.read(keyPtr, map.keySize);
    const value = vm.memory.read(valuePtr, map.valueSize);
    const f = flags32(flags);
    return f < 0 ? neg(Errno.EINVAL) : BigInt(map.update(key, value, f, vm.cpu));
  });
  h.set(FuncId.map_delete_elem, (vm, mapPtr, keyPtr) => {
    const map = vm.mapAt(mapPtr);
    return BigInt(map.delete(vm.memory.read(keyPtr, map.keySize)));
  });
  h.set(FuncId.map_lookup_percpu_elem, (vm, mapPtr, keyPtr, cpu) => {
    const map = vm.mapAt(mapPtr);
    if (!(map instanceof HashMap || map instanceof ArrayMap) || !map.perCpu) return 0n;
    if (cpu >= BigInt(map.slots)) return 0n;
    const value = map.lookup(vm.memory.read(keyPtr, map.keySize), Number(cpu));
    return value ? mapValueAddress(vm, map, value) : 0n;
  });
  h.set(FuncId.map_push_elem, (vm, mapPtr, valuePtr, flags) => {
    const map = vm.mapAt(mapPtr);
    if (!map.push) return neg(Errno.EINVAL);
    const f = flags32(flags);
    return f < 0 ? neg(Errno.EINVAL) : BigInt(map.push(vm.memory.read(valuePtr, map.valueSize), f));
  });
  for (const [id, take] of [
    [FuncId.map_pop_elem, true],
    [FuncId.map_peek_elem, false],
  ] as const) {
    h.set(id, (vm, mapPtr, valuePtr) => {
      const map = vm.mapAt(mapPtr);
      if (!map.pop || !map.peek) return neg(Errno.EINVAL);
      const out = vm.memory.slice(valuePtr, map.valueSize, true);
      const v = take ? map.pop() : map.peek();
      if (v === undefined) {
        // kernel/bpf/queue_stack_maps.c zeroes the value of an empty queue or stack.
        out.fill(0);
        return neg(Errno.ENOENT);
      }
      out.set(v);
      return 0n;
    });
  }
  for (const id of [FuncId.ktime_get_ns, FuncId.ktime_get_boot_ns, FuncId.ktime_get_coarse_ns, FuncId.ktime_get_tai_ns]) {
    h.set(id, (vm) => now(vm));
  }
  h.set(FuncId.trace_printk, (vm, fmtPtr, fmtSize, a1, a2, a3) => {
    const size = Number(fmtSize);
    const raw = vm.memory.read(fmtPtr, size);
    const nul = raw.indexOf(0);
    if (size === 0 || nul < 0) return neg(Errno.EINVAL);
    const fmt = latin1(raw.subarray(0, nul));
    const message = formatPrintk(fmt, [a1, a2, a3], (addr) => {
      const s = probeString(vm, vm.env.kernelMemory, addr, 1024);
      return s === undefined ? undefined : latin1(s.subarray(0, s.indexOf(0) < 0 ? s.length : s.indexOf(0)));
    });
    vm.trace.push(message);
    vm.env.onTrace?.(message);
    return BigInt(message.length);
  });
  h.set(FuncId.get_prandom_u32, (vm) => BigInt(vm.random()));
  h.set(FuncId.get_smp_processor_id, (vm) => BigInt(vm.cpu));
  h.set(FuncId.get_numa_node_id, () => 0n);
  h.set(FuncId.get_current_pid_tgid, (vm) => (BigInt((vm.env.tgid ?? 1) >>> 0) << 32n) | BigInt((vm.env.pid ?? 1) >>> 0));
  h.set(FuncId.get_current_uid_gid, (vm) => (BigInt((vm.env.gid ?? 0) >>> 0) << 32n) | BigInt((vm.env.uid ?? 0) >>> 0));
  h.set(FuncId.get_current_comm, (vm, buf, size) => {
    const n = Number(size);
    const out = vm.memory.slice(buf, n, true);
    const comm = new TextEncoder().encode(vm.env.comm ?? 'tsbpf').subarray(0, 15);
    out.fill(0);
    if (n > 0) out.set(comm.subarray(0, n - 1));
    return 0n;
  });
  h.set(FuncId.probe_read, probeRead('any'));
  h.set(FuncId.probe_read_kernel, probeRead('kernel'));
  h.set(FuncId.probe_read_user, probeRead('user'));
  h.set(FuncId.probe_read_str, probeReadStr('any'));
  h.set(FuncId.probe_read_kernel_str, probeReadStr('kernel'));
  h.set(FuncId.probe_read_user_str, probeReadStr('user'));
  h.set(FuncId.ringbuf_output, (vm, rbPtr, data, size, flags) => {
    const rb = ringbufOf(vm, rbPtr);
    return BigInt(rb.output(vm.memory.read(data, Number(size)), flags32(flags)));
  });
  h.set(FuncId.ringbuf_reserve, (vm, rbPtr, size, flags) => {
    const rb = ringbufOf(vm, rbPtr);
    if (flags !== 0n || size > 0xffffffffn) return 0n;
    const rec = rb.reserve(Number(size));
    if (!rec) return 0n;
    const region = vm.memory.map(rec, { kind: RegionKind.HELPER, name: `ring buffer record of ${rb.name || '(unnamed)'}`, transient: true });
    region.owner = rb;
    return region.base;
  });
  h.set(FuncId.ringbuf_submit, ringbufCommit(false));
  h.set(FuncId.ringbuf_discard, ringbufCommit(true));
  h.set(FuncId.ringbuf_query, (vm, rbPtr, flags) => ringbufOf(vm, rbPtr).query(flags32(flags)));
  // The VM runs one program at a time on one thread: a lock is always free. The lock word is
  // checked for access like any other memory and left as it is.
  for (const id of [FuncId.spin_lock, FuncId.spin_unlock]) {
    h.set(id, (vm, lockPtr) => {
      vm.memory.require(lockPtr, 4, true);
      return 0n;
    });
  }
  return h;
}

/**
 * The helpers of the bpf_conformance suite's plugins: helper 5 returns r1 (ubpf's `unwind`
 * helper, which also ends the program when it returns 0).
 */
export function conformanceHelpers(): Map<number, Helper<HelperHost>> {
  return new Map<number, Helper<HelperHost>>([
    [
      5,
      (vm, r1) => {
        if (r1 === 0n) vm.terminate(0n);
        return r1;
      },
    ],
  ]);
}
