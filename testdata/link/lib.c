// A shared library with a function to uprobe and a USDT probe, for the ET_DYN library path.
#include <sys/sdt.h>

__attribute__((noinline)) long tsbpf_lib_mul(long a, long b) {
  DTRACE_PROBE2(tsbpf_lib, mul, a, b);
  return a * b;
}
