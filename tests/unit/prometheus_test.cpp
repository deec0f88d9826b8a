// The Prometheus exposition of `stats --format prometheus`: every sample of
// a family follows its HELP and TYPE, names and types follow the
// conventions, and each figure of a snapshot lands in the sample named for
// it. (promtool checks the real command's output in tests/cli/metrics.sh.)
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <sstream>

#include "core/prometheus.h"

namespace xdpflow {
namespace {

MetricsSnapshot sample_snapshot() {
  MetricsSnapshot m;
  auto &t = m.stats.hooks[XF_HOOK_XDP];
  t.rx_packets = 1000;
  t.fast_packets = 900;
  t.fast_bytes = 123456789012ull;
  t.redirect_errors = 2;
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    t.slow[r] = 10 + r; // distinct per reason
  auto &tc = m.stats.hooks[XF_HOOK_TC];
  tc.rx_packets = 70;
  tc.fast_packets = 60;
  tc.fast_bytes = 6000;
  tc.slow[XF_SLOW_STALE] = 4;
  set_hook_counters(m.stats, m.stats.hooks);
  m.stats.flows_offloaded = 17;
  m.stats.flows_capacity = 4096;
  m.stats.rejected_full = 3;
  m.stats.interfaces = {
      {"lan0", 2, XdpMode::Native, std::nullopt, true, "veth", Hook::Tc, "tc: veth", "tcx"},
      {"we\"ird\\", 3, XdpMode::Generic, std::nullopt, true, "", Hook::Xdp, "", ""}};
  m.status.cp.pid = 42;
  m.status.cp.started_ns = 1'000'000'000ull;
  m.status.cp.heartbeat_ns = 9'500'000'000ull;
  m.status.cp.ct_events = 55;
  m.status.cp.offloads_total = 20;
  m.status.now_ns = 10'000'000'000ull;
  m.now_unix_sec = 1'800'000'000.0;
  return m;
}

// sample line -> value; families in order of their HELP line.
struct Parsed {
  std::map<std::string, std::string> samples;
  std::map<std::string, std::string> types;
};

// The exposition format's metric name: [a-zA-Z_:][a-zA-Z0-9_:]* (no
// std::regex: g++ 12 with ASan reports a false -Wmaybe-uninitialized in it).
bool valid_metric_name(const std::string &name) {
  auto first = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  };
  if (name.empty() || !first(name[0]))
    return false;
  for (char c : name)
    if (!first(c) && !std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

Parsed parse(const std::string &text) {
  Parsed p;
  std::istringstream in(text);
  std::string line, family, typed;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(valid_metric_name(family)) << family;
      EXPECT_GT(line.size(), 7 + family.size() + 1) << "empty help: " << line;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream f(line.substr(7));
      std::string name, type;
      f >> name >> type;
      EXPECT_EQ(family, name) << "TYPE without its HELP: " << line;
      p.types[name] = type;
      typed = name;
      continue;
    }
    EXPECT_FALSE(line.empty()) << "blank line in the exposition";
    if (line.empty())
      continue;
    auto sp = line.rfind(' ');
    std::string metric = line.substr(0, sp);
    std::string name = metric.substr(0, metric.find('{'));
    EXPECT_EQ(typed, name) << "sample outside its family: " << line;
    EXPECT_EQ(0u, p.samples.count(metric)) << "duplicate sample " << metric;
    p.samples[metric] = line.substr(sp + 1);
  }
  return p;
}

TEST(Prometheus, FamiliesAreWellFormedAndCountersEndInTotal) {
  auto p = parse(prometheus_text(sample_snapshot()));
  ASSERT_FALSE(p.types.empty());
  for (const auto &[name, type] : p.types) {
    bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    if (type == "counter") {
      EXPECT_TRUE(total) << name;
    } else {
      EXPECT_EQ("gauge", type) << name;
      EXPECT_FALSE(total) << name;
    }
  }
}

TEST(Prometheus, CountersByPathReasonAndHook) {
  auto m = sample_snapshot();
  auto p = parse(prometheus_text(m));
  EXPECT_EQ("1000", p.samples[R"(xdpflow_received_packets_total{hook="xdp"})"]);
  EXPECT_EQ("900", p.samples[R"(xdpflow_packets_total{path="fast",hook="xdp"})"]);
  // 10 + 11 + ... over every reason.
  std::uint64_t slow = 0;
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    slow += 10 + r;
  EXPECT_EQ(std::to_string(slow), p.samples[R"(xdpflow_packets_total{path="slow",hook="xdp"})"]);
  EXPECT_EQ("123456789012", p.samples[R"(xdpflow_fast_path_bytes_total{hook="xdp"})"]);
  EXPECT_EQ("2", p.samples[R"(xdpflow_redirect_errors_total{hook="xdp"})"]);
  EXPECT_EQ("13", p.samples[R"(xdpflow_slow_packets_total{reason="mtu",hook="xdp"})"]);
  EXPECT_EQ("10", p.samples[R"(xdpflow_slow_packets_total{reason="no_flow",hook="xdp"})"]);
  // The TC hook's own figures, not the totals.
  EXPECT_EQ("70", p.samples[R"(xdpflow_received_packets_total{hook="tc"})"]);
  EXPECT_EQ("60", p.samples[R"(xdpflow_packets_total{path="fast",hook="tc"})"]);
  EXPECT_EQ("4", p.samples[R"(xdpflow_packets_total{path="slow",hook="tc"})"]);
  EXPECT_EQ("6000", p.samples[R"(xdpflow_fast_path_bytes_total{hook="tc"})"]);
  EXPECT_EQ("4",
            p.samples[R"(xdpflow_slow_packets_total{reason="stale_control_plane",hook="tc"})"]);
  EXPECT_EQ("0", p.samples[R"(xdpflow_slow_packets_total{reason="mtu",hook="tc"})"]);
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    EXPECT_EQ(1u, p.samples.count("xdpflow_slow_packets_total{reason=\"" +
                                  std::string(slow_reason_name(r)) + "\",hook=\"xdp\"}"))
        << slow_reason_name(r);
  // Per hook only: no unlabelled total beside them (sum() does that).
  EXPECT_EQ(0u, p.samples.count(R"(xdpflow_received_packets_total)"));
}

TEST(Prometheus, FlowsAndInterfaces) {
  auto p = parse(prometheus_text(sample_snapshot()));
  EXPECT_EQ("17", p.samples["xdpflow_flows_offloaded"]);
  EXPECT_EQ("4096", p.samples["xdpflow_flows_capacity"]);
  EXPECT_EQ("3", p.samples["xdpflow_flows_rejected_full_total"]);
  EXPECT_EQ("1",
            p.samples[R"(xdpflow_interface_info{interface="lan0",mode="native",driver="veth"})"]);
  // Quote and backslash escaped in label values.
  EXPECT_EQ("1",
            p.samples[R"(xdpflow_interface_info{interface="we\"ird\\",mode="generic",driver=""})"]);
}

TEST(Prometheus, ControlPlaneLiveness) {
  auto m = sample_snapshot();
  auto p = parse(prometheus_text(m));
  EXPECT_EQ("1", p.samples["xdpflow_control_plane_up"]);
  EXPECT_EQ("0.500", p.samples["xdpflow_control_plane_heartbeat_age_seconds"]);
  EXPECT_EQ("1799999991.000", p.samples["xdpflow_control_plane_start_time_seconds"]);
  EXPECT_EQ("55", p.samples["xdpflow_conntrack_events_total"]);
  EXPECT_EQ("20", p.samples["xdpflow_offloads_total"]);

  m.status.now_ns = m.status.cp.heartbeat_ns + kHeartbeatStaleNs; // stuck
  p = parse(prometheus_text(m));
  EXPECT_EQ("0", p.samples["xdpflow_control_plane_up"]);
  EXPECT_EQ("5.000", p.samples["xdpflow_control_plane_heartbeat_age_seconds"]);

  m.status.cp = {}; // never published: down, and no ages made up from zero
  p = parse(prometheus_text(m));
  EXPECT_EQ("0", p.samples["xdpflow_control_plane_up"]);
  EXPECT_EQ(0u, p.samples.count("xdpflow_control_plane_heartbeat_age_seconds"));
  EXPECT_EQ(0u, p.types.count("xdpflow_conntrack_events_total"));
}

} // namespace
} // namespace xdpflow
