#!/bin/busybox sh
# /init of the guest's initramfs (busybox sh). Loads the virtio and 9p modules, mounts the host's
# root (9p tag "host", read-only), the run directory (9p tag "out", writable) and the repository
# (9p tag "repo", read-only, at its host path), makes the host
# root a usable system root (proc, sysfs, devtmpfs, tmpfs on /tmp and /run, tracefs, debugfs,
# bpffs, securityfs, cgroup2 at /sys/fs/cgroup/unified as on the host, the kernel's config in
# /boot), then chroots into it to
# run /run/tsbpf/run.sh (written by scripts/guest/run.mjs) and powers off.
# Lines starting with "tsbpf-guest:" are read by the runner.
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "tsbpf-guest: $*"; }
die() {
  say "error: $*"
  poweroff -f
  sleep 5
  exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "init at $(cut -d' ' -f1 /proc/uptime)s kernel $(uname -r)"

while read -r m; do
  [ -n "$m" ] || continue
  insmod "/modules/$m" || die "insmod $m failed"
done </modules/order

R=/newroot
# cache=loose: the share is read-only and does not change while the guest runs, so the guest may
# keep pages and dentries (much faster under emulation than asking the host every time).
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 host $R ||
  die "cannot mount the host root share (9p tag 'host'): qemu needs -virtfs local,path=/,mount_tag=host,readonly=on"
[ -x $R/bin/sh ] || die "the host root share has no /bin/sh"

mount -t proc proc $R/proc || die "mount proc"
mount -t sysfs sysfs $R/sys || die "mount sysfs"
mount -t devtmpfs devtmpfs $R/dev || die "mount devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || die "mount /tmp"
mount -t tmpfs -o mode=755 tmpfs $R/run || die "mount /run"
mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp
mount -t tracefs tracefs $R/sys/kernel/tracing || die "mount tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t bpf bpf $R/sys/fs/bpf || die "mount bpffs"
mount -t securityfs securityfs $R/sys/kernel/security || die "mount securityfs"
mount -t tmpfs -o mode=755 cgroup $R/sys/fs/cgroup
mkdir -p $R/sys/fs/cgroup/unified
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup/unified || die "mount cgroup2"
# The guest kernel's configuration where Debian keeps it (.kconfig externs read it).
if [ -f /config ]; then
  mount -t tmpfs -o mode=755 tmpfs $R/boot && cp /config $R/boot/config-$(uname -r)
fi
mkdir -p $R/run/tsbpf
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 out $R/run/tsbpf ||
  die "cannot mount the run directory share (9p tag 'out')"
[ -f $R/run/tsbpf/run.sh ] || die "no run.sh in the run directory share"
# The repository at its host path (9p tag "repo"), above the tmpfs mounts: it may live in /tmp.
repo=$(cat $R/run/tsbpf/repo-path)
mkdir -p "$R$repo" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 repo "$R$repo" ||
  die "cannot mount the repository share (9p tag 'repo') at $repo"
ip link set lo up 2>/dev/null

say "root ready at $(cut -d' ' -f1 /proc/uptime)s; lsm=$(cat $R/sys/kernel/security/lsm)"
chroot $R /bin/sh /run/tsbpf/run.sh
say "run.sh exited with $? at $(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
sleep 5
