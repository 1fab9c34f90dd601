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
# Everything but the lab in parallel first; then the lab tests alone, one at a time, so
# that their timing checks (per-hop RTTs, tcpdump keeping up) never compete for the CPU.
ctest --preset default -j "$(nproc)" -LE 'lab|stress' "$@"
ctest --preset default -L '^lab$' "$@"
echo "test.sh: finished in $(( $(date +%s) - start )) s"
