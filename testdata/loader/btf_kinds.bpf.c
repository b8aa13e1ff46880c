// BTF kinds older kernels do not know (DECL_TAG, TYPE_TAG, FLOAT, ENUM64), for the loader's
// sanitisation tests. Built with clang-19 (clang 14 emits no ENUM64).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __utag(x) __attribute__((btf_type_tag(x)))

enum big { BIG = 0x1ffffffffULL };

struct tagged {
	int a __tag("member");
	int __utag("user") *p;
	double f;
	enum big e;
} __tag("struct");

struct tagged g = { .a = 7 };
float ratio = 1.5f;

static __noinline int helper(int x) __tag("func")
{
	return x + 1;
}

SEC("socket")
int kinds(struct __sk_buff *skb)
{
	return helper(g.a) + (g.e == BIG) + (*(int *)&ratio != 0);
}

char LICENSE[] SEC("license") = "GPL";
