// Differential fixture (test/compiler-diff): a tc classifier. Reads __sk_buff fields (len,
// protocol, mark, priority, cb), parses IPv4 with TCP/UDP ports by direct packet access,
// accounts flows in an LRU hash (struct key, struct value), rewrites the TOS byte of UDP
// packets, sets mark, priority and cb, and drops SSH.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

struct stats {
	__u64 packets;
	__u64 bytes;
	__u32 last_mark;
	__u32 last_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow);
	__type(value, struct stats);
} flows SEC(".maps");

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 mark = skb->mark;
	skb->cb[0] = skb->len;
	skb->cb[1] = skb->protocol;
	skb->cb[2] = skb->cb[3] ^ skb->priority;
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	struct flow key = { .saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol };
	__u32 hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || hlen > 60)
		return TC_ACT_UNSPEC;
	__u16 *ports = (void *)ip + hlen;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) && (void *)(ports + 2) <= data_end) {
		key.sport = bpf_ntohs(ports[0]);
		key.dport = bpf_ntohs(ports[1]);
	}
	struct stats *st = bpf_map_lookup_elem(&flows, &key);
	if (st) {
		st->packets++;
		st->bytes += skb->len;
		st->last_mark = mark;
		st->last_len = skb->len;
	} else {
		struct stats init = { 1, skb->len, mark, skb->len };
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
	}
	if (ip->protocol == IPPROTO_UDP)
		ip->tos = (ip->tos & 3) | 0xb8; // EF
	skb->mark = mark + key.dport;
	skb->priority = key.proto;
	return key.dport == 22 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
