#!/usr/bin/env bash
# Sets up everything tsbpf and its tests need on a Debian machine: the oracle tools the
# differential tests compare against (LLVM 14 and 19, bpftool), then the npm dependencies, then
# the build. Nothing is downloaded from outside the Debian and npm registries.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(llvm llvm-19 clang bpftool iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci would refuse this lock file: the registry mirror lacks the other platforms' optional
# oxc-parser bindings, so they are absent from it. npm install keeps to the lock file otherwise.
npm install --no-audit --no-fund
npm run build
