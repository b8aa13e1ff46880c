// A test binary for uprobes and USDT: functions to probe (in the executable and in a shared
// library), USDT probes with arguments in registers and a constant, and a probe guarded by a
// semaphore (sema.c). Usage: target MODE N [wait]
//   getppid N   make N getppid() system calls
//   call N      call tsbpf_target_add, fire tsbpf:hit, the guarded probe, and the library N times
//   wait        read a line from stdin first (so a test can attach with this pid)
// Prints "SUM FIRED": FIRED counts the guarded probe's firings (the semaphore was set).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/sdt.h>

long tsbpf_lib_mul(long a, long b);
int tsbpf_guarded_fire(long i);

__attribute__((noinline)) int tsbpf_target_add(int a, int b) {
  __asm__ volatile("" ::: "memory");
  return a + b;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s getppid|call N [wait]\n", argv[0]);
    return 2;
  }
  long n = atol(argv[2]);
  if (argc > 3 && strcmp(argv[3], "wait") == 0) {
    char buf[16];
    if (read(0, buf, sizeof buf) < 0) return 3;
  }
  long sum = 0, fired = 0;
  if (strcmp(argv[1], "getppid") == 0) {
    for (long i = 0; i < n; i++) sum += syscall(SYS_getppid) > 0;
  } else if (strcmp(argv[1], "call") == 0) {
    for (long i = 0; i < n; i++) {
      sum += tsbpf_target_add((int)i, 1);
      DTRACE_PROBE3(tsbpf, hit, i, i * 10, 7);
      fired += tsbpf_guarded_fire(i);
      sum += tsbpf_lib_mul(i, 2);
    }
  } else {
    return 2;
  }
  printf("%ld %ld\n", sum, fired);
  return 0;
}
