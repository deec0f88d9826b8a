// The tc configuration of interfaces, over rtnetlink (libmnl): egress qdisc
// kinds (RTM_GETQDISC dump) and whether an ingress filter redirects to an
// ifb (RTM_GETTFILTER dump of the ingress/clsact block, the mirred action of
// u32, bpf, basic, matchall and flower filters). Also a subscription to
// RTNLGRP_TC that says when any of it may have changed. Decisions from
// these facts are pure (core/hook_choice.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/hook_choice.h"
#include "kernel/netlink_socket.h"
#include "kernel/tcx_link.h"

namespace xdpflow {

// Throws SysError with the request that failed.
TcFacts read_tc_facts(std::uint32_t ifindex);

// BPF programs on an interface's tc ingress: tcx links (BPF_PROG_QUERY) and
// clsact/ingress bpf filters (their TCA_BPF_ID). Empty when none or the
// interface is gone; throws SysError(EPERM) without the privilege to query.
struct TcIngressProgram {
  std::uint32_t prog_id = 0;
  TcLinkKind kind = TcLinkKind::Tcx;
  std::uint32_t handle = 0, priority = 0; // clsact: what removes the filter
};
std::vector<TcIngressProgram> tc_ingress_programs(std::uint32_t ifindex);

// Driver name and XDP features of an interface (kernel/netdev_features.h).
DriverFacts read_driver_facts(const std::string &ifname, std::uint32_t ifindex);

// Non-blocking socket in RTNLGRP_TC: readable when a qdisc, class or
// filter was added, changed or removed anywhere in the namespace.
class TcChangeWatch {
public:
  TcChangeWatch();
  int fd() const { return sock_.fd(); }
  // Reads everything queued; true when anything was (or the queue overran,
  // which means the same: something changed).
  bool drain();

private:
  NetlinkSocket sock_;
};

} // namespace xdpflow
