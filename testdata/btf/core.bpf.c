/* CO-RE fixture: every relocation kind clang emits, so .BTF.ext has func_info, line_info and
 * core_relo records (see test/btf/ext.test.ts). */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum task_state { TASK_RUNNING = 0, TASK_DEAD = 64 };

struct mm_struct {
	unsigned long start_code;
	int map_count;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	unsigned int flags : 3;
	int prio : 7;
	struct mm_struct *mm;
	char comm[16];
	union {
		long state;
		unsigned long __state;
	};
} __attribute__((preserve_access_index));

typedef struct task_struct task_t;

int seen;

SEC("tp/sched/sched_switch")
int handle(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	long sum = 0;

	sum += BPF_CORE_READ(t, mm, map_count);              /* FIELD_BYTE_OFFSET */
	sum += bpf_core_field_exists(t->tgid);               /* FIELD_EXISTS */
	sum += bpf_core_field_size(t->comm);                 /* FIELD_BYTE_SIZE */
	sum += __builtin_preserve_field_info(t->prio, BPF_FIELD_SIGNED); /* FIELD_SIGNED */
	sum += BPF_CORE_READ_BITFIELD_PROBED(t, flags);      /* LSHIFT_U64 / RSHIFT_U64 */
	sum += bpf_core_type_exists(struct mm_struct);       /* TYPE_EXISTS */
	sum += bpf_core_type_size(task_t);                   /* TYPE_SIZE */
	sum += bpf_core_type_id_local(struct mm_struct);     /* TYPE_ID_LOCAL */
	sum += bpf_core_type_id_kernel(struct task_struct);  /* TYPE_ID_TARGET */
	sum += bpf_core_enum_value_exists(enum task_state, TASK_DEAD); /* ENUMVAL_EXISTS */
	sum += bpf_core_enum_value(enum task_state, TASK_DEAD);        /* ENUMVAL_VALUE */
#ifdef __clang_major__
#if __clang_major__ >= 15
	sum += bpf_core_type_matches(struct mm_struct);      /* TYPE_MATCHES */
#endif
#endif
	sum += BPF_CORE_READ(t, state);
	seen = sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
