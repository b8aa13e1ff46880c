// Trampoline program kinds (fentry, fexit, LSM) and an iterator: where the kernel refuses
// trampolines, loading must fail with a typed error naming the refused kind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 calls;

SEC("fentry/do_unlinkat")
int on_unlink(__u64 *ctx)
{
	calls++;
	return 0;
}

SEC("fexit/do_unlinkat")
int after_unlink(__u64 *ctx)
{
	calls++;
	return 0;
}

SEC("lsm/file_open")
int check_open(__u64 *ctx)
{
	return 0;
}

SEC("iter/task")
int each_task(__u64 *ctx)
{
	calls++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
