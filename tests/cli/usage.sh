#!/usr/bin/env bash
# Usage errors exit 2 with a line saying what is wrong; --help works on every
# command; --version. No privileges needed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$(mktemp)
xf_on_exit "rm -f '$out'"

xf_expect_rc 0 "$out" "$XDPFLOW_BIN" --version
xf_expect_line "$out" '^xdpflow [0-9]+\.[0-9]+\.[0-9]+$'
for cmd in "" attach detach stats flows status; do
  # shellcheck disable=SC2086
  xf_expect_rc 0 "$out" "$XDPFLOW_BIN" $cmd --help
  xf_expect_line "$out" "^Usage: xdpflow"
done
xf_expect_line "$out" '--json'

xf_expect_rc 2 "$out" "$XDPFLOW_BIN"
xf_expect_line "$out" 'subcommand is required'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" frobnicate
xf_expect_line "$out" 'frobnicate'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach
xf_expect_line "$out" 'attach needs at least one interface'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach lan0 --mode turbo
xf_expect_line "$out" '--mode: turbo not in \{auto,hw,native,generic\}'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach lan0 --max-flows 0
xf_expect_line "$out" '--max-flows'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach lan0 --exclude-mark 0x10/0x01
xf_expect_line "$out" 'has bits outside its mask'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach xfcli-no-such-if
xf_expect_line "$out" "interface 'xfcli-no-such-if' does not exist in this network namespace"
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach --config /nonexistent/xdpflow.conf lan0
xf_expect_line "$out" 'cannot read the config file /nonexistent/xdpflow.conf'
conf=$(mktemp)
xf_on_exit "rm -f '$conf'"
printf 'interfaces = lan0\nmode = fast\n' >"$conf"
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" attach --config "$conf"
xf_expect_line "$out" ":2: mode must be auto, hw, native or generic, got 'fast'"
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" stats --watch 0
xf_expect_line "$out" '--watch'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" stats --count 3
xf_expect_line "$out" '--count only makes sense with --watch'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" flows --sort fastest
xf_expect_line "$out" '--sort: fastest not in \{packets,bytes,idle\}'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" flows --top 0
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" detach
xf_expect_line "$out" 'say what to detach'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" detach lan0 --all
xf_expect_line "$out" 'not both'
xf_expect_rc 2 "$out" "$XDPFLOW_BIN" status --bogus
xf_expect_line "$out" 'bogus'
# The README has one section per command, naming every option of its --help.
readme=${XDPFLOW_SOURCE_DIR:?}/README.md
for cmd in attach detach stats flows status; do
  section=$(awk -v h="### xdpflow $cmd" '$0 == h { on = 1; next } /^##/ { on = 0 } on' "$readme")
  [ -n "$section" ] || xf_fail "README.md has no '### xdpflow $cmd' section"
  for opt in $("$XDPFLOW_BIN" $cmd --help | grep -oE -- '--[a-z-]+' | grep -vx -- '--help' | sort -u); do
    grep -q -- "$opt" <<<"$section" || xf_fail "README section of '$cmd' does not mention $opt"
  done
done
echo "PASS: usage errors exit 2 with a helpful line; README documents every option"
