/* BTF fixture: one of every kind and layout quirk the BTF tests check (see test/btf/). */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

typedef unsigned long long u64_t;

enum color { RED, GREEN = 5, BLUE = -1 };                       /* signed enum */
enum big { BIG_SMALL = 1, BIG_LARGE = 0x1234567890ULL };         /* ENUM64 */
enum neg64 { NEG_MIN = -0x7fffffffffffffffLL - 1, NEG_ONE = -1 }; /* signed ENUM64 */
enum __attribute__((packed)) tiny { TINY_A, TINY_B };            /* 1-byte enum */

struct opaque;                                                   /* FWD struct */
union opaque_u;                                                  /* FWD union */

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 12;
	unsigned long long wide : 40;
	unsigned char tail;
	int : 0;
	short after_zero : 7;
};

struct empty {};

struct anon_members {
	int kind;
	union {
		int i;
		float f;
		struct {
			short lo, hi;
		};
	};
	struct {
		char tag[4];
		double d;
	} named;
	enum { ANON_X = 10, ANON_Y } anon_enum_field;
};

struct __attribute__((packed)) packed_s {
	char c;
	int i;
	long long ll;
};

struct aligned_s {
	char c;
	int x __attribute__((aligned(16)));
};

struct quals {
	const volatile int cvi;
	int *restrict rp;
	const char *const cpc;
	int matrix[3][4];
	void (*cb)(int, ...);
	int (*printer)(const char *fmt, ...);
	int *(*(*fnp_arr[2])(void))[5];
	struct opaque *op;
	union opaque_u *ou;
	long double ld;
	_Bool flag;
	__int128 big;
	unsigned __int128 ubig;
	enum tiny t;
	enum big b;
	enum neg64 n;
	enum color col;
	struct empty e;
};

struct tagged {
	int plain;
	int __tag("field_tag") decl;
	int __ttag("user") *uptr;
	int __ttag("rcu") __ttag("percpu") *multi;
} __tag("struct_tag");

typedef struct tagged tagged_t __tag("typedef_tag");

struct list_node {
	struct list_node *next, *prev;
	struct holder *owner;
};

struct holder {
	struct list_node head;
	tagged_t tg;
	struct bits bf;
	struct anon_members am;
	struct packed_s ps;
	struct aligned_s as;
	struct quals q;
	u64_t counter;
};

/* globals: .data, .bss, .rodata, and a custom section -> DATASEC + VAR */
int data_var = 42;
struct holder bss_holder;
const volatile int rodata_cfg = 7;
static volatile __u32 static_counter;
int __attribute__((section(".data.custom"))) custom_var = 3;
float float_var = 1.5f;
double double_var = 2.5;

int __tag("func_tag") __attribute__((noinline)) tagged_func(int x __tag("arg_tag"), struct holder *h)
{
	return x + h->counter + static_counter;
}

static __attribute__((noinline)) long helper_static(struct bits *b)
{
	return b->a + b->c + b->wide;
}

SEC("xdp")
int prog_main(void *ctx)
{
	static_counter++;
	return tagged_func(data_var, &bss_holder) + helper_static(&bss_holder.bf) + rodata_cfg + custom_var;
}

char LICENSE[] SEC("license") = "GPL";
