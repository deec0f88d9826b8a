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
)
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
