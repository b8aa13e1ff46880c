// Maps of maps: an array of maps whose slots start out holding two inner maps.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

const volatile __u32 which = 1;
__u64 seen;

SEC("socket")
int read_inner(struct __sk_buff *skb)
{
	__u32 zero = 0, k = which;
	void *m = bpf_map_lookup_elem(&outer, &k);
	if (!m)
		return 1;
	__u64 *v = bpf_map_lookup_elem(m, &zero);
	if (!v)
		return 2;
	seen = *v;
	*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
