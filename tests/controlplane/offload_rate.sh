#!/usr/bin/env bash
# Offload rate and event -> map latency of the control plane (see
# offload_rate.cpp). Builds one namespace with lan0/wan0 (veth pairs whose
# peers lanp/wanp stay in the same namespace: the tool sends the synthetic
# connections' packets into them), permanent neighbours for the synthetic
# client and server, a gateway ruleset (conntrack, masquerade: the NAT hooks
# rewrite the injected connections' packets), runs the tool, deletes
# everything. What the gateway forwards reaches lanp/wanp addressed to the
# synthetic hosts' MACs, which they are not: dropped there.
#   offload_rate.sh TOOL [--flows N] [--samples K] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
xf_require_root
tool=$1
shift
ns="xfcp$$r"
client_mac=02:00:00:00:00:02 server_mac=02:00:00:00:01:02
xf_on_exit "ip netns del $ns"
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# IPv4 only: IPv6 address autoconfiguration and DAD on the new veths would
# go on into the measurement, and its route and address events invalidate
# every offloaded connection (docs/architecture.md, invalidation).
in_ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 \
  net.ipv6.conf.default.disable_ipv6=1
in_ns ip link add lan0 type veth peer name lanp
in_ns ip link add wan0 type veth peer name wanp
for l in lan0 lanp wan0 wanp; do in_ns ip link set "$l" up; done
in_ns ip addr add 198.18.0.1/24 dev lan0
in_ns ip addr add 198.19.0.1/24 dev wan0
in_ns ip neigh add 198.18.0.2 lladdr $client_mac dev lan0 nud permanent
in_ns ip neigh add 198.19.0.2 lladdr $server_mac dev wan0 nud permanent
# Conntrack and NAT on in the namespace (a ruleset that uses them), as on a
# gateway.
in_ns nft -f - <<'NFT'
table inet xfcp {
  chain forward_chain { type filter hook forward priority 0; ct state established accept; }
  chain postrouting { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
}
NFT
in_ns ${XF_WRAP:-} "$tool" --lan-peer lanp --wan-peer wanp --client-mac $client_mac \
  --server-mac $server_mac "$@"
