// Driver XDP features from the kernel's "netdev" generic netlink family
// (NETDEV_CMD_DEV_GET, Linux 6.3+): what `ynl --family netdev --do dev-get`
// prints as xdp-features. libbpf 1.1 cannot read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace xdpflow {

// The interface's NETDEV_XDP_ACT_* bits (see core/xdp_mode.h), or nullopt
// when the kernel has no netdev family (older than 6.3) or cannot say.
std::optional<std::uint64_t> query_xdp_features(std::uint32_t ifindex);

// The interface's driver as `ethtool -i` names it; empty when unknown.
std::string driver_name(const std::string &ifname);

} // namespace xdpflow
