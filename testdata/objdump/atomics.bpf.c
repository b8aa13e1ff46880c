// Every atomic the backend emits: add/or/and/xor with and without fetch, xchg, cmpxchg, 32/64.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 counter64 = 0;
__u32 counter32 = 0;
__u64 flags64 = 0;
__u32 flags32 = 0;
__u64 results[16];

SEC("tracepoint/syscalls/sys_enter_getpid")
int atomics(void *ctx)
{
	__sync_fetch_and_add(&counter64, 1);
	results[0] = __sync_fetch_and_add(&counter64, 2);
	results[1] = __sync_fetch_and_add(&counter32, 3);
	__sync_fetch_and_or(&flags64, 4);
	results[2] = __sync_fetch_and_or(&flags32, 5);
	__sync_fetch_and_and(&flags64, 6);
	results[3] = __sync_fetch_and_and(&flags32, 7);
	__sync_fetch_and_xor(&flags64, 8);
	results[4] = __sync_fetch_and_xor(&flags32, 9);
	results[5] = __sync_lock_test_and_set(&counter64, 10);
	results[6] = __sync_lock_test_and_set(&counter32, 11);
	results[7] = __sync_val_compare_and_swap(&counter64, 10, 12);
	results[8] = __sync_val_compare_and_swap(&counter32, 11, 13);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
