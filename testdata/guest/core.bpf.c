/* CO-RE across kernels: one object, loaded unchanged on the host (6.18) and in the 6.1 guest,
 * reads fields of task_struct and mm_struct whose offsets differ between the two, and records
 * them for the process calling getppid(). The test compares them with /proc/PID/stat. The local
 * declarations hold only the fields read, in an order of their own: every offset comes from
 * the running kernel's BTF at load time. */
#include "common.h"

struct mm_struct {
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long start_brk, start_stack;
	unsigned long arg_start, arg_end, env_start, env_end;
} __attribute__((preserve_access_index));

struct task_struct {
	char comm[16];
	struct mm_struct *mm;
	struct task_struct *real_parent;
	int tgid;
	int pid;
} __attribute__((preserve_access_index));

struct snapshot {
	__u64 calls;
	__u32 pid, tgid, ppid, comm_size;
	__u64 start_code, end_code, start_data, end_data;
	__u64 start_brk, start_stack;
	__u64 arg_start, arg_end, env_start, env_end;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct snapshot);
} snapshots SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int snapshot_task(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct snapshot *s = bpf_map_lookup_elem(&snapshots, &tgid);
	if (!s) {
		struct snapshot zero = {};
		bpf_map_update_elem(&snapshots, &tgid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&snapshots, &tgid);
		if (!s)
			return 0;
	}
	__sync_fetch_and_add(&s->calls, 1);
	s->tgid = tgid;
	s->pid = BPF_CORE_READ(t, pid);
	s->ppid = BPF_CORE_READ(t, real_parent, tgid);
	s->comm_size = bpf_core_field_size(t->comm);
	BPF_CORE_READ_STR_INTO(&s->comm, t, comm);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	s->start_code = BPF_CORE_READ(mm, start_code);
	s->end_code = BPF_CORE_READ(mm, end_code);
	s->start_data = BPF_CORE_READ(mm, start_data);
	s->end_data = BPF_CORE_READ(mm, end_data);
	s->start_brk = BPF_CORE_READ(mm, start_brk);
	s->start_stack = BPF_CORE_READ(mm, start_stack);
	s->arg_start = BPF_CORE_READ(mm, arg_start);
	s->arg_end = BPF_CORE_READ(mm, arg_end);
	s->env_start = BPF_CORE_READ(mm, env_start);
	s->env_end = BPF_CORE_READ(mm, env_end);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
