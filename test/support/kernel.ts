/**
 * Kernel tests: tests that make real system calls. They run when bpf() works here (root, or
 * CAP_BPF) and skip with the reason when the kernel refuses bpf() itself. With
 * TSBPF_REQUIRE_KERNEL=1 (set by .ci/run after probing bpf() on the CI machine) a refused
 * bpf() fails them instead: the kernel suite may never be skipped silently where it can run.
 */
import { test, type TestContext } from 'node:test';
import { bpf, SyscallError, syscalls } from '../../src/sys/index.js';
import { MapType } from '../../src/uapi/enums.js';
import { NotSupportedError } from '../../src/errors.js';
import { missingFeature, type KernelFeature } from './features.js';

function probe(): string | undefined {
  try {
    const { ret } = bpf('MAP_CREATE', { map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1 });
    syscalls().close(ret);
    return undefined;
  } catch (err) {
    if (err instanceof SyscallError || err instanceof NotSupportedError) return `bpf() is refused here: ${err.message}`;
    throw err;
  }
}

/** Why kernel tests cannot run here, or undefined when they can. */
export const kernelUnavailable: string | undefined = probe();

/**
 * The kernel release tests run under (TSBPF_GUEST, set by the guest's init: '6.1'), or undefined
 * on the host. Guests are emulated (qemu TCG), several times slower than the host.
 */
export const guestKernel: string | undefined = process.env.TSBPF_GUEST || undefined;

/** How much longer things take here than on the host: timeouts are multiplied by it. */
export const slowdown = guestKernel ? 5 : 1;

/**
 * How many cycles a leak or stress loop runs: `n` on the host, a tenth (at least 20) under
 * emulation, where each cycle costs ~10x. A per-cycle leak shows after the first few cycles;
 * the host run keeps the long loops.
 */
export function cycles(n: number): number {
  return guestKernel ? Math.max(20, Math.ceil(n / 10)) : n;
}

/** Options of {@link kernelTest}. */
export interface KernelTestOptions {
  /** Milliseconds on the host (default 60 s); multiplied by {@link slowdown} under emulation. */
  timeout?: number;
  /**
   * Kernel features the test needs (test/support/features.ts): on a kernel without one the test
   * skips, naming the feature, the release that brought it and the probe that said no.
   */
  requires?: readonly KernelFeature[];
}

/** A test that needs the kernel: skips (or, under TSBPF_REQUIRE_KERNEL=1, fails) without bpf(). */
export function kernelTest(name: string, fn: (t: TestContext) => void | Promise<void>, options: KernelTestOptions = {}): void {
  if (kernelUnavailable && process.env.TSBPF_REQUIRE_KERNEL === '1') {
    test(name, () => {
      throw new Error(`kernel test could not run although CI found bpf() working: ${kernelUnavailable}`);
    });
    return;
  }
  const skip = kernelUnavailable ?? (options.requires?.length ? missingFeature(options.requires) : undefined);
  test(name, { skip, timeout: (options.timeout ?? 60_000) * slowdown }, fn);
}
