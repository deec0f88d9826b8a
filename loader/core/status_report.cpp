#include "core/status_report.h"

#include <cstdio>

#include "core/json.h"
#include "core/observer_report.h"
#include "core/table.h"

namespace xdpflow {

namespace {

std::uint64_t age_ns(std::uint64_t then, std::uint64_t now) {
  return now > then ? now - then : 0;
}

// "xdp", "xdp+tc" (the TC program beside XDP), "tc", "tc (off)" when the
// TC program left its ingress (redirected to an ifb).
std::string hook_text(const AttachedInterface &i) {
  if (i.hook == Hook::Xdp)
    return i.tc_ingress.empty() ? "xdp" : "xdp+" + i.tc_ingress;
  return i.tc_ingress.empty() ? "tc (none)" : "tc/" + i.tc_ingress;
}

std::string features_text(const std::optional<std::uint64_t> &features) {
  if (!features)
    return "unknown";
  auto names = xdp_feature_names(*features);
  if (names.empty())
    return "none";
  std::string out;
  for (const auto &n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string seconds_ago(std::uint64_t ns) {
  char buf[32];
  if (ns < 60'000'000'000ull)
    std::snprintf(buf, sizeof buf, "%.1fs ago", double(ns) / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%s ago", human_duration(ns / 1'000'000'000ull).c_str());
  return buf;
}

} // namespace

bool control_plane_alive(const StatusSnapshot &s) {
  return s.cp.pid != 0 && age_ns(s.cp.heartbeat_ns, s.now_ns) < kHeartbeatStaleNs;
}

std::string status_table(const StatusSnapshot &s) {
  std::string out = "xdpflow is attached in this network namespace (program id " +
                    std::to_string(s.prog_id) + ")\n";
  const auto &cp = s.cp;
  if (cp.pid == 0) {
    out += "Control plane: not started (no status published)\n";
  } else {
    bool alive = control_plane_alive(s);
    out += "Control plane: pid " + std::to_string(cp.pid) + ", up " +
           human_duration(age_ns(cp.started_ns, s.now_ns) / 1'000'000'000ull) + ", heartbeat " +
           seconds_ago(age_ns(cp.heartbeat_ns, s.now_ns)) +
           (alive ? " (alive)"
                  : " (STALE: control plane stuck or gone; offloaded flows are "
                    "not maintained)") +
           "\n";
    out += "  conntrack: last event " +
           (cp.last_ct_event_ns ? seconds_ago(age_ns(cp.last_ct_event_ns, s.now_ns))
                                : std::string("none yet")) +
           ", " + std::to_string(cp.ct_events) + " events, " + std::to_string(cp.resyncs) +
           " resyncs, " + std::to_string(cp.events_lost) + " overruns, " +
           std::to_string(cp.parse_errors) + " parse errors\n";
    out += "  offloads: " + std::to_string(cp.offloads_total) +
           ", removals: " + std::to_string(cp.removals_total) +
           ", keepalive refreshes: " + std::to_string(cp.keepalive_refreshes) + "\n";
    if (s.obs)
      out += observer_status_text(*s.obs);
  }
  char fill[32] = "-";
  if (s.flows_capacity)
    std::snprintf(fill, sizeof fill, "%.1f%%",
                  100.0 * double(s.flows_offloaded) / double(s.flows_capacity));
  out += "Flow table: " + std::to_string(s.flows_offloaded) + " of " +
         std::to_string(s.flows_capacity) + " connections (" + fill + "), " +
         std::to_string(cp.rejected_full) + " rejected (table full)\n";
  if (s.flows_capacity && s.table_bytes) {
    char mib[32];
    std::snprintf(mib, sizeof mib, "%.1f", double(s.table_bytes) / double(1u << 20));
    out += "  memory: " + std::to_string(s.table_bytes / s.flows_capacity) +
           " bytes of kernel memory per connection of capacity (--max-flows), " + mib +
           " MiB in all (both address families' maps, allocated at start)\n";
  }
  out += "\n";

  using A = TextTable::Align;
  TextTable t({{"INTERFACE"},
               {"IFINDEX", A::Right},
               {"DRIVER"},
               {"HOOK"},
               {"MODE"},
               {"REDIRECT TARGET"},
               {"XDP FEATURES"}});
  for (const auto &i : s.interfaces)
    t.add_row({i.name, std::to_string(i.ifindex), i.driver.empty() ? "?" : i.driver, hook_text(i),
               i.hook == Hook::Xdp ? std::string(to_string(i.mode)) : "-",
               i.redirect_target ? "yes" : "no (no ndo-xmit)", features_text(i.features)});
  out += t.render();
  out += "\nHooks:\n";
  for (const auto &i : s.interfaces)
    out += "  " + i.name + ": " + std::string(to_string(i.hook)) + ": " +
           (i.hook_reason.empty() ? "?" : i.hook_reason) + "\n";
  if (!s.bridges.empty()) {
    out += "\nBridges (their ports are attached, never the bridge):\n";
    for (const auto &[bridge, ports] : s.bridges) {
      std::string list;
      for (const auto &p : ports)
        list += (list.empty() ? "" : ", ") + p;
      out += "  " + bridge + ": " + list + "\n";
    }
  }
  return out;
}

std::string status_json(const StatusSnapshot &s) {
  JsonWriter j;
  j.begin_object();
  j.field("program_id", unsigned{s.prog_id});
  j.key("interfaces").begin_array();
  for (const auto &i : s.interfaces) {
    j.begin_object();
    j.field("name", i.name);
    j.field("ifindex", unsigned{i.ifindex});
    j.field("driver", i.driver);
    j.field("hook", to_string(i.hook));
    j.field("hook_reason", i.hook_reason);
    j.key("tc_ingress");
    if (i.tc_ingress.empty())
      j.null();
    else
      j.value(i.tc_ingress);
    j.key("mode");
    if (i.hook == Hook::Xdp)
      j.value(to_string(i.mode));
    else
      j.null();
    j.field("redirect_target", i.redirect_target);
    j.key("xdp_features");
    if (i.features) {
      j.begin_array();
      for (const auto &n : xdp_feature_names(*i.features))
        j.value(n);
      j.end_array();
    } else {
      j.null();
    }
    j.end_object();
  }
  j.end_array();
  j.key("bridges").begin_array();
  for (const auto &[bridge, ports] : s.bridges) {
    j.begin_object();
    j.field("name", bridge);
    j.key("ports").begin_array();
    for (const auto &p : ports)
      j.value(p);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.key("flows").begin_object();
  j.field("offloaded", s.flows_offloaded);
  j.field("capacity", s.flows_capacity);
  j.field("rejected_full", std::uint64_t{s.cp.rejected_full});
  j.end_object();
  // The flow table's kernel memory (both families' maps).
  j.key("table").begin_object();
  j.field("bytes", s.table_bytes);
  j.field("bytes_per_connection", s.flows_capacity ? s.table_bytes / s.flows_capacity : 0);
  j.end_object();
  const auto &cp = s.cp;
  j.key("control_plane");
  if (cp.pid == 0) {
    j.null();
  } else {
    j.begin_object();
    j.field("pid", unsigned{cp.pid});
    j.field("alive", control_plane_alive(s));
    j.field("uptime_sec", age_ns(cp.started_ns, s.now_ns) / 1'000'000'000ull);
    j.field("heartbeat_age_sec", double(age_ns(cp.heartbeat_ns, s.now_ns)) / 1e9);
    j.key("last_ct_event_age_sec");
    if (cp.last_ct_event_ns)
      j.value(double(age_ns(cp.last_ct_event_ns, s.now_ns)) / 1e9);
    else
      j.null();
    j.field("ct_events", std::uint64_t{cp.ct_events});
    j.field("resyncs", std::uint64_t{cp.resyncs});
    j.field("events_lost", std::uint64_t{cp.events_lost});
    j.field("parse_errors", std::uint64_t{cp.parse_errors});
    j.field("offloads_total", std::uint64_t{cp.offloads_total});
    j.field("removals_total", std::uint64_t{cp.removals_total});
    j.field("keepalive_refreshes", std::uint64_t{cp.keepalive_refreshes});
    if (s.obs) {
      j.key("observer");
      observer_status_json(j, *s.obs);
    }
    j.end_object();
  }
  j.end_object();
  return j.str() + "\n";
}

} // namespace xdpflow
