#!/usr/bin/env bash
# Rebuilds every clang-built fixture under testdata/. Tests use the committed objects, so only
# run this after changing a source (needs Debian's clang, clang-19 and libbpf-dev).
set -euo pipefail
cd "$(dirname "$0")"
for script in */build.sh; do
  echo "== $script"
  bash "$script"
done
