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

/** A test that needs the kernel: skips (or, under TSBPF_REQUIRE_KERNEL=1, fails) without bpf(). */
export function kernelTest(name: string, fn: (t: TestContext) => void | Promise<void>, options: { timeout?: number } = {}): void {
  if (kernelUnavailable && process.env.TSBPF_REQUIRE_KERNEL === '1') {
    test(name, () => {
      throw new Error(`kernel test could not run although CI found bpf() working: ${kernelUnavailable}`);
    });
    return;
  }
  test(name, { skip: kernelUnavailable, timeout: options.timeout ?? 60_000 }, fn);
}
