#!/usr/bin/env bash
# The main job on built-in defaults, from a fresh Debian 12 machine: installs what is
# needed, builds, analyses every bundled sample, then probes real refusals live in a
# throwaway network-namespace lab (198.18.0.0/15 and 2001:db8::/32 only, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root: the live demo creates network namespaces (sudo $0)" >&2
  exit 1
fi

# Set-up is quiet: its output goes to a log, shown in full only if a step fails; the
# first screen is synprobe's.
setup_log=${TMPDIR:-/tmp}/synprobe-demo-setup.log
: >"$setup_log"
quietly() {
  "$@" >>"$setup_log" 2>&1 && return
  cat "$setup_log" >&2
  echo "demo.sh: FAILED: $* (the log above: $setup_log)" >&2
  exit 1
}
echo "demo.sh: installing what is missing and building (log: $setup_log) ..."
quietly bash scripts/install-deps.sh
quietly cmake --preset default
quietly cmake --build --preset default -j "$(nproc)"
synprobe=$root/build/src/synprobe
echo
"$synprobe" --version

echo
echo "== 1. The bundled samples, offline (samples/*/README.md says how each was made)"
for case_dir in samples/*; do
  [ -f "$case_dir/capture.pcapng" ] || continue
  echo
  echo "-- $(basename "$case_dir"): $(sed -n 's/.*"truth": *"\(.*\)".*/\1/p' "$case_dir/expected.json")"
  "$synprobe" analyze "$case_dir/capture.pcapng"
done

echo
echo "== 2. Live, in a throwaway lab: client — r1 — r2 — r3 — server (hops at ~2/6/12/20 ms)"
export SPLAB_ID="spdemo$$" SPLAB_STATE="/run/splab-spdemo$$"
export SPLAB_DELAY_BIN="$root/build/tests/lab/splab-delay"
work=$(mktemp -d /tmp/synprobe-demo.XXXXXX)
chmod 1777 "$work"  # synprobe writes its outputs after dropping to an unprivileged user
cleanup() { bash tests/lab/lab.sh down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
bash tests/lab/lab.sh up
bash tests/lab/lab.sh injector "$root/build/tests/lab/splab-injector" 120 1000 >/dev/null

# What each port does is in tests/lab/lab.sh: 80 open, 81 closed, 90 a firewall's reset at
# hop 2, 91 ICMP admin-prohibited from hop 2, 94 dropped at hop 2, 95 an on-path injector
# at hop 2, 96 a reset from hop 3 (initial TTL 255).
ip netns exec "$SPLAB_ID-client" "$synprobe" probe 198.18.4.10 -p 80,81,90,91,94,95,96 --timeout 1.5 \
  --report "$work/report.html" -w "$work/evidence.pcapng" -o "$work/result.txt" || true
cat "$work/result.txt"
echo
echo "-- the same target over IPv6, hop by hop"
ip netns exec "$SPLAB_ID-client" "$synprobe" trace "[2001:db8:4::10]:90" --timeout 1.5 || true
echo
echo "-- a stale address: nobody lives at 198.18.4.99 on the server's LAN (its router answers late)"
ip netns exec "$SPLAB_ID-client" "$synprobe" probe 198.18.4.99:80 || true
echo
echo "-- a name with several addresses (the client's /etc/hosts in the lab): every address compared"
ip netns exec "$SPLAB_ID-client" "$synprobe" probe app.lab.test:80 v6fails.lab.test:80 || true
echo
echo "The HTML report and the pcapng evidence of the IPv4 run were written to $work"
echo "(removed when this script ends; run the commands above with -o/--report/-w to keep them)."
