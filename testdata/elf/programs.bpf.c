// Fixture for the ELF reader and writer tests: two programs in their own sections, a subprogram
// (R_BPF_64_32 call relocation), a BTF-defined map in .maps and globals in .data, .bss and
// .rodata (R_BPF_64_64 ld_imm64 relocations), debug info (R_BPF_64_ABS32/ABS64) and BTF
// (.BTF.ext relocations).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

__u64 hits = 1;
__u64 misses;
const volatile __u32 threshold = 7;
static volatile __u32 local_state;

static __attribute__((noinline)) __u64 bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	if (!v) {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
		misses++;
		return 1;
	}
	*v += 1;
	return *v;
}

SEC("kprobe/do_nanosleep")
int on_sleep(void *ctx)
{
	local_state++;
	hits += bump(1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int on_open(void *ctx)
{
	if (bump(2) > threshold)
		hits++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
