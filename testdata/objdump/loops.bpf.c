// Bounded loops, unrolled and not, and a switch: exercises jumps of every kind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int count_loop(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = ctx->args[1];
	__u32 slot = 0;
	#pragma clang loop unroll(disable)
	for (int i = 0; i < 63; i++) {
		if (id >> i == 0)
			break;
		slot = i;
	}
	__u64 *v = bpf_map_lookup_elem(&hist, &slot);
	if (v)
		*v += 1;
	switch (id & 7) {
	case 0: return 10;
	case 1: return 20;
	case 3: return 30;
	case 5: return (int)(id / 3);
	default: return id % 11 > 5 ? -1 : 1;
	}
}

char LICENSE[] SEC("license") = "GPL";
