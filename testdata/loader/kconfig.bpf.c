// .kconfig externs of every type libbpf knows, copied to .bss by a test run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern char CONFIG_LOCALVERSION[16] __kconfig;
extern int CONFIG_TSBPF_DOES_NOT_EXIST __kconfig __weak;

__u32 out_version;
__u8 out_cookie;
__u8 out_syscall;
int out_hz;
int out_jit;
int out_missing;
char out_local[16];

SEC("socket")
int read_kconfig(struct __sk_buff *skb)
{
	out_version = LINUX_KERNEL_VERSION;
	out_cookie = LINUX_HAS_BPF_COOKIE;
	out_syscall = CONFIG_BPF_SYSCALL;
	out_hz = CONFIG_HZ;
	out_jit = CONFIG_BPF_JIT;
	out_missing = CONFIG_TSBPF_DOES_NOT_EXIST;
	__builtin_memcpy(out_local, CONFIG_LOCALVERSION, sizeof(out_local));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
