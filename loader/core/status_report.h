// `xdpflow status`: the running instance's interfaces, modes, driver XDP
// features, table fill and control-plane liveness, as a table or JSON. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/stats_report.h"
#include "xdpflow/flow.h"
#include "xdpflow/observer.h"

namespace xdpflow {

// A heartbeat older than this means the control plane is stuck or gone.
inline constexpr std::uint64_t kHeartbeatStaleNs = 5'000'000'000ull;

struct StatusSnapshot {
  std::uint32_t prog_id = 0;
  std::vector<AttachedInterface> interfaces;
  std::uint64_t flows_offloaded = 0, flows_capacity = 0;
  // Kernel memory of the flow table (both families' maps, as the kernel
  // accounts it: buckets and preallocated entries), 0 when unknown.
  std::uint64_t table_bytes = 0;
  xf_status cp{};                   // as the control plane published it (pid 0: never)
  std::optional<xf_obs_status> obs; // the observer's, when its map was found
  // Bridges some attached interfaces are ports of, with those ports
  // (core/attach_plan.h bridges_of): `attach br-lan` hooks the ports.
  std::vector<std::pair<std::string, std::vector<std::string>>> bridges;
  std::uint64_t now_ns = 0; // CLOCK_MONOTONIC, the clock of xf_status
};

bool control_plane_alive(const StatusSnapshot &s);

std::string status_table(const StatusSnapshot &s);
std::string status_json(const StatusSnapshot &s);

} // namespace xdpflow
