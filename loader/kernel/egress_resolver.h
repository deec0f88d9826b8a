// EgressLookup over rtnetlink: the kernel's route for a destination
// (RTM_GETROUTE, as `ip route get`), the output link's MAC/MTU/state and the
// next hop's MAC from the neighbour table. Links and neighbours are mirrored
// from a dump plus RTNLGRP_LINK/NEIGH events; routes are asked per
// destination and cached until any route or link event.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/flow_sync.h"
#include "kernel/netlink_socket.h"

namespace xdpflow {

class EgressResolver : public EgressLookup {
public:
  EgressResolver();

  std::optional<Egress> resolve(const FlowTuple &outgoing) override;

  // The event socket, for poll().
  int fd() const { return events_.fd(); }
  // Applies queued link/neighbour/route events. Returns true when something
  // that can change a resolution changed (the caller re-resolves its flows).
  bool process_events();
  // Human-readable reason of the last failed resolve() (for logs).
  const std::string &last_failure() const { return last_failure_; }

private:
  struct Link {
    std::array<std::uint8_t, 6> mac{};
    std::uint32_t mtu = 0;
    bool up = false;
    bool operator==(const Link &) const = default;
  };
  struct Route {
    std::uint32_t oif = 0;
    std::optional<IpAddr> gateway;
    std::uint32_t mtu = 0; // RTAX_MTU, 0 = the link's
  };
  using NeighKey = std::pair<std::uint32_t, IpAddr>;

  void dump_all();
  bool apply(const nlmsghdr *nlh); // returns "changed"
  bool apply_link(const nlmsghdr *nlh);
  bool apply_neigh(const nlmsghdr *nlh);
  std::optional<Route> query_route(const IpAddr &dst);

  NetlinkSocket query_;  // requests: dumps and route lookups
  NetlinkSocket events_; // link/neigh/route groups
  std::map<std::uint32_t, Link> links_;
  std::map<NeighKey, std::array<std::uint8_t, 6>> neighbours_;
  std::map<IpAddr, std::optional<Route>> routes_;
  std::vector<std::uint8_t> buf_;
  std::string last_failure_;
};

} // namespace xdpflow
