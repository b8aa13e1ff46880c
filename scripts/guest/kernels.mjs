// The kernel matrix: every kernel the guest runner can boot, where its package comes from and
// what it is known to lack. Adding a kernel is adding an entry here (see README, "Kernel matrix").

/**
 * @typedef {object} KernelEntry
 * @property {string} id            what `npm run test:kernel -- <id>` takes, and TSBPF_GUEST's value in the guest
 * @property {string} search        an apt-cache search --names-only pattern for the image package
 * @property {RegExp} name          the package names it accepts; the newest (version sort) wins
 * @property {string[]} modules     modules the initramfs loads (with their dependencies from modules.dep)
 * @property {string} description
 */

/** @type {Record<string, KernelEntry>} */
export const KERNELS = {
  '6.1': {
    id: '6.1',
    // Debian 12 (bookworm) and bookworm-security: linux-image-6.1.0-<abi>-amd64-unsigned. The ABI
    // number grows with each security release and old ones leave the archive, so the newest one
    // apt knows is taken (and cached: later runs reuse it until --refresh).
    search: '^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$',
    name: /^linux-image-6\.1\.0-\d+-amd64-unsigned$/,
    modules: ['virtio_pci', '9pnet_virtio', '9p'],
    description: "Debian 12's 6.1 LTS kernel: kprobes, fentry/fexit, BPF LSM; no CONFIG_FPROBE, no CONFIG_FUNCTION_ERROR_INJECTION",
  },
};

/** The kernel command line every guest boots with (after the console settings). */
export const LSM_CMDLINE = 'lsm=lockdown,capability,landlock,yama,apparmor,bpf';
