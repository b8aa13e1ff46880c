#!/usr/bin/env bash
# Rebuilds the CO-RE fixtures (test/btf/core*.test.ts) with clang 14 and clang-19. clang 14 has
# no TYPE_MATCHES and no 64-bit enums, so those parts of types.bpf.c only exist in the clang-19
# objects. Needs Debian's clang, clang-19 and libbpf-dev (bpf_helpers.h, bpf_core_read.h).
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -target bpf -I/usr/include/x86_64-linux-gnu -ffile-prefix-map="$PWD"=.)
for src in fields types; do
  clang-19 "${flags[@]}" -c "$src.bpf.c" -o "$src.o"
  clang-14 "${flags[@]}" -c "$src.bpf.c" -o "$src-clang14.o"
done
