// Differential fixture (test/compiler-diff): bounded loops over the packet (FNV-1a over up to
// 64 payload bytes, checked against data_end every iteration; a nested loop counting set
// bits), a per-CPU array histogram of byte values by high nibble, and the hash kept in a
// global (.bss).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} nibbles SEC(".maps");

__u32 last_hash;
__u64 total_bits;

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hash = 2166136261u;
	__u32 bits = 0;
	for (int i = 0; i < 64; i++) {
		__u8 *p = data + 14 + i;
		if ((void *)(p + 1) > data_end)
			break;
		__u8 b = *p;
		hash = (hash ^ b) * 16777619u;
		for (int j = 0; j < 8; j++)
			bits += (b >> j) & 1;
		__u32 k = b >> 4;
		__u64 *n = bpf_map_lookup_elem(&nibbles, &k);
		if (n)
			*n += 1;
	}
	last_hash = hash;
	total_bits += bits;
	return hash & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
