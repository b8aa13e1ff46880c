// Kernel symbols: kfuncs called from a tp_btf program, a typeless ksym resolved from
// /proc/kallsyms, and a __weak kfunc the kernel lacks (dead code once resolved to 0).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_tsbpf_no_such_kfunc(void) __ksym __weak;
extern const void _stext __ksym;

const volatile __u32 parent_tgid = 0;
__u64 stext_addr;
__u32 acquired;
__u32 missing_called;

SEC("tp_btf/sched_process_exec")
int on_exec(__u64 *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	if ((bpf_get_current_pid_tgid() >> 32) == 0)
		return 0;
	struct task_struct *t = bpf_task_acquire(p);
	if (t) {
		acquired++;
		bpf_task_release(t);
	}
	stext_addr = (__u64)&_stext;
	if (bpf_tsbpf_no_such_kfunc) {
		bpf_tsbpf_no_such_kfunc();
		missing_called++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
