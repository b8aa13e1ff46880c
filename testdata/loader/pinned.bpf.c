// A map pinned by name: a second load reuses it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u64);
} tsbpf_shared SEC(".maps");

SEC("socket")
int bump(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 one = 1, *v = bpf_map_lookup_elem(&tsbpf_shared, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&tsbpf_shared, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
