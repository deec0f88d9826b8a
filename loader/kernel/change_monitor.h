// What can change a forwarding decision the kernel took and the observer
// recorded (invalidation): route and ip rule changes, neighbours, links and
// addresses, bridge FDB moves (rtnetlink), and nftables ruleset generations
// (NFNLGRP_NFTABLES). process_events() says which causes happened; the
// control plane then drops the affected entries and re-learns them from the
// kernel's next packets. Also mirrors link MTUs (for the entries' MTU check)
// and keeps the neighbours offloaded traffic uses fresh (NTF_USE).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/neighbour_mirror.h"
#include "kernel/netlink_socket.h"

namespace xdpflow {

class ChangeMonitor {
public:
  using Causes = std::array<bool, XF_INVAL_MAX>;

  ChangeMonitor();

  // The two event sockets, for poll().
  int route_fd() const { return events_.fd(); }
  int nftables_fd() const { return nft_.fd(); }
  // Applies queued events; returns which causes of invalidation occurred.
  Causes process_events();

  std::optional<std::uint32_t> mtu_of(std::uint32_t ifindex) const;
  // The MTU of the route to dst when it sets one (RTAX_MTU, `ip route ...
  // mtu N`), asked once per destination and forgotten on any route or link
  // change. A frame does not show it; the fast path must not forward what
  // the kernel would fragment or refuse.
  std::optional<std::uint32_t> route_mtu(const IpAddr &dst);
  // NTF_USE on every STALE neighbour whose MAC is in macs, as if the kernel
  // had just sent to it: it moves to DELAY and PROBE and learns a changed
  // address like it would for its own traffic. Returns how many.
  std::size_t refresh_stale(const std::set<Mac> &macs);

private:
  void dump_all();
  void apply(const nlmsghdr *nlh, Causes &causes);
  bool apply_link(const nlmsghdr *nlh);
  std::optional<xf_invalidation> apply_neigh(const nlmsghdr *nlh);
  void drain(NetlinkSocket &sock, Causes &causes, bool nftables);

  NetlinkSocket query_;  // dumps and NTF_USE requests
  NetlinkSocket events_; // rtnetlink groups
  NetlinkSocket nft_;    // NFNLGRP_NFTABLES
  NetlinkSocket neigh_;  // NTF_USE, fire and forget
  struct Link {
    std::uint32_t mtu = 0;
    std::uint32_t flags = 0;
    std::array<std::uint8_t, 6> mac{};
    bool operator==(const Link &) const = default;
  };
  std::map<std::uint32_t, Link> links_;
  std::map<IpAddr, std::optional<std::uint32_t>> route_mtus_;
  NeighbourMirror neighbours_;
  std::vector<std::uint8_t> buf_;
};

} // namespace xdpflow
