// A deliberate out-of-bounds read of a map value: the verifier rejects it, and the loader must
// name the C line below.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[4]);
} vals SEC(".maps");

SEC("socket")
int out_of_bounds(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);
	if (!v)
		return 0;
	return v[5]; /* OUT OF BOUNDS */
}

char LICENSE[] SEC("license") = "GPL";
