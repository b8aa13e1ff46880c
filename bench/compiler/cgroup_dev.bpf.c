// C twin of examples/ts/cgroup-dev/cgroup_dev.bpf.ts: Rucy's example program, a device cgroup program that denies
// minor 9 (/dev/urandom is char 1:9) and allows everything else.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/dev")
int deny_minor9(struct bpf_cgroup_dev_ctx *ctx)
{
	return ctx->minor == 9 ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
