/**
 * Helpers a kernel program calls: `import { helpers as bpf } from 'tsbpf/lang'`, then
 * `bpf.pid()`, `bpf.printk('%d\n', x)`. Each compiles to a BPF helper call (named in its doc);
 * the compiler checks that the program type may call it. In Node they throw KernelOnlyError.
 */
import { kernelOnly } from './runtime.js';
import type { TaskStruct } from './kernel.js';
import type { bool, CharArray, Comm, i64, Ptr, u32, u64, u8 } from './types.js';

/** A pointer or address a probe read takes. */
export type Address = Ptr<unknown> | u64;

/** A `struct bpf_spin_lock` field of a map value (`lock: SpinLock`). */
export interface SpinLock {
  readonly __spinLock?: never;
}

const k = (name: string) => (): never => kernelOnly(`helpers.${name}`);

/** The helper functions of the dialect. */
export interface Helpers {
  /** The process id (tgid) of the current task: bpf_get_current_pid_tgid() >> 32. */
  pid(): u32;
  /** The thread id of the current task: the low half of bpf_get_current_pid_tgid(). */
  tid(): u32;
  /** bpf_get_current_pid_tgid(): tgid << 32 | pid. */
  pidTgid(): u64;
  /** The real user id of the current task (bpf_get_current_uid_gid() & 0xffffffff). */
  uid(): u32;
  /** The real group id of the current task (bpf_get_current_uid_gid() >> 32). */
  gid(): u32;
  /** bpf_get_current_uid_gid(): gid << 32 | uid. */
  uidGid(): u64;
  /** The current task's command name in a new buffer (bpf_get_current_comm). */
  comm(): Comm;
  /** Fills `buf` with the current task's command name (bpf_get_current_comm); 0 or a negative errno. */
  getCurrentComm<N extends number>(buf: CharArray<N>): i64;
  /** Monotonic time in ns, without suspend (bpf_ktime_get_ns). */
  ktimeNs(): u64;
  /** Monotonic time in ns, including suspend (bpf_ktime_get_boot_ns, Linux 5.8). */
  bootNs(): u64;
  /** Coarse monotonic time in ns (bpf_ktime_get_coarse_ns, Linux 5.11). */
  coarseNs(): u64;
  /** jiffies (bpf_jiffies64, Linux 5.5). */
  jiffies(): u64;
  /**
   * Writes a line to the trace pipe (bpf_trace_printk): a literal format with up to three
   * integer arguments (%d %i %u %x %ld %lu %lx %lld %llu %llx %p %s %%); `%s` takes a CharArray.
   */
  printk(format: string, ...args: Array<number | bigint | string>): i64;
  /** The current CPU (bpf_get_smp_processor_id). */
  smpProcessorId(): u32;
  /** The current NUMA node (bpf_get_numa_node_id). */
  numaNodeId(): u32;
  /** A pseudo-random number (bpf_get_prandom_u32). */
  prandom(): u32;
  /** The cgroup v2 id of the current task (bpf_get_current_cgroup_id, Linux 4.18). */
  cgroupId(): u64;
  /** The current task as a pointer read through probe reads (bpf_get_current_task). */
  getCurrentTask(): Ptr<TaskStruct>;
  /** The current task as a BTF pointer, read with direct loads (bpf_get_current_task_btf, Linux 5.11; tracing programs). */
  getCurrentTaskBtf(): Ptr<TaskStruct>;
  /** Copies sizeof(dst) bytes of kernel memory at `src` into `dst` (bpf_probe_read_kernel); 0 or a negative errno. */
  probeReadKernel<T>(dst: T, src: Address): i64;
  /** Copies sizeof(dst) bytes of user memory at `src` into `dst` (bpf_probe_read_user); 0 or a negative errno. */
  probeReadUser<T>(dst: T, src: Address): i64;
  /** Copies a NUL-terminated kernel string (bpf_probe_read_kernel_str): its length with the NUL, or a negative errno. */
  probeReadKernelStr<N extends number>(dst: CharArray<N>, src: Address): i64;
  /** Copies a NUL-terminated user string (bpf_probe_read_user_str): its length with the NUL, or a negative errno. */
  probeReadUserStr<N extends number>(dst: CharArray<N>, src: Address): i64;
  /** Reads a `T` of kernel memory at `src` (bpf_probe_read_kernel into a new value; zero when unreadable). */
  readKernel<T>(src: Ptr<T>): T;
  /** Reads a `T` of user memory at `src` (bpf_probe_read_user into a new value; zero when unreadable). */
  readUser<T>(src: Ptr<T>): T;
  /** Sends signal `sig` to the current process (bpf_send_signal, Linux 5.3); 0 or a negative errno. */
  sendSignal(sig: u32): i64;
  /** Takes a spin lock in a map value (bpf_spin_lock). */
  spinLock(lock: SpinLock): void;
  /** Releases it (bpf_spin_unlock). */
  spinUnlock(lock: SpinLock): void;
  /** Copies `len` bytes at `offset` of the packet into `dst` (bpf_skb_load_bytes); 0 or a negative errno. */
  skbLoadBytes<T>(ctx: unknown, offset: u32, dst: T): i64;
  /** Redirects the packet to interface `ifindex` (bpf_redirect): the action to return. */
  redirect(ifindex: u32, flags?: u64): i64;
  /** Attach cookie of the link that runs the program (bpf_get_attach_cookie, Linux 5.15). */
  attachCookie(ctx: unknown): u64;
}

/** The helper functions (see {@link Helpers}). */
export const helpers: Helpers = {
  pid: k('pid'),
  tid: k('tid'),
  pidTgid: k('pidTgid'),
  uid: k('uid'),
  gid: k('gid'),
  uidGid: k('uidGid'),
  comm: k('comm'),
  getCurrentComm: k('getCurrentComm'),
  ktimeNs: k('ktimeNs'),
  bootNs: k('bootNs'),
  coarseNs: k('coarseNs'),
  jiffies: k('jiffies'),
  printk: k('printk'),
  smpProcessorId: k('smpProcessorId'),
  numaNodeId: k('numaNodeId'),
  prandom: k('prandom'),
  cgroupId: k('cgroupId'),
  getCurrentTask: k('getCurrentTask'),
  getCurrentTaskBtf: k('getCurrentTaskBtf'),
  probeReadKernel: k('probeReadKernel'),
  probeReadUser: k('probeReadUser'),
  probeReadKernelStr: k('probeReadKernelStr'),
  probeReadUserStr: k('probeReadUserStr'),
  readKernel: k('readKernel'),
  readUser: k('readUser'),
  sendSignal: k('sendSignal'),
  spinLock: k('spinLock'),
  spinUnlock: k('spinUnlock'),
  skbLoadBytes: k('skbLoadBytes'),
  redirect: k('redirect'),
  attachCookie: k('attachCookie'),
};

/**
 * Whether the C string in `a` equals `b` (a CharArray or a string literal): bytes up to the first
 * NUL, as strcmp() == 0. Compiled inline; in Node it compares the strings.
 */
export function strEq(a: string, b: string): bool {
  const cut = (s: string): string => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);
  return cut(a) === cut(b);
}

/** Copies the C string `src` (a CharArray or a string literal) into `dst`, NUL-padded and truncated to fit. */
export function strCopy<N extends number>(_dst: CharArray<N>, _src: string): void {
  kernelOnly('strCopy');
}

/** Byte `i` of a C string buffer (0 beyond its end). */
export function byteAt(s: string, i: number): u8 {
  return i >= 0 && i < s.length ? s.charCodeAt(i) & 0xff : 0;
}

/** Sets byte `i` of a C string buffer (ignored beyond its end). */
export function setByte<N extends number>(_s: CharArray<N>, _i: number, _value: u8): void {
  kernelOnly('setByte');
}

/**
 * Runs `body(i)` for i = 0, 1, ... up to `max` - 1 (a constant), stopping early when it returns
 * true: a loop the verifier can bound. Compiled inline (`max` must be small enough for the
 * verifier to walk every iteration).
 */
export function boundedLoop(max: number, body: (i: u32) => boolean | void): void {
  for (let i = 0; i < max; i++) if (body(i) === true) break;
}

/** Swaps a 16-bit value between host (little-endian) and network byte order (bpf_htons/bpf_ntohs). */
export function be16(x: number): u32 {
  return ((x & 0xff) << 8) | ((x >> 8) & 0xff);
}
/** Swaps a 32-bit value between host (little-endian) and network byte order (bpf_htonl/bpf_ntohl). */
export function be32(x: number): u32 {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff)) >>> 0;
}
/** Swaps a 64-bit value between host (little-endian) and network byte order. */
export function be64(x: bigint): u64 {
  let v = BigInt.asUintN(64, x);
  let r = 0n;
  for (let i = 0; i < 8; i++) {
    r = (r << 8n) | (v & 0xffn);
    v >>= 8n;
  }
  return r;
}
