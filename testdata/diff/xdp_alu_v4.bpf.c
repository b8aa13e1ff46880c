// Differential fixture (test/compiler-diff), built with clang-19 -mcpu=v4: the cpu v4
// instructions — signed division and modulo (with INT_MIN / -1 and division by zero),
// sign-extending loads and moves, unconditional byte swaps — on operands from the packet.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct results {
	__s64 r[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct results);
} out SEC(".maps");

#define OP64(op, a, b) ({ __s64 _a = (a); asm volatile("%0 " op " %1" : "+r"(_a) : "r"((__s64)(b))); _a; })
#define OP32(op, a, b) ({ __s32 _a = (a); asm volatile("%0 " op " %1" : "+w"(_a) : "w"((__s32)(b))); _a; })

SEC("xdp")
int xdp_alu_v4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 14 + 20 > data_end)
		return XDP_PASS;
	__s64 a = *(__s64 *)(data + 14);
	__s64 b = *(__s64 *)(data + 22);
	__s8 c = *(__s8 *)(data + 30);
	__s16 h = *(__s16 *)(data + 31);
	__u8 sel = *(__u8 *)(data + 33);
	if (sel & 1)
		a = (__s64)0x8000000000000000ULL;
	if (sel & 2)
		b = sel & 4 ? -1 : 0;
	__s32 a32 = a, b32 = b;
	if (sel & 8)
		a32 = (__s32)0x80000000;
	__u32 zero = 0;
	struct results *o = bpf_map_lookup_elem(&out, &zero);
	if (!o)
		return XDP_ABORTED;
	o->r[0] = OP64("s/=", a, b);
	o->r[1] = OP64("s%%=", a, b);
	o->r[2] = OP32("s/=", a32, b32);
	o->r[3] = OP32("s%%=", a32, b32);
	o->r[4] = c;
	o->r[5] = h;
	o->r[6] = (__s64)(__s32)(a >> 7);
	o->r[7] = (__s8)b;
	o->r[8] = (__s16)b;
	o->r[9] = __builtin_bswap16(b);
	o->r[10] = __builtin_bswap32(b);
	o->r[11] = __builtin_bswap64(b);
	o->r[12] = a / 7;
	o->r[13] = a % 7;
	o->r[14] = a32 / -3;
	o->r[15] = (__s32)b % 5;
	return (o->r[0] & 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
