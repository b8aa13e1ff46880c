#!/usr/bin/env bash
# Fixtures of the loader's kernel tests (test/kernel/collection*.test.ts): clang 14 for most,
# clang-19 for btf_kinds.bpf.c (ENUM64 needs clang 15+).
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -I/usr/include/x86_64-linux-gnu -ffile-prefix-map="$PWD"=.)
for src in globals tailcall mim kconfig kconfig_strong ksym core_pid verifier pinned trampoline; do
  clang "${flags[@]}" -target bpf -mcpu=v3 -c "$src.bpf.c" -o "$src.bpf.o"
done
clang-19 "${flags[@]}" -target bpf -mcpu=v3 -c btf_kinds.bpf.c -o btf_kinds.bpf.o
