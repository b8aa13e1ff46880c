// USDT programs reading their arguments with libbpf's usdt.bpf.h (bpf_usdt_arg,
// bpf_usdt_arg_cnt, bpf_usdt_cookie). Results per (tgid, probe) in `hits`.
//
// usdt.bpf.h declares its helpers as global (__weak __hidden) functions, which the kernel only
// accepts with BTF func_info; these fixtures are loaded by tests without BTF, so the helpers are
// made static here. The maps and the spec layout are usdt.bpf.h's own.
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

struct key {
  __u32 tgid;
  __u32 probe;
};

struct hit {
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
  __type(key, struct key);
  __type(value, struct hit);
} hits SEC(".maps");

static __always_inline int record(struct pt_regs *ctx, __u32 probe) {
  struct key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .probe = probe};
  struct hit zero = {}, *h;
  long a0 = 0, a1 = 0, a2 = 0;

  h = bpf_map_lookup_elem(&hits, &k);
  if (!h) {
    bpf_map_update_elem(&hits, &k, &zero, BPF_NOEXIST);
    h = bpf_map_lookup_elem(&hits, &k);
    if (!h)
      return 0;
  }
  bpf_usdt_arg(ctx, 0, &a0);
  bpf_usdt_arg(ctx, 1, &a1);
  bpf_usdt_arg(ctx, 2, &a2);
  __sync_fetch_and_add(&h->count, 1);
  __sync_fetch_and_add(&h->sum0, a0);
  __sync_fetch_and_add(&h->sum1, a1);
  h->last2 = a2;
  h->arg_cnt = bpf_usdt_arg_cnt(ctx);
  h->cookie = bpf_usdt_cookie(ctx);
  return 0;
}

SEC("usdt")
int on_hit(struct pt_regs *ctx) { return record(ctx, 1); }

SEC("usdt")
int on_guarded(struct pt_regs *ctx) { return record(ctx, 2); }

SEC("usdt")
int on_mul(struct pt_regs *ctx) { return record(ctx, 3); }

char LICENSE[] SEC("license") = "GPL";
