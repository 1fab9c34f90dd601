#!/usr/bin/env bash
# Installs everything synprobe needs to build, test and demo, from Debian 12 packages.
# Idempotent; run as root on a fresh machine (apt-get update first, as a fresh image has no lists).
# Quiet: one line per step; apt's own output goes to a log file it names
# ($SYNPROBE_DEPS_LOG, default /tmp/synprobe-install-deps.log), shown in full when a step
# fails (exit status non-zero).
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libpcap-dev libtins-dev libcli11-dev libfmt-dev catch2 nlohmann-json3-dev
  # the namespace lab and sample recipes (tests/lab, samples/)
  iproute2 iptables nftables tcpdump socat netcat-openbsd curl procps
  # samples/make-samples.sh: a capture of traceroute -T (ttl-forging-firewall-traced)
  traceroute
  # the lab's TLS server on 443 (issue 14): openssl makes its throwaway certificate
  openssl
  # the lab's link-delay shim (tests/lab/delay.cpp, NFQUEUE) and measuring its RTTs
  libnetfilter-queue-dev iputils-ping
  # tests: tshark checks the captures we write; python3-jsonschema checks the JSON contract
  tshark python3 python3-jsonschema
  # tests: headless Chromium renders the HTML report
  chromium
  # install tests (tests/install): man renders the man page, bash-completion's helpers and
  # zsh check the completions, dpkg-shlibdeps (dpkg-dev) computes the .deb's Depends;
  # libcap2-bin's setcap grants the capabilities (docs/man/synprobe.1, PRIVILEGES)
  man-db bash-completion zsh dpkg-dev libcap2-bin
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

log=${SYNPROBE_DEPS_LOG:-/tmp/synprobe-install-deps.log}
: >"$log"
start=$(date +%s)
step() {  # step WORDS -- COMMAND...: one line, the command's output in the log
  local words=()
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  echo "install-deps: ${words[*]}"
  echo "==== ${words[*]}: $*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    echo "install-deps: FAILED: ${words[*]}; the whole log ($log):" >&2
    cat "$log" >&2
    echo "install-deps: FAILED: ${words[*]} (log: $log)" >&2
    exit 1
  fi
}

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: ${#missing[@]} of ${#packages[@]} packages missing; apt's output goes to $log"
step "updating the package lists (apt-get update)" -- apt-get update
# wireshark-common asks whether non-root users may capture; the default (no) is right here.
step "answering wireshark-common's question: non-root users may not capture" -- \
  sh -c 'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections'
step "installing ${#missing[@]} missing package(s): ${missing[*]}" -- apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done in $(( $(date +%s) - start )) s"
