// Global data: .rodata constants set before load change what the programs return; .data and
// .bss variables are read and written after load (see test/kernel/collection-globals.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
	__u16 a;
	__s8 b;
};

struct point {
	int x;
	int y;
};

enum color { RED, GREEN = 5, BLUE };

const volatile __u32 verdict = 2; /* XDP_PASS */
const volatile __u64 magic = 0;
const volatile char tag[8] = "none";
const volatile struct pair pair = { 1, -1 };
const volatile _Bool strict = 0;

__u64 hits;                        /* .bss */
__u32 last_len = 7;                /* .data */
struct point where = { 3, 4 };     /* .data */
__s64 history[3];                  /* .bss */
enum color color = GREEN;          /* .data */
char label[12] = "start";          /* .data */

SEC("xdp")
int xdp_verdict(struct xdp_md *ctx)
{
	hits++;
	last_len = ctx->data_end - ctx->data;
	where.x += 1;
	history[hits & 1] = -(__s64)hits;
	label[0] = 'S';
	if (magic == 0xdeadbeefcafeULL)
		return XDP_DROP;
	if (tag[0] == 'x')
		return XDP_TX;
	if (strict && color != GREEN)
		return XDP_ABORTED;
	return verdict;
}

SEC("socket")
int sock_const(struct __sk_buff *skb)
{
	return verdict * 100 + pair.a * 10 + pair.b;
}

char LICENSE[] SEC("license") = "GPL";
