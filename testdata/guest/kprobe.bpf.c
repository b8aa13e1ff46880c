/* kprobe and kretprobe on int do_unlinkat(int dfd, struct filename *name): per process, how many
 * calls, the directory fd and file name of the last one (read through pt_regs and
 * bpf_probe_read_kernel, as kprobes must), and the last return value. Guest only: the host
 * kernel has no kprobes. */
#include <linux/ptrace.h>
#include "common.h"

SEEN_MAP(kprobe_seen);
SEEN_MAP(kretprobe_seen);

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	struct seen *s = seen_of(&kprobe_seen, current_tgid());
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->arg = dfd;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), BPF_CORE_READ(name, name));
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_return, int ret)
{
	struct seen *s = seen_of(&kretprobe_seen, current_tgid());
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->ret = ret;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
