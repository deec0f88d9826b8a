#include "core/observer_report.h"

#include "core/table.h"

namespace xdpflow {

const char *wait_reason_key(std::uint8_t reason) {
  switch (reason) {
  case XF_WAIT_NOT_OBSERVED:
    return "not_observed";
  case XF_WAIT_NOT_ATTACHED:
    return "not_attached";
  case XF_WAIT_CANNOT_REPRODUCE:
    return "cannot_reproduce";
  case XF_WAIT_TABLE_FULL:
    return "table_full";
  case XF_WAIT_EXCLUDED:
    return "excluded";
  }
  return "unknown";
}

const char *wait_field_name(std::uint32_t field) {
  switch (field) {
  case XF_FIELD_TOS:
    return "tos";
  case XF_FIELD_ENCAP:
    return "encapsulation";
  case XF_FIELD_IP_OPTIONS:
    return "ip_options";
  case XF_FIELD_HEADERS:
    return "headers";
  }
  return "unknown";
}

const char *invalidation_key(int cause) {
  static const char *keys[XF_INVAL_MAX] = {"route", "rule",    "neighbour", "link",
                                           "fdb",   "ruleset", "qdisc"};
  return cause >= 0 && cause < XF_INVAL_MAX ? keys[cause] : "unknown";
}

std::string describe_wait(const xf_pending &p, const IfName &names) {
  std::string dir = p.direction == 1 ? "reply" : "original";
  switch (p.reason) {
  case XF_WAIT_NOT_OBSERVED:
    return "not observed yet";
  case XF_WAIT_NOT_ATTACHED:
    return "egress not attached (" + dir + " direction leaves through " + names(p.detail) + ")";
  case XF_WAIT_CANNOT_REPRODUCE:
    return "rewrite cannot reproduce the kernel's frame (" + dir +
           " direction: " + wait_field_name(p.detail) + ")";
  case XF_WAIT_TABLE_FULL:
    return "table full";
  case XF_WAIT_EXCLUDED:
    return "excluded";
  }
  return "unknown";
}

std::string observer_status_text(const xf_obs_status &s) {
  std::string waiting, removed;
  std::uint64_t total = 0;
  for (int r = 0; r < XF_WAIT_MAX; r++) {
    total += s.waiting[r];
    if (s.waiting[r])
      waiting += std::string(waiting.empty() ? "" : ", ") + std::to_string(s.waiting[r]) + " " +
                 wait_reason_key(static_cast<std::uint8_t>(r));
  }
  for (int c = 0; c < XF_INVAL_MAX; c++)
    removed += std::string(c ? ", " : "") + invalidation_key(c) + " " +
               std::to_string(s.removed[c]) + "/" + std::to_string(s.invalidations[c]);
  std::string out = "  waiting: " + std::to_string(total) + " connections" +
                    (waiting.empty() ? "" : " (" + waiting + ")") + "; " +
                    std::to_string(s.observations) + " observations\n";
  out += "  invalidations (connections removed/changes): " + removed + "; " +
         std::to_string(s.neigh_refreshes) + " neighbour refreshes\n";
  return out;
}

void observer_status_json(JsonWriter &j, const xf_obs_status &s) {
  j.begin_object();
  j.key("waiting").begin_object();
  for (int r = 0; r < XF_WAIT_MAX; r++)
    j.field(wait_reason_key(static_cast<std::uint8_t>(r)), std::uint64_t{s.waiting[r]});
  j.end_object();
  j.key("removed").begin_object();
  for (int c = 0; c < XF_INVAL_MAX; c++)
    j.field(invalidation_key(c), std::uint64_t{s.removed[c]});
  j.end_object();
  j.key("invalidations").begin_object();
  for (int c = 0; c < XF_INVAL_MAX; c++)
    j.field(invalidation_key(c), std::uint64_t{s.invalidations[c]});
  j.end_object();
  j.field("observations", std::uint64_t{s.observations});
  j.field("neighbour_refreshes", std::uint64_t{s.neigh_refreshes});
  // CLOCK_MONOTONIC: when the last change was handled (tests measure the
  // time from a change they make to its entries leaving the table).
  j.field("last_invalidation_ns", std::uint64_t{s.last_invalidation_ns});
  j.field("last_invalidation_cost_us", std::uint64_t{s.last_invalidation_cost_ns / 1000});
  j.end_object();
}

std::string pending_table(const std::vector<PendingConnection> &conns, const IfName &names) {
  if (conns.empty())
    return "0 connections waiting\n";
  TextTable t({{"CONNECTION"}, {"CT ID", TextTable::Align::Right}, {"WAITING FOR"}});
  for (const auto &c : conns)
    t.add_row({to_string(c.orig), std::to_string(c.info.ct_id), describe_wait(c.info, names)});
  return t.render() + std::to_string(conns.size()) + " connections waiting\n";
}

std::string pending_json(const std::vector<PendingConnection> &conns, const IfName &names) {
  JsonWriter j;
  j.begin_object();
  j.key("pending").begin_array();
  for (const auto &c : conns) {
    j.begin_object();
    j.field("connection", to_string(c.orig));
    j.field("ct_id", unsigned{c.info.ct_id});
    j.field("reason", wait_reason_key(c.info.reason));
    j.field("direction", c.info.direction == 1 ? "reply" : "original");
    if (c.info.reason == XF_WAIT_NOT_ATTACHED)
      j.field("egress", names(c.info.detail));
    if (c.info.reason == XF_WAIT_CANNOT_REPRODUCE)
      j.field("field", wait_field_name(c.info.detail));
    j.field("description", describe_wait(c.info, names));
    j.end_object();
  }
  j.end_array();
  j.field("count", std::uint64_t{conns.size()});
  j.end_object();
  return j.str() + "\n";
}

} // namespace xdpflow
