// Maps of several kinds, .rodata constants, .data and .bss globals, a ring buffer event.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 uid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, char[16]);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

const volatile __u32 target_pid = 0;
const volatile char prefix[4] = "ab";
__u64 seen = 1;
__u64 dropped;

SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32;
	if (target_pid && pid != target_pid)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		dropped++;
		return 0;
	}
	e->pid = pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__u64 one = 1, *c = bpf_map_lookup_elem(&counts, e->comm);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, e->comm, &one, BPF_NOEXIST);
	if (e->comm[0] == prefix[0])
		seen++;
	bpf_ringbuf_submit(e, 0);
	__u32 zero = 0;
	struct event *s = bpf_map_lookup_elem(&scratch, &zero);
	if (s)
		s->pid = pid;
	bpf_printk("exec %d", pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
