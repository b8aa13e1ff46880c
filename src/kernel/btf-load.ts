/**
 * BPF_BTF_LOAD: hands BTF to the kernel, which checks it and returns an fd that maps, programs
 * (func_info, line_info) and BTF-typed map values refer to. Loading tries without a log first
 * and asks for the kernel's reasons only when it refuses, as program loading does.
 */
import { cString } from '../bytes/reader.js';
import { TsbpfError } from '../errors.js';
import { bpf, bpfAttr, Errno, errnoName, Fd, newAttr } from '../sys/index.js';

/** The kernel refused BTF: `log` holds its reasons (e.g. "[12] VAR foo type_id=3 Invalid linkage"). */
export class BtfLoadError extends TsbpfError {
  override name = 'BtfLoadError';
  constructor(
    readonly errno: number,
    /** The kernel's BTF verifier log. */
    readonly log: string,
    /** What the BTF belonged to, e.g. "object 'exec.bpf.o'". */
    readonly subject: string,
  ) {
    const last = log.trimEnd().split('\n').slice(-3).join(' | ');
    super(`BPF_BTF_LOAD (${subject}) failed: ${errnoName(errno)}${last ? `: ${last}` : ''}`);
  }
}

const LOG_SIZES = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024];

/**
 * Loads raw BTF into the kernel (kernel 4.18+). Throws a BtfLoadError with the kernel's log when
 * it is rejected, a PermissionError without privileges.
 *
 * @example
 * using btf = loadBtf(prepareObjectBtf(spec.btf!, spec, ALL_BTF_FEATURES).bytes);
 */
export function loadBtf(bytes: Uint8Array, subject = 'BTF'): Fd {
  const first = bpf('BTF_LOAD', { btf: bytes, btf_size: bytes.byteLength }, { allow: [Errno.EINVAL, Errno.E2BIG, Errno.ENOSPC, Errno.EFAULT], subject, hints: { btf: `[${bytes.byteLength} bytes]` } });
  if (first.ret >= 0) return new Fd(first.ret);
  let errno = -first.ret;
  let log = '';
  for (const size of LOG_SIZES) {
    const buf = new Uint8Array(size);
    const attr = newAttr('BTF_LOAD').assign({ btf: bytes, btf_size: bytes.byteLength, btf_log_buf: buf, btf_log_size: size, btf_log_level: 1 });
    const again = bpfAttr('BTF_LOAD', attr, { allow: 'all', subject, hints: { btf: `[${bytes.byteLength} bytes]`, btf_log_buf: `[${size} bytes]` } });
    if (again.ret >= 0) return new Fd(again.ret); // accepted the second time: nothing to report
    errno = -again.ret;
    log = cString(buf);
    if (errno !== Errno.ENOSPC) break;
  }
  throw new BtfLoadError(errno, log, subject);
}
