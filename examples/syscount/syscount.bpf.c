// Syscalls per command, the bpftrace one-liner `tracepoint:raw_syscalls:sys_enter { @[comm] =
// count(); }` recreated with a raw tracepoint. `only_syscall` (set before load) restricts the
// count to one syscall number; -1 counts them all.
#include <linux/bpf.h>
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

const volatile long only_syscall = -1;

SEC("raw_tracepoint/sys_enter")
int syscount(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	if (only_syscall >= 0 && id != only_syscall)
		return 0;
	struct comm_key key = {};
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
