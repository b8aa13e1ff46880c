// CO-RE relocations: field offsets and existence, type existence and size, enum values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___min {
	int pid;
	int tgid;
	struct task_struct___min *real_parent;
	char comm[16];
} __attribute__((preserve_access_index));

enum pid_type___min { PIDTYPE_PID___min, PIDTYPE_TGID___min };

struct sched_switch_args {
	unsigned long long pad;
	char prev_comm[16];
	int prev_pid;
};

SEC("tp_btf/sched_process_exit")
int exit_parent(__u64 *ctx)
{
	struct task_struct___min *task = (void *)bpf_get_current_task();
	int ppid = BPF_CORE_READ(task, real_parent, tgid);
	int has = bpf_core_field_exists(task->tgid);
	int sz = bpf_core_field_size(task->comm);
	int tex = bpf_core_type_exists(struct task_struct___min);
	int ev = bpf_core_enum_value(enum pid_type___min, PIDTYPE_TGID___min);
	bpf_printk("%d %d %d", ppid, has + sz, tex + ev);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
