// What `xdpflow stats` and `xdpflow status` show, as plain data filled by the
// kernel side (kernel/instance.h), and its formatting: human tables and the
// JSON whose field names DESIGN.md fixes ("Command line"). Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hook_choice.h"
#include "core/xdp_mode.h"
#include "xdpflow/flow.h"

namespace xdpflow {

// JSON / table name of each enum xf_slow_reason ("no_flow", "tcp_fin_rst"...).
std::string_view slow_reason_name(unsigned reason);

struct AttachedInterface {
  std::string name;
  std::uint32_t ifindex = 0;
  XdpMode mode = XdpMode::Native;        // hw, native or generic
  std::optional<std::uint64_t> features; // driver XDP features, if known
  bool redirect_target = false;          // in the devmap
  std::string driver;                    // "veth", "mlx5_core"...; empty if unknown
  Hook hook = Hook::Xdp;                 // what forwards the packets arriving here (mode: XDP only)
  std::string hook_reason;               // one line: why that hook (core/hook_choice.h)
  std::string tc_ingress; // the TC program's link on its ingress: "tcx", "clsact", "" none
};

struct StatsSnapshot {
  std::vector<AttachedInterface> interfaces;
  xf_counters totals{};                           // summed over CPUs and hooks
  std::array<xf_counters, XF_HOOK_COUNT> hooks{}; // summed over CPUs, by enum xf_hook
  std::uint64_t flows_offloaded = 0;              // connections in the table
  std::uint64_t flows_capacity = 0;               // connections the table holds
  std::uint64_t rejected_full = 0;                // from the control plane's xf_status
};

// Adds every CPU's copy of the counters.
xf_counters sum_counters(const std::vector<xf_counters> &per_cpu);
// Sets the totals to the sum of both hooks' counters.
void set_hook_counters(StatsSnapshot &s, const std::array<xf_counters, XF_HOOK_COUNT> &hooks);
// JSON / table name of an enum xf_hook: "xdp", "tc".
std::string_view hook_name(unsigned hook);

std::string stats_json(const StatsSnapshot &s);
std::string stats_table(const StatsSnapshot &s);

// Per-second rates between two snapshots `seconds` apart (--watch).
struct StatsRates {
  double rx_pps = 0, fast_pps = 0, fast_bps = 0 /* bits */, slow_pps = 0;
  double slow_pps_by_reason[XF_SLOW_MAX] = {};
  double redirect_errors_ps = 0;
  std::optional<double> hit_ratio; // fast / rx over the interval; none without traffic
  std::uint64_t flows_offloaded = 0;
};
StatsRates compute_rates(const StatsSnapshot &before, const StatsSnapshot &after, double seconds);

// The --watch table: a header, then one aligned row per interval labelled
// with `time_label` (e.g. "12:00:01").
std::string rates_header();
std::string rates_row(std::string_view time_label, const StatsRates &r);

} // namespace xdpflow
