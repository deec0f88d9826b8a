# Sourced by shell tests. Root check with the project's skip rule: exit 77
# (ctest SKIP_RETURN_CODE) when not root, or fail under
# XDPFLOW_REQUIRE_ROOT_TESTS=1. Also: fail/pass helpers and a cleanup stack.
XF_SKIP=77

xf_require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if [ "${XDPFLOW_REQUIRE_ROOT_TESTS:-0}" = 1 ]; then
      echo "FAIL: $0 needs root, and XDPFLOW_REQUIRE_ROOT_TESTS=1 forbids skipping" >&2
      exit 1
    fi
    echo "SKIP: $0 needs root (network namespaces, XDP); run as root" >&2
    exit "$XF_SKIP"
  fi
}

xf_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

xf_log() { echo "[$(date +%T)] $*"; }

# Cleanup actions run in reverse order on any exit (success, failure, signal).
XF_CLEANUP=()
xf_on_exit() { XF_CLEANUP+=("$*"); }
xf_run_cleanup() {
  local i
  for ((i = ${#XF_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${XF_CLEANUP[$i]}" >/dev/null 2>&1 || true
  done
  XF_CLEANUP=()
}
trap xf_run_cleanup EXIT
trap 'exit 130' INT TERM
