// A strong .kconfig extern no kernel sets: loading must fail naming it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int CONFIG_TSBPF_DOES_NOT_EXIST __kconfig;

SEC("socket")
int needs_config(struct __sk_buff *skb)
{
	return CONFIG_TSBPF_DOES_NOT_EXIST;
}

char LICENSE[] SEC("license") = "GPL";
