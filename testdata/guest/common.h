/* Shared by the guest fixtures: the kernel structures they read, declared with only the fields
 * used and preserve_access_index, so every access is a CO-RE relocation resolved against the
 * running kernel's BTF (6.1 in the guest, 6.18 on the host), and a per-process record. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1

struct filename {
	const char *name;
} __attribute__((preserve_access_index));

/* What a program saw in one process (the map key is the tgid). */
struct seen {
	__u64 calls;
	__s64 ret;    /* last return value (kretprobe, fexit) */
	__s64 arg;    /* last integer argument (dfd, old_pid) */
	char name[64]; /* last file name */
};

#define SEEN_MAP(name)                     \
	struct {                               \
		__uint(type, BPF_MAP_TYPE_HASH);   \
		__uint(max_entries, 1024);         \
		__type(key, __u32);                \
		__type(value, struct seen);        \
	} name SEC(".maps")

/* The record of process `tgid` in `map`, created on first use. */
static __always_inline struct seen *seen_of(void *map, __u32 tgid)
{
	struct seen *s = bpf_map_lookup_elem(map, &tgid);
	if (s)
		return s;
	struct seen zero = {};
	bpf_map_update_elem(map, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &tgid);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}
