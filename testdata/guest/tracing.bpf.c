/* Trampoline and BTF-typed programs: fentry and fexit on do_unlinkat (arguments read directly
 * through their BTF types, the return value in fexit) and tp_btf on sched_process_exec (the
 * task and the linux_binprm of an exec). Guest only for fentry/fexit: the host refuses
 * trampolines. */
#include "common.h"

struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));

struct linux_binprm {
	const char *filename;
} __attribute__((preserve_access_index));

SEEN_MAP(fentry_seen);
SEEN_MAP(fexit_seen);
SEEN_MAP(exec_seen);

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_fentry, int dfd, struct filename *name)
{
	struct seen *s = seen_of(&fentry_seen, current_tgid());
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->arg = dfd;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), name->name);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(unlink_fexit, int dfd, struct filename *name, int ret)
{
	struct seen *s = seen_of(&fexit_seen, current_tgid());
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->arg = dfd;
	s->ret = ret;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), name->name);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	struct seen *s = seen_of(&exec_seen, p->tgid);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->arg = old_pid;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), bprm->filename);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
