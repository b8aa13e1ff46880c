// C twin of examples/ts/syscount/syscount.bpf.ts: syscalls per command from the raw tracepoint sys_enter, in a hash
// map comm -> count. Same logic as the dialect's HashMap.increment: lookup and atomic add,
// else insert 1 with BPF_NOEXIST, and when another CPU inserted first (-EEXIST) look up again
// and add.
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>

struct comm_key {
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct comm_key);
	__type(value, __u64);
} counts SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int syscount(struct bpf_raw_tracepoint_args *ctx)
{
	struct comm_key key = {};
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) == -EEXIST) {
		n = bpf_map_lookup_elem(&counts, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
