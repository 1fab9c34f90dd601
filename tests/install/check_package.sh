#!/usr/bin/env bash
# The install and the Debian package, from the already built tree (seconds, not a rebuild):
#  1. `cmake --install` into a temporary prefix puts the binary, the man page (which
#     `man` then finds), the completions, the schema and the docs where they belong;
#  2. cpack builds the .deb (into a temporary directory); its Depends names the Debian
#     package of every shared library the binary links (found with ldd and dpkg -S);
#  3. the postinst grants capabilities only with SYNPROBE_SETCAP=1 (a stand-in setcap
#     records what it is asked);
#  4. `dpkg-deb -x` extracts it; the extracted synprobe prints its versions and analyses a
#     sample with the right verdicts, and its man page renders;
#  5. dpkg installs it into an empty root of its own (its own database, --force-depends as
#     that root holds no libraries, maintainer scripts chrootless), with SYNPROBE_SETCAP=1
#     and the stand-in setcap, and removes it without a file left.
#   check_package.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 source=$2 version=$3
tmp=$(mktemp -d /tmp/synprobe-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run_logged() {  # run_logged LOG COMMAND...: quiet, the log shown on failure
  local log=$1; shift
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$* (log above)"; }
}

# 1. cmake --install
prefix=$tmp/prefix
run_logged "$tmp/install.log" cmake --install "$build" --prefix "$prefix"
for f in bin/synprobe share/man/man1/synprobe.1.gz share/bash-completion/completions/synprobe \
         share/zsh/vendor-completions/_synprobe share/synprobe/synprobe.schema.json \
         share/synprobe/synprobe-merge.schema.json share/doc/synprobe/docs/merge.md \
         share/doc/synprobe/README.md share/doc/synprobe/docs/json.md share/doc/synprobe/docs/exit-codes.md; do
  [ -f "$prefix/$f" ] || fail "cmake --install did not install $f"
done
cmp -s "$prefix/share/synprobe/synprobe.schema.json" "$source/docs/schema/synprobe.schema.json" ||
  fail "the installed schema differs from docs/schema/synprobe.schema.json"
found=$(man -M "$prefix/share/man" -w synprobe) || fail "man -M $prefix/share/man -w synprobe found nothing"
[ "$found" = "$prefix/share/man/man1/synprobe.1.gz" ] || fail "man found $found"
MANWIDTH=80 man -M "$prefix/share/man" synprobe 2>/dev/null | grep -q 'EXIT STATUS' ||
  fail "man synprobe (installed prefix) does not show the page"
echo "ok   cmake --install: binary, man page (man finds it), completions, schema, docs"

# 2. the .deb and its Depends. cpack first builds the "preinstall" target (everything), a
# few seconds' check on a built tree (scripts/test.sh builds before testing); on a tree
# built only in part, it would build the rest.
run_logged "$tmp/cpack.log" cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/pkg"
arch=$(dpkg --print-architecture)
deb=$tmp/pkg/synprobe_${version}_${arch}.deb
[ -f "$deb" ] || { ls -l "$tmp/pkg" >&2; fail "no $(basename "$deb")"; }
[ "$(dpkg-deb -f "$deb" Package)" = synprobe ] || fail "Package is not synprobe"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "ok   $(basename "$deb"): $(stat -c %s "$deb") bytes; Depends: $depends"
has_dependency() { [[ ", $depends," == *", $1 ("* || ", $depends," == *", $1,"* ]]; }
for p in libpcap0.8 libtins4.0 libfmt9 libc6 libstdc++6; do
  has_dependency "$p" || fail "Depends lacks $p: $depends"
done
# Every library the binary links (its NEEDED entries; ldd says where each is) comes from a
# package that Depends names.
needed=$(readelf -d "$build/src/synprobe" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf found no NEEDED library in $build/src/synprobe"
while read -r lib; do
  pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
  if [ -z "$pkg" ]; then  # /lib is a symlink to /usr/lib on Debian 12: ask for the other spelling
    alt=${lib#/usr}; [ "$alt" = "$lib" ] && alt=/usr$lib
    pkg=$(dpkg -S "$alt" 2>/dev/null | head -1 | cut -d: -f1) || true
  fi
  [ -n "$pkg" ] || fail "no Debian package owns $lib, which synprobe links"
  has_dependency "$pkg" || fail "synprobe links $lib of package $pkg, which Depends lacks: $depends"
done < <(ldd "$build/src/synprobe" | awk -v needed="$needed" '
  BEGIN { n = split(needed, names, "\n"); for (i = 1; i <= n; i++) want[names[i]] = 1 }
  $2 == "=>" && ($1 in want) && $3 ~ /^\// { print $3 }')
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/synprobe ./usr/share/man/man1/synprobe.1.gz ./usr/share/bash-completion/completions/synprobe \
         ./usr/share/zsh/vendor-completions/_synprobe ./usr/share/synprobe/synprobe.schema.json \
         ./usr/share/synprobe/synprobe-merge.schema.json ./usr/share/doc/synprobe/README.md; do
  grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done
echo "ok   Depends names the package of each library synprobe links ($(tr '\n' ' ' <<<"$needed")); the files are in the package"

# 3. postinst: capabilities only when asked
dpkg-deb -e "$deb" "$tmp/control"
postinst=$tmp/control/postinst
[ -x "$postinst" ] || fail "the package has no executable postinst"
mkdir "$tmp/fakebin"
printf '#!/bin/sh\necho "$*" >> %s\n' "$tmp/setcap-calls" >"$tmp/fakebin/setcap"
chmod +x "$tmp/fakebin/setcap"
out=$(env -u SYNPROBE_SETCAP PATH="$tmp/fakebin:$PATH" sh "$postinst" configure)
[ ! -e "$tmp/setcap-calls" ] || fail "postinst ran setcap without SYNPROBE_SETCAP=1: $(cat "$tmp/setcap-calls")"
grep -q 'setcap cap_net_raw,cap_net_admin+ep /usr/bin/synprobe' <<<"$out" || fail "postinst does not say how to grant: $out"
grep -q 'setcap -r /usr/bin/synprobe' <<<"$out" || fail "postinst does not say how to undo: $out"
SYNPROBE_SETCAP=1 PATH="$tmp/fakebin:$PATH" sh "$postinst" configure >/dev/null
[ "$(cat "$tmp/setcap-calls")" = "cap_net_raw,cap_net_admin+ep /usr/bin/synprobe" ] ||
  fail "with SYNPROBE_SETCAP=1, postinst asked setcap: $(cat "$tmp/setcap-calls" 2>/dev/null)"
echo "ok   postinst: prints how to grant and undo; runs setcap only with SYNPROBE_SETCAP=1"

# 4. the extracted package runs
root=$tmp/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/synprobe
versions=$("$bin" --version)
[ "$(head -1 <<<"$versions")" = "synprobe $version" ] || fail "extracted synprobe --version: $versions"
grep -q '^libpcap version [0-9]' <<<"$versions" || fail "--version lacks libpcap: $versions"
grep -q '^libtins [0-9]' <<<"$versions" || fail "--version lacks libtins: $versions"
grep -q '^fmt [0-9]' <<<"$versions" || fail "--version lacks fmt: $versions"
out=$("$bin" analyze "$source/samples/open/capture.pcapng") || fail "extracted synprobe analyze failed"
grep -q '^2 connection attempts: 2 open$' <<<"$out" || fail "extracted synprobe analyze: $out"
json=$("$bin" analyze -r "$source/samples/router-reject-rst/capture.pcapng" -n --json)
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = sorted({(a["dport"], a["verdict"], a["hop"]) for a in d["attempts"]})
assert v == [(80, "open", 4), (90, "refused-by-middlebox", 2)], v
' "$json" || fail "extracted synprobe analyze -r router-reject-rst -n --json"
MANWIDTH=80 man -l "$root/usr/share/man/man1/synprobe.1.gz" 2>/dev/null | grep -q '^SYNOPSIS' ||
  fail "the packaged man page does not render"
echo "ok   extracted: synprobe --version ($(tr '\n' ';' <<<"$versions")), analyze of two samples, man page"

# 5. dpkg install and remove in a clean root
dpkgroot=$tmp/dpkgroot
mkdir -p "$dpkgroot/var/lib/dpkg/info" "$dpkgroot/var/lib/dpkg/updates" "$dpkgroot/var/lib/dpkg/triggers"
: >"$dpkgroot/var/lib/dpkg/status"
rm -f "$tmp/setcap-calls"
dpkg_root() { dpkg --root="$dpkgroot" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
SYNPROBE_SETCAP=1 PATH="$tmp/fakebin:$PATH" run_logged "$tmp/dpkg-install.log" dpkg_root -i "$deb"
[ "$(dpkg-query --root="$dpkgroot" -W -f='${Status}' synprobe)" = "install ok installed" ] ||
  fail "dpkg did not leave synprobe installed and configured in $dpkgroot"
[ -x "$dpkgroot/usr/bin/synprobe" ] || fail "dpkg -i did not install usr/bin/synprobe"
[ "$(cat "$tmp/setcap-calls" 2>/dev/null)" = "cap_net_raw,cap_net_admin+ep $dpkgroot/usr/bin/synprobe" ] ||
  fail "dpkg -i with SYNPROBE_SETCAP=1: postinst asked setcap: $(cat "$tmp/setcap-calls" 2>/dev/null)"
run_logged "$tmp/dpkg-remove.log" dpkg_root -r synprobe
left=$(find "$dpkgroot" -path "$dpkgroot/var" -prune -o -type f -print)
[ -z "$left" ] || fail "dpkg -r left files: $left"
echo "ok   dpkg -i into a clean root (postinst with SYNPROBE_SETCAP=1 granted to the installed file), dpkg -r leaves nothing"
