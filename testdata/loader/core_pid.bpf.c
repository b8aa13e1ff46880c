// CO-RE: a raw tracepoint reads task->pid and task->real_parent->tgid with BPF_CORE_READ, from
// a struct declared here with only the fields it needs (offsets come from the kernel's BTF).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

const volatile int parent_tgid = 0;
int exec_pid;
int exec_count;

SEC("raw_tp/sched_process_exec")
int on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (void *)ctx->args[0];
	if (BPF_CORE_READ(p, real_parent, tgid) != parent_tgid)
		return 0;
	exec_pid = BPF_CORE_READ(p, pid);
	exec_count++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
