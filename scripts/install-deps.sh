#!/usr/bin/env bash
# Installs everything synprobe needs to build, test and demo, from Debian 12 packages.
# Idempotent; run as root on a fresh machine (apt-get update first, as a fresh image has no lists).
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libpcap-dev libtins-dev libcli11-dev libfmt-dev catch2 nlohmann-json3-dev
  # the namespace lab and sample recipes (tests/lab, samples/)
  iproute2 iptables nftables tcpdump socat netcat-openbsd curl procps
  # samples/make-samples.sh: a capture of traceroute -T (ttl-forging-firewall-traced)
  traceroute
  # the lab's link-delay shim (tests/lab/delay.cpp, NFQUEUE) and measuring its RTTs
  libnetfilter-queue-dev iputils-ping
  # tests: tshark checks the captures we write; python3-jsonschema checks the JSON contract
  tshark python3 python3-jsonschema
  # tests: headless Chromium renders the HTML report
  chromium
  # benchmarks (tests/bench, docs/BENCHMARKS.md): peak RSS, instruction counts, heap profiles
  time valgrind
  # hardening (docs/HARDENING.md; scripts/test.sh runs it): the fuzz preset is clang 14 with
  # libFuzzer and the sanitizer runtimes (libclang-rt-14-dev); llvm brings llvm-symbolizer
  # for readable stacks in fuzzer and sanitizer reports; util-linux's unshare and setpriv
  # run the namespace and unprivileged-user tests (present on Debian, listed to be sure)
  clang libclang-rt-14-dev llvm util-linux
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (sudo $0)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# wireshark-common asks whether non-root users may capture; the default (no) is right here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get install -y -qq --no-install-recommends "${missing[@]}"
