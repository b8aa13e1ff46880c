// Differential fixture (test/compiler-diff): a ring buffer filled from XDP. The packet says how
// many records to reserve (up to 255: a 4 KiB ring holds 170, so reservations fail when it is
// full) and which of them to discard; one more may be copied in with bpf_ringbuf_output.
// Failures and the last output's result are counted in globals.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rec {
	__u32 len;
	__u32 seq;
	__u8 head[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u32 seq;
__u32 failed;
__s64 last_output;

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 16 > data_end)
		return XDP_PASS;
	__u8 n = *(__u8 *)(data + 14);
	__u8 mode = *(__u8 *)(data + 15);
	__u32 len = data_end - data;
	for (int i = 0; i < 255; i++) {
		if (i >= n)
			break;
		struct rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (!r) {
			failed++;
			continue;
		}
		r->len = len;
		r->seq = seq++;
		__builtin_memcpy(r->head, data, 8);
		if ((mode >> (i & 7)) & 1)
			bpf_ringbuf_discard(r, 0);
		else
			bpf_ringbuf_submit(r, 0);
	}
	if (mode & 0x80) {
		struct rec o = { .len = len, .seq = seq };
		last_output = bpf_ringbuf_output(&events, &o, sizeof(o), 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
