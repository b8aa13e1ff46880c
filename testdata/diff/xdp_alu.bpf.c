// Differential fixture (test/compiler-diff): the ALU on operands taken from the packet, with
// the instructions forced by inline assembly where C would call the case undefined (shifts by
// the register width or more, division and modulo by zero), 32-bit forms and their zero
// extension, byte swaps, signed and unsigned compares, and atomics on a map value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct results {
	__u64 r[40];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct results);
} out SEC(".maps");

#define OP64(op, a, b) ({ __u64 _a = (a); asm volatile("%0 " op " %1" : "+r"(_a) : "r"((__u64)(b))); _a; })
#define OP32(op, a, b) ({ __u32 _a = (a); asm volatile("%0 " op " %1" : "+w"(_a) : "w"((__u32)(b))); _a; })

SEC("xdp")
int xdp_alu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 14 + 24 > data_end)
		return XDP_PASS;
	__u64 a = *(__u64 *)(data + 14);
	__u64 b = *(__u64 *)(data + 22);
	__u8 s = *(__u8 *)(data + 30);
	__u8 sel = *(__u8 *)(data + 31);
	__u32 a32 = a, b32 = b >> 32;
	__u32 zero = 0;
	struct results *o = bpf_map_lookup_elem(&out, &zero);
	if (!o)
		return XDP_ABORTED;
	// Small operands often: selectors pick 0, 1, -1 and the shift amount's high bits.
	if (sel & 1)
		b = sel & 2 ? 0 : (__u64)-1;
	if (sel & 4)
		b32 = sel & 8 ? 0 : 0xffffffff;
	o->r[0] = a + b;
	o->r[1] = a - b;
	o->r[2] = a * b;
	o->r[3] = OP64("/=", a, b);
	o->r[4] = OP64("%%=", a, b);
	o->r[5] = OP64("<<=", a, s);
	o->r[6] = OP64(">>=", a, s);
	o->r[7] = OP64("s>>=", a, s);
	o->r[8] = a & b;
	o->r[9] = a | b;
	o->r[10] = a ^ b;
	o->r[11] = -a;
	o->r[12] = OP32("+=", a32, b32);
	o->r[13] = OP32("-=", a32, b32);
	o->r[14] = OP32("*=", a32, b32);
	o->r[15] = OP32("/=", a32, b32);
	o->r[16] = OP32("%%=", a32, b32);
	o->r[17] = OP32("<<=", a32, s);
	o->r[18] = OP32(">>=", a32, s);
	o->r[19] = OP32("s>>=", a32, s);
	o->r[20] = __builtin_bswap16(a);
	o->r[21] = __builtin_bswap32(a);
	o->r[22] = __builtin_bswap64(a);
	o->r[23] = (__s64)a < (__s64)b;
	o->r[24] = (__s32)a32 >= (__s32)b32;
	o->r[25] = a > b;
	o->r[26] = a32 <= b32;
	o->r[27] = (a & b) != 0;
	o->r[28] = (__s64)a >> 63;
	o->r[29] = a32 / 3;
	o->r[30] = (__s64)(__s32)a32;
	o->r[31] = (__s64)(__s8)s;
	__sync_fetch_and_add(&o->r[32], a);
	o->r[33] = __sync_fetch_and_add(&o->r[34], b);
	__sync_fetch_and_or(&o->r[35], a);
	__sync_fetch_and_and(&o->r[36], b | 0xff);
	__sync_fetch_and_xor(&o->r[37], a);
	o->r[38] = __sync_lock_test_and_set(&o->r[39], a);
	o->r[39] = __sync_val_compare_and_swap(&o->r[38], b, a);
	return (o->r[2] ^ o->r[14]) & 3;
}

char LICENSE[] SEC("license") = "GPL";
