// Differential fixture (test/compiler-diff): XDP parsing with direct packet access. Counts
// packets per EtherType in a hash map, routes IPv4 like a router would (TTL decrement with an
// incremental checksum update, MACs swapped, XDP_TX), drops expiring packets, passes the rest.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u64);
} by_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline void count(void *map, const void *key)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(map, key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

static __always_inline int verdict(int v)
{
	__u32 k = v;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &k);
	if (n)
		*n += 1;
	return v;
}

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return verdict(XDP_ABORTED);
	__u16 proto = bpf_ntohs(eth->h_proto);
	count(&by_proto, &proto);
	if (proto != ETH_P_IP)
		return verdict(XDP_PASS);
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return verdict(XDP_PASS);
	if (ip->ttl <= 1)
		return verdict(XDP_DROP);
	// RFC 1624 incremental update: the TTL is the high byte of the 16-bit word at offset 8.
	__u32 sum = (__u16)~bpf_ntohs(ip->check);
	sum += (__u16)~(ip->ttl << 8);
	ip->ttl--;
	sum += ip->ttl << 8;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = bpf_htons(~sum & 0xffff);
	unsigned char tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return verdict(XDP_TX);
}

char LICENSE[] SEC("license") = "GPL";
