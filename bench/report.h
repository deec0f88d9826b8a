// The benchmark report: reads result lines (result_line.h) of every kind and
// summarises them. Pure code, no syscalls.
//
//   kind=machine  free-form fields describing where it ran
//   kind=fwd      config, title, round, ns_per_packet (the gateway's CPU
//                 time per forwarded packet), mpps (1000 / ns: per core),
//                 received, flows, family; optional kthread_ns_per_packet,
//                 napi_packets / full_packets, vs_kernel / vs_bare (config
//                 ids measured in the same rounds: ratios are medians of
//                 per-round ratios), target_kernel (minimum "x cheaper"),
//                 target_bare (maximum cost / the bare forwarder's),
//                 vs_self + target_plus_ns (maximum ns above that config's),
//                 capacity_mpps + vs_scale + target_scale (minimum ratio of
//                 the kthreads' summed capacity: two-core scaling),
//                 installed_by, gw_fast_packets / gw_slow_packets,
//                 table_bytes (the flow table map's kernel memory)
//   kind=memlat   bytes, ns_per_load (one dependent random cache-line load
//                 in a buffer of 4 KiB pages: one memory miss at that size)
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
  Spread ns, mpps;                             // per packet; 1000 / ns
  Spread kthread_ns;                           // the kthread's whole CPU time per packet
  double full_share = 0;                       // packets timed in full polls / all it polled
  double delivered = 0;                        // the sink's count / packets the kthreads polled
  double miss_every = 0;                       // mixed traffic: every Nth frame misses (0: none)
  std::optional<double> vs_kernel;             // x cheaper than the kernel path
  std::optional<double> cost_vs_bare;          // cost / the bare forwarder's
  std::optional<double> plus_ns;               // ns above vs_self's, same rounds
  std::optional<double> scaling;               // capacity / vs_scale's, same rounds
  std::string scale_config, bare_scale_config; // bare_scale: its own bound
  std::optional<double> target_scale;
  // Conntrack churn during the run (churn_* fields): medians.
  std::optional<double> churn_offloads, churn_removals, churn_fast_share;
  std::string kernel_config, bare_config, self_config;
  std::optional<double> target_kernel, target_bare, target_plus_ns;
  // Share of the gateway's packets that xdpflow forwarded itself (its own
  // counters, gw_fast_packets / gw_slow_packets), when reported.
  std::optional<double> fast_share;
  std::optional<double> table_bytes; // the flow table map's memory
  // With target_plus_ns: plus_ns in memory misses, each the memlat latency
  // at the measured size closest to table_bytes (the largest without it).
  std::optional<double> misses, miss_ns, miss_bytes;
};

// One memory miss at a buffer size (kind=memlat lines of that size).
struct MemlatSummary {
  double bytes = 0;
  Spread ns; // over the lines' ns_per_load (one a round)
  int runs = 0;
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
  std::vector<MemlatSummary> memlat() const; // by size, smallest first
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
  std::vector<ResultLine> machine_, fwd_, tcp_, cost_, cp_, memlat_;
};

} // namespace xfbench
