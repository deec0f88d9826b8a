#!/usr/bin/env bash
# scripts/package.sh [OUTDIR]: builds xdpflow_<version>-1_<arch>.deb for this
# machine's architecture into OUTDIR (default: dist-deb/) from a clean build
# with Debian's hardening flags (dpkg-buildflags), then runs lintian on it.
#
# Contents: /usr/sbin/xdpflow (stripped), /lib/systemd/system/xdpflow.service
# and xdpflow-metrics.{service,timer} (not enabled: /etc/xdpflow.conf names
# the interfaces first), /etc/xdpflow.conf (a conffile: dpkg keeps local
# edits on upgrade), the man page, copyright and changelog. Depends computed
# by dpkg-shlibdeps. Needs dpkg-dev and lintian (scripts/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist-deb}
build=${XDPFLOW_DEB_BUILD_DIR:-$root/build-deb}
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^project(xdpflow VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[ -n "$version" ] || { echo "package.sh: no version in CMakeLists.txt" >&2; exit 1; }
debversion=$version-1
pkg=$build/pkg
mkdir -p "$out"

# Debian's hardening flags (PIE, RELRO, bindnow, fortify, stack protector).
# From the source tree: the flags map the current directory away
# (-ffile-prefix-map), so another directory would mean other flags and a
# full rebuild.
cd "$root"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags=$(dpkg-buildflags --get CFLAGS)
cxxflags="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_INSTALL_SYSCONFDIR=/etc -DXDPFLOW_BUILD_TESTS=OFF \
  -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cxxflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$build" -j"${XDPFLOW_JOBS:-2}" --target xdpflow
rm -rf "$pkg"
DESTDIR=$pkg cmake --install "$build" --component Unspecified >/dev/null

# Debian's places: units under /lib (bookworm), the config as a conffile,
# man page and changelog compressed, the binary stripped.
mkdir -p "$pkg/lib/systemd" "$pkg/etc" "$pkg/DEBIAN"
mv "$pkg/usr/lib/systemd/system" "$pkg/lib/systemd/system"
rmdir -p --ignore-fail-on-non-empty "$pkg/usr/lib/systemd"
install -m 0644 "$root/dist/xdpflow.conf" "$pkg/etc/xdpflow.conf"
rm -rf "$pkg/usr/share/doc/xdpflow/examples" # the conffile is the example
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$pkg/usr/sbin/xdpflow"
gzip -9n "$pkg/usr/share/man/man8/xdpflow.8"
doc=$pkg/usr/share/doc/xdpflow
mkdir -p "$doc"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: xdpflow

Files: *
Copyright: 2026 the xdpflow authors
License: GPL-2.0-only
 The BPF programs and include/xdpflow are GPL-2.0 OR BSD-2-Clause.
 .
 On Debian systems, the complete text of the GNU General Public License
 version 2 can be found in /usr/share/common-licenses/GPL-2.
COPYRIGHT
{
  echo "xdpflow ($debversion) unstable; urgency=medium"
  echo
  echo "  * Built from $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'a source tree') by scripts/package.sh."
  echo
  echo " -- xdpflow maintainers <xdpflow@localhost.invalid>  $(date -uR -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} | gzip -9n >"$doc/changelog.Debian.gz"
# The two tags lintian still gives, each with its reason (README.md, "Debian package").
mkdir -p "$pkg/usr/share/lintian/overrides"
cat >"$pkg/usr/share/lintian/overrides/xdpflow" <<'OVERRIDES'
# Not an upload to Debian: there is no ITP bug to close.
xdpflow: initial-upload-closes-no-bugs
# systemd only: the service is Type=notify and its bpf_links live exactly as
# long as the process systemd supervises; a sysvinit script could not offer
# the same guarantees.
xdpflow: package-supports-alternative-init-but-no-init.d-script *
OVERRIDES
find "$pkg" -type d -exec chmod 0755 {} +

# Depends from the binary's libraries (dpkg-shlibdeps wants a debian/control).
shl=$build/shlibdeps
mkdir -p "$shl/debian"
printf 'Source: xdpflow\n\nPackage: xdpflow\nArchitecture: any\n' >"$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O "$pkg/usr/sbin/xdpflow" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: xdpflow
Version: $debversion
Architecture: $arch
Maintainer: xdpflow maintainers <xdpflow@localhost.invalid>
Installed-Size: $size
Depends: $depends
Suggests: prometheus-node-exporter
Section: net
Priority: optional
Homepage: https://xdpflow.invalid/
Description: XDP flow cache for Linux gateways
 xdpflow offloads established connections that conntrack has accepted to
 an XDP/TC fast path: later packets are rewritten (NAT, TTL, checksums,
 MACs, VLAN/PPPoE) and redirected before the kernel allocates an skb, the
 analogue of nf_flow_table for any kernel with native XDP.
 .
 The package ships the xdpflow command, xdpflow.service (configured in
 /etc/xdpflow.conf) and a timer writing Prometheus metrics for the
 node_exporter textfile collector.
CONTROL
echo /etc/xdpflow.conf >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$pkg/DEBIAN/md5sums"

deb=$out/xdpflow_${debversion}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "package.sh: $deb"
if command -v lintian >/dev/null; then
  # Overridden tags, each explained (usr/share/lintian/overrides/xdpflow).
  lintian --info --display-info --show-overrides "$deb" || true
fi
