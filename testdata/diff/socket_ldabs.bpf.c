// Differential fixture (test/compiler-diff): a socket filter with legacy packet loads
// (ld_abs, ld_ind; big-endian; offsets from the network header; a load past the end ends the
// program with 0), __sk_buff reads, an array of counters, and a keep-length verdict.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void add(__u32 k, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&seen, &k);
	if (n)
		*n += v;
}

SEC("socket")
int socket_ldabs(struct __sk_buff *skb)
{
	add(0, 1);
	add(1, skb->len);
	add(2, skb->protocol);
	if (skb->protocol != __builtin_bswap16(ETH_P_IP))
		return 0;
	__u64 vihl = load_byte(skb, 0);
	add(3, vihl);
	if ((vihl >> 4) != 4)
		return 0;
	__u64 ihl = (vihl & 15) * 4;
	add(4, load_half(skb, 2));              // total length
	add(5, load_word(skb, 12));             // source address
	add(6, load_half(skb, ihl + 2));        // destination port (ld_ind, may be past the end)
	add(7, load_byte(skb, ihl + 13) & 0x3f); // TCP flags
	return skb->len > 64 ? 64 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
