#!/usr/bin/env bash
# Least privilege. `xdpflow attach` runs as an unprivileged uid (65534) with
# exactly the capabilities it needs (XF_CAPS, measured: see below), proves it
# works (the program is attached, `stats` answers), and fails without each one
# of them with exit 1 and a message naming the missing capability. `xdpflow
# stats` as an unprivileged user without capabilities fails with one clear
# line, not a stack trace. With --pin, the pin directory is 0700 and the pins
# 0600.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/gateway.sh" # xf_wait_for
xf_require_root
[ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN is not set to the xdpflow binary"
command -v setpriv >/dev/null || xf_fail "setpriv (util-linux) missing"
read -ra CAPS <<<"${XF_CAPS:-bpf net_admin perfmon}"

ns=xfh$$cap
ip netns add "$ns" || xf_fail "ip netns add $ns"
xf_on_exit "ip netns del $ns"
xf_on_exit "ip netns pids $ns 2>/dev/null | xargs -r kill -9"
ip -n "$ns" link add xfh0 type veth peer name xfh1 || xf_fail "creating the veth pair"
ip -n "$ns" link set xfh0 up
ip -n "$ns" link set xfh1 up
ip -n "$ns" link set lo up
dir=$(mktemp -d /tmp/xfh$$.XXXXXX)
xf_on_exit "rm -rf '$dir'"
chmod 755 "$dir"

# Interfaces with an xdpflow program (XDP or TC, whichever hook attach chose),
# as root sees them; 0 when none.
attached_count() {
  local st
  st=$(ip netns exec "$ns" "$XDPFLOW_BIN" status --json 2>/dev/null) || { echo 0; return; }
  jq '.interfaces | length' <<<"$st"
}

# as_user CAPS... -- CMD...: CMD in the namespace as uid/gid 65534 with exactly
# CAPS (comma list, may be empty) as inheritable, ambient and bounding set.
# The per-netns lock directory /run/xdpflow is root's; a service running as
# another user gets it from systemd (User= with RuntimeDirectory=xdpflow,
# owned by that user): the same here, a tmpfs owned by 65534 mounted over it
# in a mount namespace of the command's own.
mkdir -p -m 0755 /run/xdpflow
as_user() {
  local caps=$1
  shift
  local plus=-all
  [ -n "$caps" ] && plus="-all,$(echo "$caps" | sed 's/\([a-z_]*\)/+\1/g')"
  timeout "${AS_USER_TIMEOUT:-0}" ip netns exec "$ns" unshare -m --propagation private \
    sh -c 'mount -t tmpfs -o uid=65534,gid=65534,mode=0755 xfrun /run/xdpflow && exec "$@"' sh \
    setpriv --reuid=65534 --regid=65534 --clear-groups \
    --inh-caps="$plus" --ambient-caps="$plus" --bounding-set="$plus" "$@"
}
join() { local IFS=,; echo "$*"; }

# 1. Exactly the set: attach works.
all=$(join "${CAPS[@]}")
as_user "$all" "$XDPFLOW_BIN" attach xfh0 xfh1 >"$dir/ok.log" 2>&1 &
pid=$!
xf_on_exit "kill -9 $pid 2>/dev/null"
xf_wait_for 10 grep -q "running on" "$dir/ok.log" ||
  xf_fail "attach with only {$all} did not come up: $(cat "$dir/ok.log")"
[ "$(attached_count)" = 2 ] || xf_fail "attach with only {$all} reports running but not both interfaces are attached"
ip netns exec "$ns" "$XDPFLOW_BIN" stats --json >/dev/null || xf_fail "stats (as root) does not find the instance"
echo "ok: attach as uid 65534 with only {$all} works"

# 2. stats as an unprivileged user, no capabilities: one clear line.
rc=0
as_user "" "$XDPFLOW_BIN" stats >"$dir/stats.out" 2>"$dir/stats.err" || rc=$?
[ "$rc" = 1 ] || xf_fail "unprivileged stats: exit $rc, expected 1: $(cat "$dir/stats.err")"
[ "$(grep -c . "$dir/stats.err")" = 1 ] || xf_fail "unprivileged stats: not one line: $(cat "$dir/stats.err")"
grep -qiE "permission|privilege|root|CAP_" "$dir/stats.err" ||
  xf_fail "unprivileged stats does not say it lacks privileges: $(cat "$dir/stats.err")"
echo "ok: unprivileged stats: $(cat "$dir/stats.err")"

# $pid is the subshell running as_user: signal the xdpflow in the namespace.
# shellcheck disable=SC2046 # one pid per word
kill -TERM $(ip netns pids "$ns")
xf_wait_for 10 eval '[ -z "$(ip netns pids '"$ns"')" ]' || xf_fail "attach did not stop on SIGTERM"
[ "$(attached_count)" = 0 ] || xf_fail "still attached after SIGTERM"

# 3. Without each capability: exit 1, the missing one named, nothing attached.
for drop in "${CAPS[@]}"; do
  rest=()
  for c in "${CAPS[@]}"; do [ "$c" = "$drop" ] || rest+=("$c"); done
  rc=0
  AS_USER_TIMEOUT=15 as_user "$(join "${rest[@]}")" "$XDPFLOW_BIN" attach xfh0 xfh1 >"$dir/$drop.out" 2>"$dir/$drop.err" || rc=$?
  err=$(cat "$dir/$drop.err")
  [ "$rc" = 1 ] || xf_fail "without $drop: exit $rc, expected 1: $err $(cat "$dir/$drop.out")"
  want=CAP_$(echo "$drop" | tr a-z A-Z)
  [ "$(grep -c . "$dir/$drop.err")" = 1 ] || xf_fail "without $drop: not one line on stderr: $err"
  grep -q "lacks $want\b" "$dir/$drop.err" || xf_fail "without $drop: the message does not name $want as missing: $err"
  for c in "${rest[@]}"; do
    ! grep -q "lacks.*CAP_$(echo "$c" | tr a-z A-Z)\b" "$dir/$drop.err" ||
      xf_fail "without $drop: the message claims CAP_$c is missing too: $err"
  done
  [ "$(attached_count)" = 0 ] || xf_fail "without $drop: something stayed attached"
  echo "ok: without $want: $err"
done

# 4. Pins are root-only.
ip netns exec "$ns" sh -c "mount -t bpf bpf /sys/fs/bpf && exec '$XDPFLOW_BIN' attach --pin /sys/fs/bpf/xfh$$ xfh0 xfh1" \
  >"$dir/pin.log" 2>&1 &
ppid=$!
xf_on_exit "kill -9 $ppid 2>/dev/null"
xf_wait_for 10 grep -q "running on" "$dir/pin.log" || xf_fail "attach --pin did not come up: $(cat "$dir/pin.log")"
# The pins live in the mount namespace of that process: look through /proc.
pins=/proc/$ppid/root/sys/fs/bpf/xfh$$
mode=$(stat -c %a "$pins") || xf_fail "no pin directory $pins"
[ "$mode" = 700 ] || xf_fail "pin directory mode $mode, expected 700"
n=0
for f in "$pins"/*; do
  m=$(stat -c %a "$f")
  [ "$m" = 600 ] || xf_fail "pin $f mode $m, expected 600"
  n=$((n + 1))
done
[ $n -gt 0 ] || xf_fail "no pins in $pins"
kill -TERM $ppid
echo "PASS: attach needs exactly {$all} (works as uid 65534 with them, names the one missing otherwise); unprivileged stats fails cleanly; $n pins 0600 in a 0700 directory"
