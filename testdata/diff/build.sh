#!/usr/bin/env bash
# Fixtures of the VM-vs-kernel differential test (test/compiler-diff): clang 14 for most;
# clang-19 for xdp_alu (clang 14's BPF assembler cannot parse the modulo in its inline
# assembly) and for xdp_alu_v4 (-mcpu=v4: sdiv/smod, movsx, ldsx, bswap need clang 18+).
# The TypeScript twins (*.bpf.ts) are compiled by the test itself.
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -target bpf -I/usr/include/x86_64-linux-gnu -ffile-prefix-map="$PWD"=.)
for src in xdp_parse xdp_loop tc_classify socket_ldabs xdp_maps xdp_ringbuf xdp_spinlock; do
  clang "${flags[@]}" -mcpu=v3 -c "$src.bpf.c" -o "$src.bpf.o"
done
clang-19 "${flags[@]}" -mcpu=v3 -c xdp_alu.bpf.c -o xdp_alu.bpf.o
clang-19 "${flags[@]}" -mcpu=v4 -c xdp_alu_v4.bpf.c -o xdp_alu_v4.bpf.o
