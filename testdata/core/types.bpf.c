/* CO-RE fixture: type- and enum-based relocations (type exists/size/matches, local and target
 * type ids, enumerator existence and value, 64-bit enums), with local types whose sizes and
 * values differ from the kernel's, flavours, and types the kernel does not have. Values are
 * stored into `out` so the verifier keeps the relocated instructions. */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct list_head {
	struct list_head *next, *prev;
};

/* Same name as the kernel's list_head, but the kernel's 'next' is a pointer: no match. */
struct list_head___bad {
	int next;
};

/* Not in any kernel. */
struct tsbpf_no_such_type {
	int x;
};

typedef int pid_t;

/* Kernel: PIDTYPE_PID 0, TGID 1, PGID 2, SID 3, MAX 4. */
enum pid_type { PIDTYPE_SID = 1, PIDTYPE_MAX = 2 };
/* A flavour with an enumerator the kernel lacks. */
enum pid_type___x { PIDTYPE_BOGUS = 5 };

#if __clang_major__ >= 15
/* A 64-bit enum: the kernel's values are all above 2^63. */
enum perf_callchain_context {
	PERF_CONTEXT_KERNEL = 0x100000001ULL,
	PERF_CONTEXT_USER = 0x100000002ULL,
};
#endif

__u64 out[64];

/* A socket filter: no kernel memory, only relocated constants. */
SEC("socket")
int sock_consts(void *skb)
{
	out[0] = bpf_core_type_exists(struct task_struct);
	out[1] = bpf_core_type_exists(struct tsbpf_no_such_type);
	out[2] = bpf_core_type_size(struct task_struct);
	out[3] = bpf_core_type_size(struct tsbpf_no_such_type);
	out[4] = bpf_core_type_size(pid_t);
	out[5] = bpf_core_type_id_local(struct task_struct);
	out[6] = bpf_core_type_id_kernel(struct task_struct);
	out[7] = bpf_core_type_id_kernel(struct tsbpf_no_such_type);
	out[8] = bpf_core_type_exists(struct list_head___bad);
#if __clang_major__ >= 15
	out[9] = bpf_core_type_matches(struct list_head);
	out[10] = bpf_core_type_matches(struct list_head___bad);
	out[11] = bpf_core_type_matches(enum pid_type);
	out[12] = bpf_core_type_matches(enum pid_type___x);
	out[13] = bpf_core_type_matches(pid_t);
#endif
	return 0;
}

/* Enumerators: values move, one is missing (its read is poisoned and dead). */
SEC("tracepoint/syscalls/sys_enter_getpid")
int enum_values(void *ctx)
{
	out[16] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID);
	out[17] = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
	out[18] = bpf_core_enum_value(enum pid_type, PIDTYPE_MAX);
	out[19] = bpf_core_enum_value_exists(enum pid_type___x, PIDTYPE_BOGUS);
	if (bpf_core_enum_value_exists(enum pid_type___x, PIDTYPE_BOGUS))
		out[20] = bpf_core_enum_value(enum pid_type___x, PIDTYPE_BOGUS);
#if __clang_major__ >= 15
	out[21] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_USER);
	out[22] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	out[23] = bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_USER);
#endif
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
