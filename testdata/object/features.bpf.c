// Every libbpf convention the object reader handles: BTF-defined maps with pinning, a prog
// array with initial slots, a map of maps with an inner map template and initial value,
// .kconfig externs, a kernel variable (ksym), a kfunc, globals, bpf-to-bpf calls, callbacks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u64);
	__type(value, struct { __u32 a; __u16 b; });
} pinned SEC(".maps");

int tail_one(void *ctx);
int tail_two(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [0] = (void *)&tail_one, [2] = (void *)&tail_two },
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;

const volatile __u32 answer = 42;
__u64 total;

static __noinline __u64 twice(__u64 x)
{
	return x * 2 + total;
}

__noinline int global_helper(int x)
{
	return (int)twice(x) + 1;
}

static long count_cb(__u32 index, void *data)
{
	*(__u64 *)data += twice(index);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tail_one(void *ctx)
{
	return global_helper(answer);
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tail_two(void *ctx)
{
	__u64 acc = 0;
	bpf_loop(4, count_cb, &acc, 0);
	total += acc;
	return 0;
}

SEC("raw_tp/sys_enter")
int entry(void *ctx)
{
	__u32 zero = 0;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	if (m && CONFIG_BPF_SYSCALL)
		total += LINUX_KERNEL_VERSION + (long)&bpf_prog_active;
	if (bpf_task_acquire)
		total++;
	bpf_tail_call(ctx, &jumps, 0);
	return global_helper(1);
}

char LICENSE[] SEC("license") = "GPL";
