#!/usr/bin/env bash
# Rebuilds the ELF reader/writer fixtures (tests use the committed objects and never need a
# compiler). BPF objects need Debian's clang and libbpf-dev; the x86_64 ones need gcc.
set -euo pipefail
cd "$(dirname "$0")"
# -fdebug-prefix-map keeps the build directory out of the DWARF, so rebuilds are byte-identical.
bpf_flags=(-O2 -g -Wall -I/usr/include/x86_64-linux-gnu "-fdebug-prefix-map=$PWD=.")
clang "${bpf_flags[@]}" -target bpf -c programs.bpf.c -o programs.bpf.o
clang "${bpf_flags[@]}" -target bpfeb -c programs.bpf.c -o programs.bpfeb.o
clang-19 "${bpf_flags[@]}" -target bpf -c programs.bpf.c -o programs.clang19.bpf.o
gcc -O2 -fcommon -fcf-protection=full -fno-asynchronous-unwind-tables -c tiny.c -o tiny.o
gcc -O2 -fcommon -fcf-protection=full -fPIC -shared -Wl,--build-id=sha1 -Wl,-soname,libtiny.so tiny.c -o libtiny.so
