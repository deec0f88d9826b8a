// Finding the running xdpflow of this network namespace without pins
// (DESIGN.md "Finding the running instance without pins"): interfaces of the
// netns -> XDP program ids (bpf_xdp_query) -> programs named "xdpflow" ->
// their map ids -> map fds by id, maps told apart by name. Works from any
// shell in the netns, including a fresh `ip netns exec`; needs CAP_SYS_ADMIN
// (the kernel's rule for opening BPF objects by id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/flow_report.h"
#include "core/observer_report.h"
#include "core/stats_report.h"
#include "core/status_report.h"
#include "kernel/flow_maps.h"
#include "kernel/unique_fd.h"

namespace xdpflow {

inline constexpr const char *kProgName = "xdpflow";
inline constexpr const char *kTcProgName = "xdpflow_tc"; // the same object's tc program

// A program's name by id ("" when it is gone); throws when it cannot be
// opened (permission: one line saying what to do).
std::string prog_name_of(std::uint32_t prog_id);
// Every interface of this network namespace (ifindex, name).
std::vector<std::pair<std::uint32_t, std::string>> list_interfaces();

// One XDP program attached to one interface of this netns, in one mode.
struct XdpAttachment {
  std::uint32_t ifindex = 0;
  std::string ifname;
  XdpMode mode = XdpMode::Native;
  std::uint32_t prog_id = 0;
  std::string prog_name; // empty when the program could not be opened
};

// Every XDP program attached in this network namespace (all modes).
std::vector<XdpAttachment> list_xdp_attachments();
// Those attached to one interface.
std::vector<XdpAttachment> xdp_attachments_of(std::uint32_t ifindex, const std::string &ifname);

// The bpf_link holding prog_id on ifindex, if it was attached through one
// (nullopt: attached the legacy netlink way, or the link is gone).
std::optional<UniqueFd> find_xdp_link(std::uint32_t prog_id, std::uint32_t ifindex);

// Interface name by index in this netns; "if<N>" when it has none.
std::string ifname_of(std::uint32_t ifindex);

class RunningInstance {
public:
  // The instance whose program is attached here; with several (leftovers
  // next to a live one), the one whose control plane is alive. Throws
  // RuntimeError "xdpflow is not running in this network namespace..." when
  // there is none.
  static RunningInstance find();

  std::uint32_t prog_id() const { return prog_id_; }
  const std::vector<AttachedInterface> &interfaces() const { return interfaces_; }

  StatsSnapshot stats() const;
  StatusSnapshot status() const;
  std::vector<FlowEntry> flow_entries() const;
  // The flow table's maps, to look entries up one by one (valid while this
  // object lives).
  FlowMaps flow_maps() const { return FlowMaps{flows4_.get(), flows6_.get()}; }
  xf_status control_plane_status() const;
  // The observer's counters and waiting connections (nullopt / empty when
  // the instance has no observer maps).
  std::optional<xf_obs_status> observer_status() const;
  std::vector<PendingConnection> pending() const;

  // Which hook runs on an interface's ingress: (xdp, tc).
  std::pair<bool, bool> ingress_hooks(std::uint32_t ifindex) const;

private:
  RunningInstance() = default;
  std::uint32_t open_maps(std::uint32_t prog_id);
  std::uint32_t prog_id_ = 0;
  std::vector<AttachedInterface> interfaces_;
  UniqueFd flows4_, flows6_, counters_, devmap_, status_;
  UniqueFd obs_status_, obs_pending_; // bound to the program by the observer
  std::uint64_t capacity_ = 0;        // connections
};

} // namespace xdpflow
