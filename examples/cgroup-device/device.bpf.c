// A device controller for a cgroup v2: deny /dev/urandom (char 1:9) to every process in the
// cgroup, allow everything else. Rucy's first example, in C.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Denials, for the curious: incremented on every refused access. */
__u64 denied = 0;

SEC("cgroup/dev")
int deny_urandom(struct bpf_cgroup_dev_ctx *ctx)
{
	short type = ctx->access_type & 0xffff;
	if (type == BPF_DEVCG_DEV_CHAR && ctx->major == 1 && ctx->minor == 9) {
		__sync_fetch_and_add(&denied, 1);
		return 0;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
