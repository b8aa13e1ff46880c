/**
 * BPF iterators (SEC("iter/...")): programs the kernel runs once per object of a kind — every
 * task, every map element, every socket — when user space reads the iterator's fd; what they
 * write with bpf_seq_printf()/bpf_seq_write() is what the read returns.
 */
import { readSync } from 'node:fs';
import type { BpfMap } from '../kernel/map.js';
import type { Program } from '../kernel/program.js';
import { bpf, Fd } from '../sys/index.js';
import { AttachType } from '../uapi/enums.js';
import { openCgroup } from './cgroup.js';
import { expectInteger, expectProgram } from './check.js';
import { InvalidAttachError } from './errors.js';
import { BpfLink } from './link.js';

/** enum bpf_cgroup_iter_order (include/uapi/linux/bpf.h). */
export const CgroupIterOrder = { self: 1, 'descendants-pre': 2, 'descendants-post': 3, 'ancestors-up': 4 } as const;

/** Options of {@link iter}: what to iterate over, for iterators that take a parameter. */
export interface IterOptions {
  /** bpf_map_elem, bpf_sk_storage_map, sockmap iterators: the map. */
  map?: BpfMap;
  /** cgroup iterator: the start cgroup (a cgroup v2 path) and the walk order (default self). */
  cgroup?: { path: string; order?: keyof typeof CgroupIterOrder };
  /** task, task_file, task_vma iterators: only this thread, or this process's threads (5.19+). */
  task?: { tid?: number; pid?: number };
  /** A name for the target, shown by toString() (default: the program's name). */
  target?: string;
}

/** An attached iterator: each open() starts a new walk; read() runs it to the end. */
export class IterLink extends BpfLink {
  /** A new iterator fd (BPF_ITER_CREATE): reading it runs the program over the objects. */
  open(): Fd {
    this.checkOpen('open');
    return new Fd(bpf('ITER_CREATE', { link_fd: this.fd.value }, { subject: `iterator ${this.target}` }).ret);
  }

  /** Runs the iterator once and returns everything the program wrote. */
  readBytes(): Uint8Array {
    using fd = this.open();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const n = readSync(fd.value, buf, 0, buf.byteLength, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  /** Runs the iterator once and returns its output as text (UTF-8). */
  read(): string {
    return new TextDecoder().decode(this.readBytes());
  }
}

/**
 * Attaches an iterator program (BPF_PROG_TYPE_TRACING with expected attach type
 * BPF_TRACE_ITER, loaded with the BTF id of bpf_iter_<target>, see {@link attachBtfId}) with
 * BPF_LINK_CREATE. Nothing runs until the link is read: `link.read()`, or `link.open()` for an
 * fd to read or to hand to another process. Pinned on a bpffs, `cat` of the pin runs it too.
 *
 * Valid targets: the bpf_iter_* functions in /sys/kernel/btf/vmlinux (task, task_file,
 * task_vma, bpf_map, bpf_map_elem, bpf_prog, bpf_link, tcp, udp, unix, netlink, ipv6_route,
 * cgroup, ksym, ...).
 *
 * Minimum kernel: 5.8 (task, map), later for others (cgroup 6.1).
 *
 * Dropping the Link does not detach it: the registry holds it until close() or process exit.
 *
 * @example
 * using link = iter(taskIterProgram); console.log(link.read());
 */
export function iter(program: Program, options: IterOptions = {}): IterLink {
  expectProgram('iter', program, ['TRACING'], ['TRACE_ITER']);
  const given = [options.map, options.cgroup, options.task].filter((x) => x !== undefined).length;
  if (given > 1) throw new InvalidAttachError('iter', 'give at most one of map, cgroup or task');
  // union bpf_iter_link_info: map { u32 map_fd }, cgroup { u32 order; u32 cgroup_fd; u64 cgroup_id }, task { u32 tid; u32 pid; u32 pid_fd }
  let info: Uint8Array | undefined;
  let cg: Fd | undefined;
  try {
    if (given) {
      info = new Uint8Array(16);
      const v = new DataView(info.buffer);
      if (options.map) v.setUint32(0, options.map.fd.value, true);
      if (options.cgroup) {
        cg = openCgroup(options.cgroup.path, 'iter');
        const order = CgroupIterOrder[options.cgroup.order ?? 'self'];
        if (order === undefined) throw new InvalidAttachError('iter', `unknown cgroup order '${options.cgroup.order}'`);
        v.setUint32(0, order, true);
        v.setUint32(4, cg.value, true);
      }
      if (options.task) {
        if (options.task.tid !== undefined) expectInteger('iter', 'tid', options.task.tid, 1);
        if (options.task.pid !== undefined) expectInteger('iter', 'pid', options.task.pid, 1);
        v.setUint32(0, options.task.tid ?? 0, true);
        v.setUint32(4, options.task.pid ?? 0, true);
      }
    }
    const target = options.target ?? program.name;
    const { ret } = bpf(
      'LINK_CREATE',
      { prog_fd: program.fd.value, attach_type: AttachType.TRACE_ITER, iter_info: info, iter_info_len: info?.byteLength },
      { subject: `iterator ${target}` },
    );
    return new IterLink('iter', target, new Fd(ret));
  } finally {
    cg?.close();
  }
}
