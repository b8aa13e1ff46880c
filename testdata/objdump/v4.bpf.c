// ISA v4 (built with clang-19 -mcpu=v4): sdiv/smod, movsx, sign-extending loads, bswap, gotol.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

long sdata[4] = { -7, 3, -100, 9 };
signed char bytes[8] = { -1, 2, -3, 4, -5, 6, -7, 8 };
short halves[4] = { -300, 300, -1, 1 };

SEC("socket")
int v4_ops(struct __sk_buff *skb)
{
	long a = sdata[0], b = sdata[1];
	long q = a / b, r = a % b;
	int qi = (int)sdata[2] / (int)b, ri = (int)sdata[2] % (int)b;
	long s8 = bytes[skb->len & 7];
	long s16 = halves[skb->len & 3];
	int w = (int)(signed char)skb->mark;
	__u64 sw = __builtin_bswap64(skb->hash) ^ __builtin_bswap32(skb->mark) ^ __builtin_bswap16(skb->protocol);
	return (int)(q + r + qi + ri + s8 + s16 + w + sw);
}

char LICENSE[] SEC("license") = "GPL";
