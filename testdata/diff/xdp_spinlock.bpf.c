// Differential fixture (test/compiler-diff): map values with a struct bpf_spin_lock. Updates
// under the lock, and bpf_map_update_elem with BPF_F_LOCK, which the kernel allows only for
// maps whose value has a lock (the `plain` map's answer is -EINVAL).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	struct bpf_spin_lock lock;
	__u32 flags;
	__u64 count;
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct val);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} rets SEC(".maps");

static __always_inline void ret_at(__u32 k, __s64 v)
{
	__s64 *p = bpf_map_lookup_elem(&rets, &k);
	if (p)
		*p = v;
}

SEC("xdp")
int xdp_spinlock(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 16 > data_end)
		return XDP_PASS;
	__u32 key = *(__u8 *)(data + 14) & 7;
	__u32 v = *(__u8 *)(data + 15);
	__u64 wide = v;
	ret_at(0, bpf_map_update_elem(&plain, &key, &wide, v & 1 ? BPF_F_LOCK : BPF_ANY));
	struct val *p = bpf_map_lookup_elem(&locked, &key);
	if (!p) {
		struct val init = { .flags = v, .count = 1, .sum = v };
		ret_at(1, bpf_map_update_elem(&locked, &key, &init, v & 2 ? BPF_F_LOCK : BPF_NOEXIST));
		return XDP_DROP;
	}
	bpf_spin_lock(&p->lock);
	p->count++;
	p->sum += v;
	bpf_spin_unlock(&p->lock);
	if (v & 4) {
		struct val next = { .flags = v, .count = 100, .sum = 0 };
		ret_at(2, bpf_map_update_elem(&locked, &key, &next, BPF_F_LOCK | BPF_EXIST));
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
