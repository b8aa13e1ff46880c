#!/usr/bin/env bash
# Rebuilds the link test fixtures (needs gcc, clang, systemtap-sdt-dev and libbpf-dev):
#   target, libtsbpf_target.so  a test binary with functions to uprobe and USDT probes
#   usdt.bpf.o                  USDT programs using libbpf's usdt.bpf.h
#   usdt-spec-v17.bpf.o         only BTF: libbpf 1.7's __bpf_usdt_specs layout
#   auto.bpf.o                  sections Collection.attachAll() attaches, and stock usdt.bpf.h
set -euo pipefail
cd "$(dirname "$0")"
gcc -O1 -g -fPIC -shared -o libtsbpf_target.so lib.c
gcc -O1 -g -o target target.c sema.c -L. -ltsbpf_target -Wl,-rpath,'$ORIGIN'
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c usdt.bpf.c -o usdt.bpf.o
clang -O2 -g -target bpf -c usdt-spec-v17.bpf.c -o usdt-spec-v17.bpf.o
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -c auto.bpf.c -o auto.bpf.o
