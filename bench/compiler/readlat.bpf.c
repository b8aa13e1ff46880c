// C twin of examples/ts/readlat/readlat.bpf.ts: a latency histogram of read(). sys_enter_read stores the start
// time per thread id; sys_exit_read takes it out, and counts the delta (ns) in the log2 slot
// of an array map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_read")
int read_enter(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int read_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *t0 = bpf_map_lookup_elem(&start, &tid);
	if (!t0)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *t0;
	bpf_map_delete_elem(&start, &tid);
	__u32 slot = 0;
	for (int i = 0; i < 63; i++) {
		if (delta <= 1)
			break;
		delta >>= 1;
		slot++;
	}
	__u64 *n = bpf_map_lookup_elem(&hist, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
