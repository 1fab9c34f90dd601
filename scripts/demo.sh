#!/usr/bin/env bash
# The main job on built-in defaults, from a fresh Debian 12 machine: installs what is
# needed, builds, analyses every bundled sample, then makes fresh captures of real refusals
# in a throwaway network-namespace lab (198.18.0.0/15, 2001:db8::/32 only) and analyses them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root: the live demo creates network namespaces (sudo $0)" >&2
  exit 1
fi

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" >/dev/null
synprobe=$root/build/src/synprobe
"$synprobe" --version

echo
echo "== The bundled samples (samples/*/README.md says how each was made)"
for case_dir in samples/*/; do
  case_name=$(basename "$case_dir")
  [ -f "$case_dir/capture.pcapng" ] || continue
  echo
  echo "-- $case_name: $(sed -n 's/.*"truth": *"\(.*\)".*/\1/p' "$case_dir/expected.json")"
  "$synprobe" analyze "$case_dir/capture.pcapng" --color auto
done

echo
echo "== Live: fresh captures of real refusals in a throwaway namespace lab"
work=$(mktemp -d /tmp/synprobe-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
SPLAB_ID="spdemo$$" bash samples/make-samples.sh --out "$work" \
  --injector "$root/build/tests/lab/splab-injector" \
  --case router-reject-rst --case router-icmp-admin-prohibited --case injected-reset
for capture in "$work"/*/capture.pcapng; do
  echo
  echo "-- $(basename "$(dirname "$capture")") (captured just now)"
  "$synprobe" analyze "$capture" -v --color auto
done
