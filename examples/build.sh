#!/usr/bin/env bash
# Rebuilds the examples' kernel programs (committed, so running an example needs no clang).
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -target bpf -I/usr/include/x86_64-linux-gnu)
for src in */*.bpf.c; do
  clang "${flags[@]}" -ffile-prefix-map="$PWD"=. -c "$src" -o "${src%.c}.o"
done
