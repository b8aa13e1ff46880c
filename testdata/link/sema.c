// A USDT probe guarded by a semaphore: it only fires while a tracer has incremented
// tsbpf_guarded_semaphore (the kernel does, through the uprobe's ref_ctr_offset).
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short tsbpf_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) int tsbpf_guarded_fire(long i) {
  if (__builtin_expect(tsbpf_guarded_semaphore, 0)) {
    DTRACE_PROBE1(tsbpf, guarded, i);
    return 1;
  }
  return 0;
}
