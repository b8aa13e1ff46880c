/* CO-RE fixture: field relocations against the running kernel's task_struct, mm_struct, pt_regs
 * and a tracepoint context. The local layouts below deliberately differ from the kernel's
 * (fewer fields, other sizes, a renamed field behind a flavour) so every relocation has to move
 * something. Each program only loads values and stores them into `out`, so the verifier keeps
 * the relocated instructions (test/btf/core-libbpf.test.ts compares them with libbpf's).
 * Fields the kernel lacks are only read behind bpf_core_field_exists()/field_size() checks:
 * libbpf poisons those instructions and the verifier drops them as dead code. */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct mm_struct {
	unsigned long start_code; /* the kernel has both inside an anonymous struct */
	int map_count;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int __state;
	unsigned long flags; /* unsigned int in the kernel: direct loads shrink from u64 to u32 */
	int prio;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	unsigned int in_execve : 1;
	unsigned int in_iowait : 1;
	unsigned int sched_reset_on_fork : 1;
} __attribute__((preserve_access_index));

/* Kernels before 5.14 had 'long state' instead of '__state'. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

/* A local flavour with its own layout: matches the kernel's task_struct by essential name. */
struct task_struct___x {
	int tgid;
	int pid;
} __attribute__((preserve_access_index));

/* A flavour whose prio is wider and signed: a direct load cannot be resized (libbpf poisons). */
struct task_struct___wide {
	long prio;
} __attribute__((preserve_access_index));

struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

/* The kernel's version starts with a struct trace_entry (8 bytes). */
struct trace_event_raw_sys_enter {
	long id;
	unsigned long args[6];
} __attribute__((preserve_access_index));

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

__u64 out[64];

/* BPF_CORE_READ chains through bpf_probe_read_kernel: every hop is an ALU relocation. */
SEC("kprobe/do_unlinkat")
int probe_chain(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_struct___x *x = (void *)t;
	char c = 0;

	out[0] = BPF_CORE_READ(t, real_parent, tgid);
	out[1] = BPF_CORE_READ(t, mm, map_count); /* target field inside an anonymous struct */
	out[2] = BPF_CORE_READ(t, mm, start_code);
	out[3] = bpf_core_field_size(t->comm);
	out[4] = bpf_core_field_exists(t->in_iowait);
	out[5] = BPF_CORE_READ_BITFIELD_PROBED(t, in_iowait);
	out[6] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	out[7] = bpf_core_field_offset(t->pid);
	if (bpf_core_field_exists(((struct task_struct___old *)t)->state))
		out[8] = BPF_CORE_READ((struct task_struct___old *)t, state);
	else
		out[8] = BPF_CORE_READ(t, __state);
	out[9] = BPF_CORE_READ(x, pid);
	out[10] = __builtin_preserve_field_info(t->prio, BPF_FIELD_SIGNED);
	bpf_core_read(&c, 1, &t->comm[3]); /* array element: access string 0:N:3 */
	out[11] = c;
	out[12] = bpf_core_field_size(t->flags);
	out[13] = bpf_core_field_exists(x->tgid);
	return 0;
}

/* Direct loads through a BTF pointer: LDX relocations, including a size change. */
SEC("kprobe/do_rmdir")
int direct_btf(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_struct___wide *w = (void *)t;

	out[16] = t->pid;
	out[17] = t->flags; /* u64 load of a u32 field: libbpf rewrites the size */
	out[18] = t->comm[2];
	out[19] = BPF_CORE_READ_BITFIELD(t, in_execve);
	out[20] = t->real_parent->tgid;
	if (bpf_core_field_size(w->prio) == 8)
		out[21] = w->prio; /* signed and resized: poisoned, dead on this kernel */
	return 0;
}

/* A tracepoint's context read at relocated offsets. */
SEC("tracepoint/raw_syscalls/sys_enter")
int tp_ctx(struct trace_event_raw_sys_enter *ctx)
{
	out[24] = ctx->id;
	out[25] = ctx->args[1];
	return 0;
}

/* A raw tracepoint reading pt_regs through the CO-RE probe-read helpers. */
SEC("raw_tp/sys_enter")
int raw_regs(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (void *)ctx->args[0];

	out[28] = BPF_CORE_READ(regs, orig_ax);
	out[29] = BPF_CORE_READ(regs, si);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
