/* Denying an open: a BPF LSM program on the file_open hook, and the same decision as fmod_ret
 * on security_file_open, both refusing with EPERM the one file user space names by writing its
 * device (the kernel's dev_t: major << 20 | minor) and inode number into deny_dev and deny_ino. fmod_inject is fmod_ret on an error-injection function (not a
 * security_* hook), which a kernel without CONFIG_FUNCTION_ERROR_INJECTION refuses. */
#include "common.h"

struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

__u64 deny_ino;
__u32 deny_dev;
__u64 lsm_denied;
__u64 fmod_denied;

static __always_inline int is_denied(struct file *file)
{
	struct inode *inode = file->f_inode;
	return deny_ino && inode->i_ino == deny_ino && inode->i_sb->s_dev == deny_dev;
}

SEC("lsm/file_open")
int BPF_PROG(deny_open, struct file *file, int ret)
{
	if (ret != 0)
		return ret; /* an earlier program already decided */
	if (is_denied(file)) {
		__sync_fetch_and_add(&lsm_denied, 1);
		return -EPERM;
	}
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(fmod_deny_open, struct file *file, int ret)
{
	if (is_denied(file)) {
		__sync_fetch_and_add(&fmod_denied, 1);
		return -EPERM;
	}
	return 0;
}

SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(fmod_inject, int a, int *b, int ret)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
