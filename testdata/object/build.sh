#!/usr/bin/env bash
# Fixtures of the object reader's tests (clang 14, little- and big-endian).
set -euo pipefail
cd "$(dirname "$0")"
flags=(-O2 -g -Wall -I/usr/include/x86_64-linux-gnu -ffile-prefix-map="$PWD"=.)
clang "${flags[@]}" -target bpf -mcpu=v3 -c features.bpf.c -o features.bpf.o
clang "${flags[@]}" -target bpfeb -mcpu=v3 -c features.bpf.c -o features.bpfeb.o
