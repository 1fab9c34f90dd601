#!/usr/bin/env bash
# synprobe's offline benchmark: generates realistic captures with synprobe-gencap, then
# measures `synprobe analyze` against tcpdump (reading + filtering: the floor) and tshark
# (what an engineer would run today), and checks every verdict against the generator's truth.
#
#   tests/bench/run.sh [--size 100M|1G|10G] [--formats "pcap pcapng"] [--repeat N] [--keep]
#                      [--cold] [--seed N] [--dir DIR] [--synprobe BIN] [--gencap BIN]
#                      [--density "10000 100000 1000000"] [--snaplen N] [--no-tshark]
#   tests/bench/run.sh --smoke       # ~5 MB, correctness only (no speed claims): for CI
#
# --density: attempts per GiB (synprobe-gencap --attempts-per-gib), one file per density and
# format; synprobe is timed with --json, with text, and decoding only ('port 1': nothing
# kept), and a ratio table per density follows. --smoke checks the truth at the default
# rate and at 10^4, 10^5 and 10^6 attempts per GiB, its pcapng files cut at --snaplen 128
# (records shorter than their frames, as tcpdump -s 128 writes them).
# --snaplen: bytes kept of each frame (synprobe-gencap --snaplen; default whole frames).
# Offline only: no network is touched. Files go to a scratch directory (deleted at the end
# unless --keep). Timings are wall-clock, best of --repeat runs, with the file in the page
# cache (the generator just wrote it) unless --cold, which drops the caches before each run
# (root only). Peak RSS comes from /usr/bin/time (%M). Exit status: 0 all verdicts right,
# 1 a verdict wrong or a tool failed, 2 usage or setup problem.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

size=100M
formats="pcap pcapng"
repeat=3
keep=0
cold=0
smoke=0
seed=1
dir=""
synprobe="$root/build-release/src/synprobe"
gencap=""
gen_extra=()
densities=""
snaplen=""
tshark=1
# tshark is slow: above this size it runs on a prefix of the file and the time is extrapolated.
tshark_full_max=$((200 * 1000 * 1000))
tshark_prefix=100M

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --cold) cold=1; shift ;;
    --smoke) smoke=1; shift ;;
    --seed) seed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --synprobe) synprobe=$2; shift 2 ;;
    --gencap) gencap=$2; shift 2 ;;
    --density) densities=$2; shift 2 ;;
    --snaplen) snaplen=$2; shift 2 ;;
    --no-tshark) tshark=0; shift ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done
if [ "$smoke" = 1 ]; then
  size=5M
  # Fewer, slower flows and more attempts: a few seconds of traffic and a few hundred attempts.
  gen_extra=(--concurrency 40)
  [ -n "$densities" ] || densities="rate 10000 100000 1000000"
fi
# "rate": the generator's default (--attempt-rate 150 per second of capture, ≈ 13,700 per GiB).
[ -n "$densities" ] || densities=rate
[ "$densities" = rate ] || tshark=0  # the density runs compare with the floor only

bytes_of() {  # 100M -> bytes (binary units, as synprobe-gencap reads them)
  local n=${1%[KkMmGg]} unit=${1: -1}
  case "$unit" in
    K|k) echo $((n << 10)) ;; M|m) echo $((n << 20)) ;; G|g) echo $((n << 30)) ;; *) echo "$1" ;;
  esac
}
target_bytes=$(bytes_of "$size")

# ---------------------------------------------------------------- tools
if [ ! -x "$synprobe" ]; then
  echo "run.sh: building the Release binary ($synprobe is missing)" >&2
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)" >/dev/null)
fi
[ -x "$synprobe" ] || { echo "run.sh: no synprobe binary at $synprobe" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run.sh: python3 is needed for the correctness check" >&2; exit 2; }
timecmd=/usr/bin/time
if [ "$smoke" = 0 ] && [ ! -x "$timecmd" ]; then
  echo "run.sh: /usr/bin/time is missing (apt-get install time; scripts/install-deps.sh lists it)" >&2
  exit 2
fi
if [ "$cold" = 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: --cold drops the page cache and needs root" >&2
  exit 2
fi

# ---------------------------------------------------------------- scratch directory
if [ -n "$dir" ]; then
  mkdir -p "$dir"
  scratch=$(mktemp -d "$dir/synprobe-bench.XXXXXX")
else
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/synprobe-bench.XXXXXX")
fi
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "run.sh: kept $scratch" >&2
  else
    rm -rf -- "$scratch"
  fi
}
trap cleanup EXIT

nformats=1  # each file is deleted once measured
need=$((target_bytes * nformats + target_bytes / 5 + (200 << 20)))
avail=$(($(df -Pk "$scratch" | awk 'NR==2 {print $4}') * 1024))
if [ "$avail" -lt "$need" ]; then
  echo "run.sh: $size x $nformats needs about $((need >> 20)) MiB in $scratch, only $((avail >> 20)) MiB free" >&2
  exit 2
fi

if [ -z "$gencap" ]; then
  gencap="$scratch/synprobe-gencap"
  "${CXX:-c++}" -std=c++20 -O2 -o "$gencap" "$here/gencap.cpp"
fi

# The floor: what tcpdump needs to keep SYNs, RSTs and ICMP errors. Two traps: tcp[] byte
# offsets work for IPv4 only (IPv6 needs ip6[] with the TCP header at 40, fine without
# extension headers), and frames with an 802.1Q tag are invisible to a filter without `vlan`,
# which in turn shifts every later offset by 4: hence "F or (vlan and F)".
f_core='(tcp[tcpflags] & (tcp-syn|tcp-rst) != 0) or icmp or (ip6 and ip6[6] = 6 and ip6[53] & 0x06 != 0) or icmp6'
tcpdump_filter="($f_core) or (vlan and ($f_core))"
tshark_fields=(-T fields -e frame.time_epoch -e ip.src -e ipv6.src -e tcp.flags -e ip.ttl -e tcp.ack)

drop_caches() { if [ "$cold" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }

# measure NAME CMD... : runs CMD --repeat times (stdout discarded); sets m_secs (best wall
# time), m_cpu (user+system seconds of that run) and m_rss_kb (largest peak RSS).
measure() {
  local name=$1; shift
  m_secs=""; m_cpu=""; m_rss_kb=0
  local i t0 t1 secs rss cpu
  for ((i = 0; i < m_repeat; i++)); do
    drop_caches
    t0=$EPOCHREALTIME
    if ! "$timecmd" -f '%M %U %S' -o "$scratch/time.out" "$@" >/dev/null 2>"$scratch/$name.err"; then
      echo "run.sh: $name failed: $*" >&2
      cat "$scratch/$name.err" >&2
      return 1
    fi
    t1=$EPOCHREALTIME
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
    read -r rss cpu_u cpu_s < <(tail -n 1 "$scratch/time.out")
    cpu=$(awk -v u="$cpu_u" -v s="$cpu_s" 'BEGIN {printf "%.2f", u + s}')
    if [ -z "$m_secs" ] || awk -v a="$secs" -v b="$m_secs" 'BEGIN {exit !(a < b)}'; then m_secs=$secs; m_cpu=$cpu; fi
    [ "$rss" -gt "$m_rss_kb" ] && m_rss_kb=$rss
  done
  return 0
}

json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
status=0
rows=()
summary=()
density_rows=()
for density in $densities; do
for format in $formats; do
  file="$scratch/bench-$size.$format"
  prefix_args=()
  use_prefix=0
  if [ "$smoke" = 0 ] && [ "$tshark" = 1 ] && [ "$target_bytes" -gt "$tshark_full_max" ]; then
    use_prefix=1
    prefix_args=(--prefix "$tshark_prefix:$file.prefix")
  fi
  density_args=()
  if [ "$density" = rate ]; then
    [ "$smoke" = 1 ] && density_args=(--attempt-rate 150)
  else
    density_args=(--attempts-per-gib "$density")
  fi
  t0=$EPOCHREALTIME
  snap_args=()
  if [ -n "$snaplen" ]; then
    snap_args=(--snaplen "$snaplen")
  elif [ "$smoke" = 1 ] && [ "$format" = pcapng ]; then
    snap_args=(--snaplen 128)
  fi
  "$gencap" --size "$size" --format "$format" --seed "$seed" -o "$file" "${prefix_args[@]}" "${gen_extra[@]}" \
    "${density_args[@]}" "${snap_args[@]}" 2>/dev/null
  t1=$EPOCHREALTIME
  stats="$file.stats.json"
  bytes=$(json_field "$stats" bytes)
  packets=$(json_field "$stats" packets)
  attempts=$(json_field "$stats" attempts)
  hits=$(json_field "$stats" syn_rst_icmp_packets)
  gen_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
  per_gib=$(awk -v a="$attempts" -v b="$bytes" 'BEGIN {printf "%.0f", a / b * 1073741824}')
  echo "== $format, density $density: $bytes bytes, $packets packets, $attempts attempts ($per_gib per GiB), $hits SYN/RST/ICMP packets (generated in ${gen_secs} s)"

  # Correctness: every attempt's verdict, actor and hop against the truth.
  if ! "$synprobe" analyze "$file" --json > "$scratch/result.json" 2>"$scratch/synprobe.err"; then
    echo "run.sh: synprobe analyze failed on $file:" >&2
    cat "$scratch/synprobe.err" >&2
    status=1
    continue
  fi
  if ! python3 "$here/check_truth.py" "$file.truth.jsonl" "$scratch/result.json"; then status=1; fi
  rm -f "$scratch/result.json"

  # The tcpdump filter must keep exactly the packets the generator counted (VLAN-tagged too).
  if command -v tcpdump >/dev/null; then
    kept=$(tcpdump -r "$file" --count "$tcpdump_filter" 2>/dev/null | awk '{print $1}')
    if [ "$kept" != "$hits" ]; then
      echo "run.sh: the tcpdump filter kept $kept packets, the generator wrote $hits: the floor is wrong" >&2
      status=1
    fi
  fi
  [ "$smoke" = 1 ] && continue

  dlabel=""
  [ "$density" = rate ] || dlabel=" [$per_gib attempts/GiB]"
  m_repeat=$repeat
  measure synprobe "$synprobe" analyze "$file" --json || { status=1; continue; }
  s_secs=$m_secs; s_cpu=$m_cpu; s_rss=$m_rss_kb
  rows+=("synprobe|$format|$bytes|$packets|$s_secs|$m_cpu|$s_rss|analyze FILE --json > /dev/null$dlabel")
  measure tcpdump tcpdump -r "$file" -w /dev/null "$tcpdump_filter" || { status=1; continue; }
  d_secs=$m_secs; d_cpu=$m_cpu; d_rss=$m_rss_kb
  rows+=("tcpdump|$format|$bytes|$packets|$d_secs|$m_cpu|$d_rss|-r FILE -w /dev/null (SYN/RST/ICMP, vlan-aware)$dlabel")
  if [ "$density" != rate ]; then
    measure synprobe-text "$synprobe" analyze "$file" || { status=1; continue; }
    x_secs=$m_secs; x_cpu=$m_cpu; x_rss=$m_rss_kb
    rows+=("synprobe|$format|$bytes|$packets|$m_secs|$m_cpu|$m_rss_kb|analyze FILE > /dev/null (text)$dlabel")
    # Decoding alone: a filter that keeps nothing of the generated traffic.
    measure synprobe-decode "$synprobe" analyze "$file" 'port 1' || { status=1; continue; }
    z_secs=$m_secs; z_cpu=$m_cpu
    rows+=("synprobe|$format|$bytes|$packets|$m_secs|$m_cpu|$m_rss_kb|analyze FILE 'port 1' (read and filter, nothing kept)$dlabel")
    density_rows+=("$density|$format|$attempts|$per_gib|$s_secs|$s_cpu|$x_secs|$x_cpu|$z_secs|$z_cpu|$d_secs|$d_cpu|$s_rss|$x_rss")
    rm -f "$file" "$file.prefix"
    continue
  fi
  m_repeat=1
  if [ "$tshark" = 0 ]; then
    summary+=("$format|$s_secs|$d_secs||$s_rss")
    rm -f "$file" "$file.prefix"
    continue
  fi
  if [ "$use_prefix" = 1 ]; then
    pbytes=$(json_field "$stats" prefix_bytes)
    ppackets=$(json_field "$stats" prefix_packets)
    measure tshark tshark -r "$file.prefix" "${tshark_fields[@]}" || { status=1; continue; }
    # Extrapolate linearly to the whole file; MB/s and packets/s are the prefix's own.
    t_full=$(awk -v s="$m_secs" -v b="$bytes" -v p="$pbytes" 'BEGIN {printf "%.4f", s * b / p}')
    rows+=("tshark|$format|$pbytes|$ppackets|$m_secs|$m_cpu|$m_rss_kb|-T fields ... on a $((pbytes / 1000000)) MB prefix; whole file extrapolated: ${t_full} s")
  else
    measure tshark tshark -r "$file" "${tshark_fields[@]}" || { status=1; continue; }
    t_full=$m_secs
    rows+=("tshark|$format|$bytes|$packets|$m_secs|$m_cpu|$m_rss_kb|-T fields ...")
  fi
  summary+=("$format|$s_secs|$d_secs|$t_full|$s_rss")
  rm -f "$file" "$file.prefix"  # keep the disk free for the next format
done
done

if [ "$smoke" = 1 ]; then
  echo "smoke: correctness only, no speed figures"
  exit "$status"
fi

echo
echo "Offline analysis, $size per file, best of $repeat runs ($([ "$cold" = 1 ] && echo 'cold page cache' || echo 'file in the page cache')), $(nproc) CPUs, load average before: $load_before"
printf '%-9s %-7s %10s %10s %9s %8s %9s %11s %9s  %s\n' tool format "MB" packets "seconds" "cpu s" "MB/s" "packets/s" "RSS MB" "command"
for row in "${rows[@]}"; do
  IFS='|' read -r tool fmt b p secs cpu rss note <<<"$row"
  awk -v tool="$tool" -v fmt="$fmt" -v b="$b" -v p="$p" -v s="$secs" -v c="$cpu" -v r="$rss" -v note="$note" 'BEGIN {
    printf "%-9s %-7s %10.1f %10d %9.3f %8.2f %9.1f %11.0f %9.1f  %s\n", tool, fmt, b / 1e6, p, s, c, b / 1e6 / s, p / s, r / 1024, note
  }'
done
echo "(MB = 10^6 bytes; seconds = wall clock; cpu s = user + system of the same run. Another busy"
echo " process on the machine inflates wall time: compare the cpu column, and the load average.)"
echo
echo "Ratios and targets:"
for row in "${summary[@]}"; do
  IFS='|' read -r fmt s d t rss <<<"$row"
  awk -v fmt="$fmt" -v s="$s" -v d="$d" -v t="$t" -v rss="$rss" 'BEGIN {
    r1 = s / d;
    printf "  %-7s synprobe/tcpdump time %.2f (target <= 1.0: %s); ", fmt, r1, (r1 <= 1.0 ? "met" : "MISSED");
    if (t != "") { r2 = t / s; printf "tshark/synprobe time %.1fx (target >= 30x: %s); ", r2, (r2 >= 30 ? "met" : "MISSED") }
    printf "synprobe peak RSS %.1f MB (target < 64: %s)\n", rss / 1024, (rss / 1024 < 64 ? "met" : "MISSED")
  }'
done
if [ "${#density_rows[@]}" -gt 0 ]; then
  echo
  echo "Density (attempts per GiB): synprobe against the tcpdump floor, best wall seconds (cpu seconds)."
  echo "  per attempt = (synprobe - synprobe 'port 1') / attempts: what judging and writing one costs."
  echo "  Targets: --json and text <= 1.0 x tcpdump at every density, <= 0.5 x at 10^4; RSS < 64 MB."
  printf '  %-9s %-7s %9s %15s %15s %15s %15s %7s %7s %9s %9s %9s %9s\n' density format attempts \
    "json s (cpu)" "text s (cpu)" "port 1 s (cpu)" "tcpdump s (cpu)" "json/td" "text/td" "json ns/a" "text ns/a" "json RSS" "text RSS"
  for row in "${density_rows[@]}"; do
    IFS='|' read -r dens fmt att pg s sc x xc z zc d dc srss xrss <<<"$row"
    awk -v dens="$dens" -v fmt="$fmt" -v att="$att" -v s="$s" -v sc="$sc" -v x="$x" -v xc="$xc" -v z="$z" -v zc="$zc" \
        -v d="$d" -v dc="$dc" -v srss="$srss" -v xrss="$xrss" 'BEGIN {
      rj = s / d; rt = x / d; limit = (dens + 0 <= 10000 ? 0.5 : 1.0);
      printf "  %-9s %-7s %9d %7.3f (%5.2f) %7.3f (%5.2f) %7.3f (%5.2f) %7.3f (%5.2f) %6.2f%s %6.2f%s %9.0f %9.0f %8.1fM %8.1fM\n",
        dens, fmt, att, s, sc, x, xc, z, zc, d, dc, rj, (rj <= limit ? " " : "!"), rt, (rt <= limit ? " " : "!"),
        (s - z) / att * 1e9, (x - z) / att * 1e9, srss / 1024, xrss / 1024
    }'
  done
  echo "  (! = target missed)"
fi
exit "$status"
