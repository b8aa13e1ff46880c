// The baseline of bench/ringbuf.ts: libbpf's ring buffer consumer (ring_buffer__new +
// ring_buffer__poll) on the ring buffer map the bench passes as an inherited fd. It does per
// record what the tsbpf consumer does: read pid and seq_lo, count, check the order.
//
//   ringbuf-consumer <map fd>
//
// Prints "ready" once set up, consumes until SIGUSR1, then drains what is left and prints
// {"received":..,"out_of_order":..,"wakeups":..,"cpu_s":..}: CPU time (user + system, from
// getrusage) spent between "ready" and the end.
//
// Built by the bench: cc -O2 -o ringbuf-consumer ringbuf-consumer.c -lbpf
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

// The event of the bench's program: struct { u32 pid; u32 seq_lo; u64 ts; u64 seq; }.
struct event {
  uint32_t pid;
  uint32_t seq_lo;
  uint64_t ts;
  uint64_t seq;
};

static volatile sig_atomic_t stop;
static uint64_t received, out_of_order;
static int64_t last_seq = -1;
static uint32_t pid_xor;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int on_event(void *ctx, void *data, size_t len) {
  (void)ctx;
  const struct event *e = data;
  if (len < sizeof(*e)) return 0;
  pid_xor ^= e->pid;
  if ((int64_t)e->seq_lo <= last_seq) out_of_order++;
  last_seq = e->seq_lo;
  received++;
  return 0;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <ring buffer map fd>\n", argv[0]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGUSR1, &sa, NULL);

  struct ring_buffer *rb = ring_buffer__new(atoi(argv[1]), on_event, NULL, NULL);
  if (!rb) {
    fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
    return 1;
  }
  uint64_t wakeups = 0;
  double start = cpu_seconds();
  printf("ready\n");
  fflush(stdout);
  while (!stop) {
    int n = ring_buffer__poll(rb, 1000);
    if (n > 0) wakeups++;
    else if (n < 0 && n != -EINTR) {
      fprintf(stderr, "ring_buffer__poll: %s\n", strerror(-n));
      return 1;
    }
  }
  ring_buffer__consume(rb);
  double cpu = cpu_seconds() - start;
  printf("{\"received\":%llu,\"out_of_order\":%llu,\"wakeups\":%llu,\"cpu_s\":%.6f}\n", (unsigned long long)received,
         (unsigned long long)out_of_order, (unsigned long long)wakeups, cpu);
  fflush(stdout);
  ring_buffer__free(rb);
  return 0;
}
