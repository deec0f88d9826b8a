#!/usr/bin/env bash
# Bad input to xdpflow: unknown options and commands, bad interface names,
# missing, unreadable or malformed config files, values out of range. Every
# case must exit 2 with exactly one line on stderr that names the problem,
# and leave nothing attached (checked on a veth in a namespace of our own).
. "$(dirname "$0")/../lib/common.sh"
xf_require_root
[ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN is not set to the xdpflow binary"
command -v jq >/dev/null || xf_fail "jq is needed"

ns=xfh$$cli
ip netns add "$ns" || xf_fail "ip netns add $ns"
xf_on_exit "ip netns del $ns"
ip -n "$ns" link add xfh0 type veth peer name xfh1 || xf_fail "creating the veth pair"
ip -n "$ns" link set xfh0 up
ip -n "$ns" link set xfh1 up
dir=$(mktemp -d /tmp/xfh$$.XXXXXX)
xf_on_exit "rm -rf '$dir'"
chmod 755 "$dir"

attached_count() { ip -n "$ns" -j link show | jq '[.[] | select(.xdp != null)] | length'; }
cases=0

# expect_usage WHAT REGEX [--as-nobody] ARGS...: exit 2, one stderr line
# matching REGEX (case-insensitive), nothing attached.
expect_usage() {
  local what=$1 pattern=$2
  shift 2
  local run=(ip netns exec "$ns")
  if [ "$1" = --as-nobody ]; then
    run+=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    shift
  fi
  local rc=0
  timeout 10 "${run[@]}" "$XDPFLOW_BIN" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  local err
  err=$(cat "$dir/err")
  [ "$rc" = 2 ] || xf_fail "$what (xdpflow $*): exit $rc, expected 2; stderr: $err"
  local lines
  lines=$(grep -c . "$dir/err" || true)
  [ "$lines" = 1 ] || xf_fail "$what (xdpflow $*): $lines lines on stderr, expected one: $err"
  ! tr -d '\n' <"$dir/err" | LC_ALL=C grep -q '[[:cntrl:]]' ||
    xf_fail "$what (xdpflow $*): the message echoes control characters: $(cat -v "$dir/err")"
  grep -qiE -- "$pattern" "$dir/err" ||
    xf_fail "$what (xdpflow $*): the message does not name the problem (/$pattern/): $err"
  [ "$(attached_count)" = 0 ] || xf_fail "$what (xdpflow $*): an XDP program is attached"
  cases=$((cases + 1))
  echo "ok: $what: $err"
}

config() { # config NAME TEXT: writes $dir/NAME.conf
  printf '%b' "$2" >"$dir/$1.conf"
  chmod 644 "$dir/$1.conf"
  echo "$dir/$1.conf"
}

# --- command line ---------------------------------------------------------
expect_usage "no command" "subcommand|command"
expect_usage "unknown command" "frobnicate" frobnicate
expect_usage "unknown option" "--bogus" attach --bogus xfh0
expect_usage "unknown global option" "--frobnicate" --frobnicate status
expect_usage "attach without interfaces" "interface" attach
expect_usage "interface that does not exist" "nosuch0" attach nosuch0
expect_usage "one bad among good interfaces" "nosuch1" attach xfh0 nosuch1
expect_usage "interface name too long" "xfhaveryveryverylongname" attach xfhaveryveryverylongname
expect_usage "interface name with a slash" "a/b" attach a/b
expect_usage "empty interface name" "interface" attach ""
# A name given twice is no longer refused but attached once, with a note
# (issue 15: what users type): tests/cli/attach_targets.sh.
expect_usage "--mode out of the set" "mode|turbo" attach --mode turbo xfh0
expect_usage "--max-flows 0" "max-flows" attach --max-flows 0 xfh0
expect_usage "--max-flows above 2^24" "max-flows" attach --max-flows 16777217 xfh0
expect_usage "--max-flows not a number" "max-flows" attach --max-flows lots xfh0
expect_usage "--max-flows negative" "max-flows" attach --max-flows -1 xfh0
expect_usage "--max-flows overflowing 64 bits" "max-flows" attach --max-flows 99999999999999999999999 xfh0
expect_usage "--idle-timeout 0" "idle-timeout" attach --idle-timeout 0 xfh0
expect_usage "--exclude-mark garbage" "mark" attach --exclude-mark 0xzz xfh0
expect_usage "--exclude-mark three parts" "mark|mask" attach --exclude-mark 1/2/3 xfh0
expect_usage "--config missing" "nonexistent.conf" attach --config "$dir/nonexistent.conf" xfh0
expect_usage "--config is a directory" "$dir" attach --config "$dir" xfh0
expect_usage "stats --watch 0" "watch" stats --watch 0
expect_usage "flows --top not a number" "top" flows --top many
expect_usage "detach of a missing interface" "nosuch2" detach nosuch2

# --- config files ---------------------------------------------------------
f=$(config noeq 'interfaces = xfh0\nthis line has no equals sign\n')
expect_usage "config line without '='" "$f:2" attach --config "$f"
f=$(config unknown 'no-such-key = 1\ninterfaces = xfh0\n')
expect_usage "config with an unknown key" "$f:1.*no-such-key" attach --config "$f"
f=$(config lots 'interfaces = xfh0\nmax-flows = lots\n')
expect_usage "config max-flows not a number" "$f:2" attach --config "$f"
f=$(config zero '# comment\ninterfaces = xfh0\n\nmax-flows = 0\n')
expect_usage "config max-flows 0" "$f:4" attach --config "$f"
f=$(config big 'interfaces = xfh0\nmax-flows = 16777217\n')
expect_usage "config max-flows above 2^24" "$f:2" attach --config "$f"
f=$(config mode 'interfaces = xfh0\nmode = turbo\n')
expect_usage "config mode out of the set" "$f:2" attach --config "$f"
f=$(config idle 'interfaces = xfh0\nidle-timeout = -5\n')
expect_usage "config idle-timeout negative" "$f:2" attach --config "$f"
f=$(config bool 'interfaces = xfh0\nreplace = maybe\n')
expect_usage "config boolean neither yes nor no" "$f:2" attach --config "$f"
f=$(config badif 'interfaces = nosuch3\n')
expect_usage "config naming a missing interface" "nosuch3" attach --config "$f"
f=$(config binary '\x00\xff\xfe\x01=\x02\n\x7f\n')
expect_usage "config of binary junk" "$f" attach --config "$f" xfh0
f=$(config unreadable 'interfaces = xfh0\n')
chmod 600 "$f"
expect_usage "config not readable by the user" "$f" --as-nobody attach --config "$f"

[ "$(attached_count)" = 0 ] || xf_fail "something is attached at the end"
[ -z "$(ip netns pids "$ns")" ] || xf_fail "processes left in $ns: $(ip netns pids "$ns")"
echo "PASS: $cases bad inputs, each exit 2 with one clear line, nothing attached"
