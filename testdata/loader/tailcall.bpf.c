// A prog array with initial slots: the entry program tail-calls the slot chosen by a constant.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int slot_one(struct __sk_buff *skb);
int slot_three(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct __sk_buff *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&slot_one, [3] = (void *)&slot_three },
};

const volatile __u32 slot = 1;

SEC("socket")
int slot_one(struct __sk_buff *skb)
{
	return 11;
}

SEC("socket")
int slot_three(struct __sk_buff *skb)
{
	return 33;
}

SEC("socket")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, slot);
	return 99; /* the slot was empty */
}

char LICENSE[] SEC("license") = "GPL";
