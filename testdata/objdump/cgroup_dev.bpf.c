// Rucy's example, in C: a cgroup device program that denies minor 9 (/dev/urandom).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/dev")
int deny_urandom(struct bpf_cgroup_dev_ctx *ctx)
{
	if (ctx->minor == 9)
		return 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
