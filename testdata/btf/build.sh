#!/usr/bin/env bash
# Rebuilds the BTF fixtures: clang-19 (decl/type tags, enum64, TYPE_MATCHES), clang 14 (older
# encoder) and a big-endian object. The raw .btf files are the .BTF sections cut out of the
# objects, so the raw-file code path is tested without an ELF reader.
set -euo pipefail
cd "$(dirname "$0")"
INC=(-I/usr/include/x86_64-linux-gnu)
build() { # compiler target src out
  "$1" -g -O2 -target "$2" "${INC[@]}" -c "$3" -o "$4"
  llvm-objcopy --dump-section .BTF="${4%.o}.btf" "$4" /dev/null
}
build clang-19 bpfel types.bpf.c types.o
build clang-19 bpfel core.bpf.c core.o
build clang-14 bpfel types.bpf.c types-clang14.o
build clang-14 bpfel core.bpf.c core-clang14.o
build clang-19 bpfeb types.bpf.c types-be.o
