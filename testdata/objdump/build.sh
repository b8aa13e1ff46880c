#!/usr/bin/env bash
# The corpus of the disassembler's differential test against llvm-objdump: each source built
# by clang 14 (the machine's default) little- and big-endian; atomics.bpf.c needs -mcpu=v3
# (32-bit atomics with fetch), v4.bpf.c needs clang-19 -mcpu=v4.
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -I/usr/include/x86_64-linux-gnu)
for src in loops subprogs maps_globals core cgroup_dev; do
  clang "${flags[@]}" -target bpf -c "$src.bpf.c" -o "$src.bpf.o"
  clang "${flags[@]}" -target bpfeb -c "$src.bpf.c" -o "$src.bpfeb.o"
done
clang "${flags[@]}" -target bpf -mcpu=v3 -c atomics.bpf.c -o atomics.bpf.o
clang "${flags[@]}" -target bpfeb -mcpu=v3 -c atomics.bpf.c -o atomics.bpfeb.o
clang-19 "${flags[@]}" -target bpf -mcpu=v4 -c v4.bpf.c -o v4.bpf.o
clang-19 "${flags[@]}" -target bpf -mcpu=v4 -c maps_globals.bpf.c -o maps_globals.v4.bpf.o
