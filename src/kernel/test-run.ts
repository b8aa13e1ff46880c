/**
 * BPF_PROG_TEST_RUN: runs a loaded program once (or `repeat` times) on input the caller gives,
 * without attaching it (kernel 4.12+; which program types support it varies: XDP, socket and tc
 * programs, flow dissector, raw tracepoints with a context, syscall programs, fentry/fexit).
 */
import { NotSupportedError } from '../errors.js';
import { bpf, Errno } from '../sys/index.js';

/** Input of a test run. */
export interface TestRunOptions {
  /** Packet data (XDP, skb programs: at least 14 bytes, an Ethernet header). */
  data?: Uint8Array;
  /** Context in (struct xdp_md, struct __sk_buff, raw_tp args as u64s, syscall ctx, ...). */
  ctx?: Uint8Array;
  /** Runs (the duration is the average); default 1. */
  repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU (1), BPF_F_TEST_XDP_LIVE_FRAMES (2), ... */
  flags?: number;
  /** The CPU to run on, with BPF_F_TEST_RUN_ON_CPU. */
  cpu?: number;
  /** Bytes to reserve for output data; default: input size + 256 (programs may grow packets). */
  dataOutSize?: number;
  /** Bytes to reserve for output context; default: the input context's size. */
  ctxOutSize?: number;
  /** XDP live frames: packets per batch. */
  batchSize?: number;
}

/** Output of a test run. */
export interface TestRunResult {
  /** The program's return value (r0), as u32. */
  retval: number;
  /** Average run time in ns. */
  duration: number;
  /** The packet after the run, when data was given. */
  dataOut: Uint8Array | undefined;
  /** The context after the run, when a context was given and the type writes it back. */
  ctxOut: Uint8Array | undefined;
}

/** BPF_F_TEST_RUN_ON_CPU (include/uapi/linux/bpf.h). */
export const TEST_RUN_ON_CPU = 1;

/**
 * Runs program `fd` once on `options.data` / `options.ctx`. Throws NotSupportedError when the
 * kernel cannot test-run this program type.
 *
 * @example
 * testRun(prog.fd.value, { data: new Uint8Array(64) }).retval; // 2 (XDP_PASS)
 */
export function testRun(fd: number, options: TestRunOptions = {}, subject?: string): TestRunResult {
  const data = options.data;
  const ctx = options.ctx;
  let dataOutSize = data ? (options.dataOutSize ?? data.byteLength + 256) : 0;
  let ctxOutSize = ctx ? (options.ctxOutSize ?? ctx.byteLength) : 0;
  for (let attempt = 0; ; attempt++) {
    const dataOut = dataOutSize > 0 ? new Uint8Array(dataOutSize) : undefined;
    const ctxOut = ctxOutSize > 0 ? new Uint8Array(ctxOutSize) : undefined;
    const { ret, attr } = bpf(
      'PROG_TEST_RUN',
      {
        prog_fd: fd,
        data_in: data && data.byteLength > 0 ? data : undefined,
        data_size_in: data?.byteLength,
        data_out: dataOut,
        data_size_out: dataOut?.byteLength,
        ctx_in: ctx && ctx.byteLength > 0 ? ctx : undefined,
        ctx_size_in: ctx?.byteLength,
        ctx_out: ctxOut,
        ctx_size_out: ctxOut?.byteLength,
        repeat: options.repeat,
        flags: options.flags,
        cpu: options.cpu,
        batch_size: options.batchSize,
      },
      { allow: [Errno.ENOSPC, Errno.ENOTSUPP, Errno.EOPNOTSUPP], subject },
    );
    if (ret === -Errno.ENOSPC && attempt === 0) {
      // The output was bigger than the buffer: the kernel says how big it is.
      dataOutSize = Math.max(dataOutSize, attr.num('data_size_out'));
      ctxOutSize = Math.max(ctxOutSize, attr.num('ctx_size_out'));
      continue;
    }
    if (ret === -Errno.ENOTSUPP || ret === -Errno.EOPNOTSUPP) {
      throw new NotSupportedError(`BPF_PROG_TEST_RUN${subject ? ` of ${subject}` : ''}`, 'this kernel cannot test-run programs of this type (or with these options)');
    }
    if (ret < 0) throw new NotSupportedError(`BPF_PROG_TEST_RUN${subject ? ` of ${subject}` : ''}`, 'the output does not fit the buffers given');
    const outLen = attr.num('data_size_out');
    const ctxLen = attr.num('ctx_size_out');
    return {
      retval: attr.num('retval'),
      duration: attr.num('duration'),
      dataOut: dataOut ? dataOut.slice(0, Math.min(outLen, dataOut.byteLength)) : undefined,
      ctxOut: ctxOut ? ctxOut.slice(0, Math.min(ctxLen, ctxOut.byteLength)) : undefined,
    };
  }
}
