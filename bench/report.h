// The benchmark report: reads result lines (result_line.h) of every kind and
// summarises them. Pure code, no syscalls.
//
//   kind=machine  free-form fields describing where it ran
//   kind=fwd      config, title, round, mpps, cpu_mpps, flows, family;
//                 optional vs_kernel / vs_bare (config ids measured in the
//                 same rounds: ratios are medians of per-round ratios),
//                 target_kernel / target_bare (minimum ratio), installed_by,
//                 gw_fast_packets / gw_slow_packets (xdpflow's counters)
//   kind=tcp      config, title, round, gbps, retransmits; optional
//                 gw_fast_packets / gw_slow_packets
//   kind=cost     case, title, ns, verdict
//   kind=cp       metric, title, value, unit; optional target and
//                 better=higher|lower, note
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "result_line.h"

namespace xfbench {

struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread spread_of(std::vector<double> values); // empty -> all zero

struct FwdSummary {
  std::string config, title, installed_by, family, flows;
  int runs = 0;
  Spread mpps, cpu_mpps;
  std::optional<double> vs_kernel, vs_bare;
  std::string kernel_config, bare_config;
  std::optional<double> target_kernel, target_bare;
  // Share of the gateway's packets that xdpflow forwarded itself (its own
  // counters, gw_fast_packets / gw_slow_packets), when reported.
  std::optional<double> fast_share;
};

struct TargetCheck {
  std::string what;
  std::string measured;
  std::string target;
  bool met = false;
  // For a ratio to the kernel path: the bare forwarder's own ratio to the
  // same baseline, in the same rounds: the most any XDP forwarder reaches on
  // this rig. Empty otherwise.
  std::string bound;
};

class Report {
public:
  void add(const ResultLine &line);
  std::vector<FwdSummary> forwarding() const;
  std::vector<TargetCheck> targets() const;
  std::string markdown() const;
  std::string json() const;
  // What makes the run itself invalid (a configuration that forwarded
  // nothing, xdpflow configurations that left packets to the kernel): one
  // line each; empty when the run is sound.
  std::vector<std::string> problems() const;
  // One line per configuration for the chart: index, "title", median, min, max.
  std::string chart_data() const;

private:
  std::vector<ResultLine> machine_, fwd_, tcp_, cost_, cp_;
};

} // namespace xfbench
