// Programs for Collection.attachAll(): a tracepoint, a raw tracepoint and a tp_btf program that
// auto-attach by their section names, counting per process, and a bare SEC("usdt") program
// (attached by the test) reading its arguments with libbpf's usdt.bpf.h.
//
// libbpf 1.1's usdt.bpf.h defines bpf_usdt_arg() as a global function whose first statement
// writes through its `long *res` argument; kernels that treat pointer arguments of global
// functions as nullable (6.18 here) reject that, so the helpers are made static, as in
// usdt.bpf.c. Maps and spec layout are the header's own.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#undef __weak
#define __weak
#undef __hidden
#define __hidden static __attribute__((unused))
#include <bpf/usdt.bpf.h>

#define COUNTS(name)                      \
  struct {                                \
    __uint(type, BPF_MAP_TYPE_HASH);      \
    __uint(max_entries, 4096);            \
    __type(key, __u32);                   \
    __type(value, __u64);                 \
  } name SEC(".maps")

COUNTS(tp_counts);
COUNTS(raw_counts);
COUNTS(exec_counts);

struct usdt_hit {
  __u64 count;
  __s64 sum0;
  __s64 sum1;
  __s64 last2;
  __s64 arg_cnt;
  __s64 cookie;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, struct usdt_hit);
} usdt_hits SEC(".maps");

static __always_inline void bump(void *map) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  __u64 one = 1, *v = bpf_map_lookup_elem(map, &tgid);
  if (v)
    __sync_fetch_and_add(v, 1);
  else
    bpf_map_update_elem(map, &tgid, &one, BPF_NOEXIST);
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx) {
  bump(&tp_counts);
  return 0;
}

SEC("raw_tp/sys_enter")
int raw_getppid(struct bpf_raw_tracepoint_args *ctx) {
  if (ctx->args[1] == 110) /* __NR_getppid on x86_64 */
    bump(&raw_counts);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int on_exec(unsigned long long *ctx) {
  bump(&exec_counts);
  return 0;
}

SEC("usdt")
int BPF_USDT(on_hit, long i, long value, int k) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct usdt_hit zero = {}, *h = bpf_map_lookup_elem(&usdt_hits, &tgid);
  if (!h) {
    bpf_map_update_elem(&usdt_hits, &tgid, &zero, BPF_NOEXIST);
    h = bpf_map_lookup_elem(&usdt_hits, &tgid);
    if (!h)
      return 0;
  }
  __sync_fetch_and_add(&h->count, 1);
  __sync_fetch_and_add(&h->sum0, i);
  __sync_fetch_and_add(&h->sum1, value);
  h->last2 = k;
  h->arg_cnt = bpf_usdt_arg_cnt(ctx);
  h->cookie = bpf_usdt_cookie(ctx);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
