#!/usr/bin/env bash
# Rebuilds the guest fixtures (test/guest): kprobe/kretprobe, fentry/fexit/tp_btf, LSM and
# fmod_ret, and the CO-RE object both kernels load (core.bpf.c by clang, its twin core_ts.bpf.ts by
# tsbpf's compiler against the build machine's kernel BTF: run `npm run build` first). Needs Debian's clang and libbpf-dev
# (bpf_helpers.h, bpf_tracing.h, bpf_core_read.h); no vmlinux.h: common.h and each source
# declare the kernel structures they read, relocated by CO-RE.
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -ffile-prefix-map="$PWD"=.)
for src in kprobe tracing lsm core; do
  clang "${flags[@]}" -c "$src.bpf.c" -o "$src.bpf.o"
done
node ../../dist/src/cli/main.js build core_ts.bpf.ts -o core_ts.bpf.o
