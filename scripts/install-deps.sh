#!/usr/bin/env bash
# Installs what xdpflow needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are not downloaded again.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  clang llvm libclang-rt-14-dev libbpf-dev bpftool linux-libc-dev
  libmnl-dev libcli11-dev libgtest-dev libsystemd-dev libcap2-bin
  iproute2 nftables conntrack iperf3 tcpdump ethtool procps kmod
  python3 gnuplot-nox jq iputils-ping systemd
  dpkg-dev lintian man-db curl bzip2
)
# promtool (tests/cli/metrics.sh checks `stats --format prometheus` with it):
# only that binary, extracted from Debian's prometheus package (19 MB
# download, ~12 s), instead of installing the whole server (96 MB, web
# assets, a daemon and a system user).
install_promtool() {
  command -v promtool >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || { echo "install-deps: promtool missing; run as root" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp" # apt's download user writes there
  (cd "$tmp" && apt-get download -qq prometheus &&
    dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool) &&
    install -m 0755 "$tmp/usr/bin/promtool" /usr/local/bin/promtool
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
install_promtool

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
