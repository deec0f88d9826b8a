#include "core/prometheus.h"

#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

namespace xdpflow {

namespace {

// Label values are quoted; the format escapes backslash, quote and newline.
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Exposition {
public:
  // One metric family: HELP and TYPE once, then its samples.
  Exposition &family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
    return *this;
  }
  Exposition &sample(const Labels &labels, std::uint64_t value) {
    return line(labels, std::to_string(value));
  }
  Exposition &sample(const Labels &labels, double value) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    return line(labels, buf);
  }
  std::string str() const { return out_; }

private:
  Exposition &line(const Labels &labels, const std::string &value) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); i++)
        out_ += (i ? "," : "") + std::string(labels[i].first) + "=\"" +
                escape_label(labels[i].second) + "\"";
      out_ += '}';
    }
    out_ += " " + value + "\n";
    return *this;
  }
  std::string out_;
  std::string_view name_;
};

std::uint64_t slow_sum(const xf_counters &c) {
  std::uint64_t n = 0;
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    n += c.slow[r];
  return n;
}

// The counters of each hook (enum xf_hook) with its label value.
std::vector<std::pair<std::string_view, xf_counters>> counters_by_hook(const StatsSnapshot &s) {
  std::vector<std::pair<std::string_view, xf_counters>> out;
  for (unsigned h = 0; h < XF_HOOK_COUNT; h++)
    out.emplace_back(hook_name(h), s.hooks[h]);
  return out;
}

} // namespace

std::string prometheus_text(const MetricsSnapshot &m) {
  const auto hooks = counters_by_hook(m.stats);
  Exposition e;
  auto by_hook = [&](auto value) {
    for (const auto &[hook, c] : hooks)
      e.sample({{"hook", std::string(hook)}}, std::uint64_t{value(c)});
  };

  e.family("xdpflow_received_packets_total", "counter",
           "Frames the xdpflow program saw, by hook (xdp or tc).");
  by_hook([](const xf_counters &c) { return c.rx_packets; });
  e.family("xdpflow_packets_total", "counter",
           "Packets by path: fast (forwarded by a flow entry) or slow (passed to the kernel), "
           "by hook.");
  for (const auto &[hook, c] : hooks) {
    e.sample({{"path", "fast"}, {"hook", std::string(hook)}}, std::uint64_t{c.fast_packets});
    e.sample({{"path", "slow"}, {"hook", std::string(hook)}}, slow_sum(c));
  }
  e.family("xdpflow_fast_path_bytes_total", "counter",
           "Bytes of the frames the fast path forwarded (whole frames as received), by hook.");
  by_hook([](const xf_counters &c) { return c.fast_bytes; });
  e.family("xdpflow_slow_packets_total", "counter",
           "Packets passed to the kernel, by reason and hook.");
  for (const auto &[hook, c] : hooks)
    for (unsigned r = 0; r < XF_SLOW_MAX; r++)
      e.sample({{"reason", std::string(slow_reason_name(r))}, {"hook", std::string(hook)}},
               std::uint64_t{c.slow[r]});
  e.family("xdpflow_redirect_errors_total", "counter",
           "Flow hits the kernel refused to redirect to the egress interface, by hook.");
  by_hook([](const xf_counters &c) { return c.redirect_errors; });

  e.family("xdpflow_flows_offloaded", "gauge", "Connections in the flow table now.");
  e.sample({}, m.stats.flows_offloaded);
  e.family("xdpflow_flows_capacity", "gauge",
           "Connections the flow table holds, per address family (--max-flows).");
  e.sample({}, m.stats.flows_capacity);
  e.family("xdpflow_flows_rejected_full_total", "counter",
           "Offloads refused because the flow table was full.");
  e.sample({}, m.stats.rejected_full);

  e.family("xdpflow_interface_info", "gauge",
           "An interface xdpflow is attached to, with its XDP mode and driver (value 1).");
  for (const auto &i : m.stats.interfaces)
    e.sample(
        {{"interface", i.name}, {"mode", std::string(to_string(i.mode))}, {"driver", i.driver}},
        std::uint64_t{1});

  const xf_status &cp = m.status.cp;
  const bool published = cp.pid != 0;
  e.family("xdpflow_control_plane_up", "gauge",
           "1 when the control plane's heartbeat is fresher than 5 s, else 0 (stuck or gone: "
           "offloaded flows are not maintained).");
  e.sample({}, std::uint64_t{control_plane_alive(m.status)});
  if (published) {
    auto age = [&](std::uint64_t then) {
      return double(m.status.now_ns > then ? m.status.now_ns - then : 0) / 1e9;
    };
    e.family("xdpflow_control_plane_heartbeat_age_seconds", "gauge",
             "Seconds since the control plane's last heartbeat.");
    e.sample({}, age(cp.heartbeat_ns));
    e.family("xdpflow_control_plane_start_time_seconds", "gauge",
             "Start time of the control plane since the Unix epoch in seconds.");
    e.sample({}, m.now_unix_sec - age(cp.started_ns));
    if (cp.last_ct_event_ns) {
      e.family("xdpflow_conntrack_last_event_age_seconds", "gauge",
               "Seconds since the control plane handled the last conntrack event.");
      e.sample({}, age(cp.last_ct_event_ns));
    }
    const std::pair<const char *, std::pair<const char *, std::uint64_t>> counters[] = {
        {"xdpflow_conntrack_events_total",
         {"Conntrack messages the control plane handled.", cp.ct_events}},
        {"xdpflow_conntrack_resyncs_total",
         {"Full conntrack dumps after an event overrun.", cp.resyncs}},
        {"xdpflow_conntrack_overruns_total",
         {"Conntrack event socket overruns seen.", cp.events_lost}},
        {"xdpflow_conntrack_parse_errors_total",
         {"Malformed conntrack netlink messages.", cp.parse_errors}},
        {"xdpflow_offloads_total", {"Connections offloaded since start.", cp.offloads_total}},
        {"xdpflow_removals_total",
         {"Connections removed from the flow table since start.", cp.removals_total}},
        {"xdpflow_keepalive_refreshes_total",
         {"Conntrack timeouts refreshed for offloaded connections.", cp.keepalive_refreshes}},
    };
    for (const auto &[name, hv] : counters) {
      e.family(name, "counter", hv.first);
      e.sample({}, std::uint64_t{hv.second});
    }
  }
  return e.str();
}

} // namespace xdpflow
