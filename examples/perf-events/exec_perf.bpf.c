// execve events through a perf buffer (one ring per CPU), the pre-ring-buffer way; the reader
// reports records the kernel had to drop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct exec_event {
	__u32 pid;
	__u32 cpu;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Puts struct exec_event into the object's BTF, so user space can decode records by it. */
struct exec_event *exec_event_type __attribute__((unused));

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_perf(void *ctx)
{
	struct exec_event e = {};
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
