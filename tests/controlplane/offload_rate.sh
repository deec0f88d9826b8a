#!/usr/bin/env bash
# Offload rate and event -> map latency of the control plane (see
# offload_rate.cpp). Builds one namespace with lan0/wan0 (veth pairs whose
# peers stay in the same namespace), permanent neighbours for the synthetic
# client and server, runs the tool, deletes everything.
#   offload_rate.sh TOOL [--flows N] [--samples K] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
xf_require_root
tool=$1
shift
ns="xfcp$$r"
xf_on_exit "ip netns del $ns"
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns sysctl -qw net.ipv4.ip_forward=1
in_ns ip link add lan0 type veth peer name lanp
in_ns ip link add wan0 type veth peer name wanp
for l in lan0 lanp wan0 wanp; do in_ns ip link set "$l" up; done
in_ns ip addr add 198.18.0.1/24 dev lan0
in_ns ip addr add 198.19.0.1/24 dev wan0
in_ns ip neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev lan0 nud permanent
in_ns ip neigh add 198.19.0.2 lladdr 02:00:00:00:01:02 dev wan0 nud permanent
# Conntrack on in the namespace (a ruleset that uses it), as on a gateway.
in_ns nft add table inet xfcp
in_ns nft add chain inet xfcp forward_chain '{ type filter hook forward priority 0; }'
in_ns nft add rule inet xfcp forward_chain ct state established accept
in_ns ${XF_WRAP:-} "$tool" "$@"
