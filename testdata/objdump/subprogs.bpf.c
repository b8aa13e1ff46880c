// BPF-to-BPF calls: static and global subprograms, a callback passed to bpf_loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline __u64 mix(__u64 a, __u64 b)
{
	return (a ^ (b << 7)) * 0x9e3779b97f4a7c15ULL;
}

__noinline int global_sum(int a, int b, int c)
{
	return a + b * 2 + c * 3;
}

static int loop_cb(__u32 index, void *data)
{
	__u64 *acc = data;
	*acc = mix(*acc, index);
	return 0;
}

SEC("xdp")
int xdp_mix(struct xdp_md *ctx)
{
	__u64 acc = ctx->data_end - ctx->data;
	bpf_loop(16, loop_cb, &acc, 0);
	if (global_sum((int)acc, ctx->ingress_ifindex, 3) < 0)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	__u8 proto = 0;
	bpf_skb_load_bytes(skb, 23, &proto, 1);
	return proto == 6 ? skb->len : 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
