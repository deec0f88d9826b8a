// `xdpflow stats --format prometheus`: the counters, the flow table's fill and
// the control plane's liveness in the Prometheus text exposition format
// (version 0.0.4), for node_exporter's textfile collector. Names follow the
// Prometheus conventions: counters end in _total, base units (bytes,
// seconds), one metric with labels (path, hook, reason) rather than a name
// per variant. Pure.
#pragma once

#include <string>

#include "core/stats_report.h"
#include "core/status_report.h"

namespace xdpflow {

struct MetricsSnapshot {
  StatsSnapshot stats;     // counters, flows
  StatusSnapshot status;   // control plane as published, and its clock's now
  double now_unix_sec = 0; // wall clock at now_ns, for the start time
};

std::string prometheus_text(const MetricsSnapshot &m);

} // namespace xdpflow
