#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed, builds
# with warnings as errors, and runs every test (unit, end-to-end, and the network-namespace
# lab, which needs root). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: run as root: the lab tests create network namespaces (sudo $0)" >&2
  exit 1
fi

start=$(date +%s)
bash scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
# Lab tests hold a resource lock, so they never overlap; the rest run in parallel.
ctest --preset default -j "$(nproc)" "$@"
echo "test.sh: finished in $(( $(date +%s) - start )) s"
