# shellcheck shell=bash
# Shared by the CLI tests: the project's helpers, the namespace gateway, and
# assertions on xdpflow's output and exit code.
XF_CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
source "$XF_CLI_DIR/../lib/common.sh"
# shellcheck source=../lib/gateway.sh
source "$XF_CLI_DIR/../lib/gateway.sh"
export XF_NS_PREFIX=xfcli
[ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN must name the built xdpflow binary"

# xf_expect_rc RC OUTFILE CMD...: run CMD, stdout+stderr to OUTFILE, check rc.
xf_expect_rc() {
  local want=$1 out=$2
  shift 2
  local rc=0
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$out" >&2
    xf_fail "expected exit $want from '$*', got $rc"
  fi
}

# xf_expect_line OUTFILE REGEX: the output has a line matching REGEX.
xf_expect_line() {
  grep -Eq -- "$2" "$1" || {
    cat "$1" >&2
    xf_fail "no line matching /$2/ in the output above"
  }
}

# XDP program ids attached to IFACE in namespace NS (empty: none).
xf_xdp_ids() {
  ip -n "$1" -j link show dev "$2" | jq -r '.[0].xdp | if . == null then empty else
    ([.prog.id?, (.attached[]?.prog.id)] | map(select(. != null)) | unique | .[]) end'
}

# Every XDP link of the host held for program id $1 (empty: none).
xf_links_of_prog() {
  bpftool -j link show | jq -r --argjson p "$1" '.[] | select(.prog_id == $p) | .id'
}

# The per-netns lock of namespace $1: its file, and whether a process holds it
# (an OFD write lock on that file's inode in /proc/locks).
xf_lock_file() { echo "/run/xdpflow/netns-$(ip netns exec "$1" stat -Lc %i /proc/self/ns/net).lock"; }
xf_lock_held() {
  local f ino
  f=$(xf_lock_file "$1")
  ino=$(stat -c %i "$f" 2>/dev/null) || return 1
  grep -Eq "OFDLCK +ADVISORY +WRITE .*:$ino " /proc/locks
}
