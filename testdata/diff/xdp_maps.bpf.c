// Differential fixture (test/compiler-diff): map operations and the errors they return. Each
// packet is a list of 3-byte commands (op, key, value) run against a 4-entry hash map (update
// with BPF_ANY / NOEXIST / EXIST / F_LOCK / bad flags, delete, lookup), a per-CPU hash, a 4-entry queue
// and a 3-entry stack (push, with BPF_EXIST overwriting, pop, peek); every return value goes
// into a log array, in order.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u8);
	__type(value, __u32);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} per_op SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 3);
	__type(value, __u16);
} lifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

__u32 next_log;

static __always_inline void record(__s64 ret)
{
	__u32 at = next_log++ & 31;
	__s64 *slot = bpf_map_lookup_elem(&results, &at);
	if (slot)
		*slot = ret;
}

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int done = 0;
	for (int i = 0; i < 16; i++) {
		__u8 *cmd = data + 14 + 3 * i;
		if ((void *)(cmd + 3) > data_end)
			break;
		__u8 op = cmd[0] % 12;
		__u8 key = cmd[1] & 7;
		__u32 value = cmd[2];
		__u32 opk = op;
		__u64 one = 1, *n = bpf_map_lookup_elem(&per_op, &opk);
		if (n)
			*n += 1;
		else
			bpf_map_update_elem(&per_op, &opk, &one, BPF_NOEXIST);
		__s64 ret;
		switch (op) {
		case 0: ret = bpf_map_update_elem(&small, &key, &value, BPF_ANY); break;
		case 1: ret = bpf_map_update_elem(&small, &key, &value, BPF_NOEXIST); break;
		case 2: ret = bpf_map_update_elem(&small, &key, &value, BPF_EXIST); break;
		case 3: ret = bpf_map_update_elem(&small, &key, &value, value & 15); break;
		case 4: ret = bpf_map_delete_elem(&small, &key); break;
		case 5: {
			__u32 *v = bpf_map_lookup_elem(&small, &key);
			ret = v ? (__s64)*v : -1;
			if (v)
				*v += value;
			break;
		}
		case 6: ret = bpf_map_push_elem(&fifo, &value, 0); break;
		case 7: ret = bpf_map_push_elem(&fifo, &value, BPF_EXIST); break;
		case 8: {
			__u32 out = 0xdead;
			ret = bpf_map_pop_elem(&fifo, &out);
			ret = ret * 0x10000 + out;
			break;
		}
		case 9: {
			__u16 v16 = value * 257;
			ret = bpf_map_push_elem(&lifo, &v16, value & 1 ? BPF_EXIST : 0);
			break;
		}
		case 10: {
			__u16 out = 0xbeef;
			ret = bpf_map_pop_elem(&lifo, &out);
			ret = ret * 0x10000 + out;
			break;
		}
		default: {
			__u32 out = 0xfeed;
			ret = bpf_map_peek_elem(&fifo, &out);
			ret = ret * 0x10000 + out;
		}
		}
		record(ret);
		done++;
	}
	return done > 3 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
