#!/usr/bin/env bash
# The Debian package as a user gets it: scripts/package.sh builds it (or
# XDPFLOW_DEB names one), dpkg installs it on this machine, the units, the
# conffile and the man page are where Debian looks for them, systemd accepts
# the units, `xdpflow --version` runs from the installed path, and a purge
# leaves nothing behind (the conffile included).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
xf_require_root
src=${XDPFLOW_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
if dpkg-query -W -f='${Status}' xdpflow 2>/dev/null | grep -q installed; then
  xf_fail "a package named xdpflow is already installed here; this test would replace and purge it"
fi
dir=$(mktemp -d /tmp/xfdeb$$.XXXXXX)
xf_on_exit "rm -rf '$dir'"
xf_on_exit "dpkg --purge xdpflow >/dev/null 2>&1 || true"

deb=${XDPFLOW_DEB:-}
if [ -z "$deb" ]; then
  "$src/scripts/package.sh" "$dir" >"$dir/package.log" 2>&1 || { cat "$dir/package.log"; xf_fail "scripts/package.sh failed"; }
  deb=$(ls "$dir"/xdpflow_*.deb)
fi
version=$(sed -n 's/^project(xdpflow VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ "$(basename "$deb")" = "xdpflow_${version}-1_$(dpkg --print-architecture).deb" ] ||
  xf_fail "unexpected package name $(basename "$deb")"

dpkg -i "$deb" >"$dir/install.log" 2>&1 || { cat "$dir/install.log"; xf_fail "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Status}' xdpflow)" = "install ok installed" ] || xf_fail "not installed"
for f in /usr/sbin/xdpflow /lib/systemd/system/xdpflow.service /lib/systemd/system/xdpflow-metrics.service \
  /lib/systemd/system/xdpflow-metrics.timer /etc/xdpflow.conf /usr/share/man/man8/xdpflow.8.gz \
  /usr/share/doc/xdpflow/copyright; do
  [ -f "$f" ] || xf_fail "$f missing after install"
done
dpkg-query -W -f='${Conffiles}\n' xdpflow | grep -q '^ /etc/xdpflow.conf ' ||
  xf_fail "/etc/xdpflow.conf is not a conffile"
grep -qx 'ExecStart=/usr/sbin/xdpflow attach --config /etc/xdpflow.conf' /lib/systemd/system/xdpflow.service ||
  xf_fail "the unit does not run the installed binary"
systemd-analyze verify --man=no /lib/systemd/system/xdpflow.service \
  /lib/systemd/system/xdpflow-metrics.service /lib/systemd/system/xdpflow-metrics.timer >"$dir/verify.log" 2>&1 ||
  { cat "$dir/verify.log"; xf_fail "systemd-analyze verify rejected the installed units"; }
out=$(/usr/sbin/xdpflow --version) || xf_fail "xdpflow --version failed"
grep -q "$version" <<<"$out" || xf_fail "xdpflow --version says '$out', not $version"
man -l /usr/share/man/man8/xdpflow.8.gz 2>/dev/null | grep -q 'prometheus' || xf_fail "the man page does not cover --format prometheus"

dpkg --purge xdpflow >"$dir/purge.log" 2>&1 || { cat "$dir/purge.log"; xf_fail "dpkg --purge failed"; }
for f in /usr/sbin/xdpflow /lib/systemd/system/xdpflow.service /etc/xdpflow.conf; do
  [ ! -e "$f" ] || xf_fail "$f left after purge"
done
echo "PASS: $(basename "$deb") installs the binary ($out), units, conffile and man page; purge removes them"
