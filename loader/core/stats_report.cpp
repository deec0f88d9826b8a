#include "core/stats_report.h"

#include <cstdio>

#include "core/json.h"
#include "core/table.h"

namespace xdpflow {

std::string_view slow_reason_name(unsigned reason) {
  static constexpr std::string_view names[XF_SLOW_MAX] = {
      "no_flow",
      "tcp_fin_rst",
      "ttl",
      "mtu",
      "unparsed",
      "not_ip",
      "not_tcp_udp",
      "ip_options",
      "fragment",
      "ipv6_ext",
      "no_egress",
      "not_unicast",
      "to_tc",
      "stale_control_plane",
      "not_for_us",
      "head_adjust_failed",
      "tc_unsupported",
      "bad_ip_checksum",
      "bad_ip_header",
      "bad_ip_length",
      "truncated_l4",
      "bad_tcp_doff",
      "martian_address",
      "trailer",
      "torn_entry",
  };
  return reason < XF_SLOW_MAX ? names[reason] : "unknown";
}

xf_counters sum_counters(const std::vector<xf_counters> &per_cpu) {
  xf_counters t{};
  for (const auto &c : per_cpu)
    xf_counters_add(&t, &c);
  return t;
}

void set_hook_counters(StatsSnapshot &s, const std::array<xf_counters, XF_HOOK_COUNT> &hooks) {
  s.totals = xf_counters{};
  for (unsigned h = 0; h < XF_HOOK_COUNT; h++) {
    s.hooks[h] = hooks[h];
    xf_counters_add(&s.totals, &hooks[h]);
  }
}

std::string_view hook_name(unsigned hook) {
  return hook == XF_HOOK_XDP ? "xdp" : hook == XF_HOOK_TC ? "tc" : "unknown";
}

namespace {
std::uint64_t slow_total(const xf_counters &c) {
  std::uint64_t n = 0;
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    n += c.slow[r];
  return n;
}
} // namespace

namespace {
void counters_json(JsonWriter &j, const xf_counters &c) {
  j.field("rx_packets", std::uint64_t{c.rx_packets});
  j.field("fast_packets", std::uint64_t{c.fast_packets});
  j.field("fast_bytes", std::uint64_t{c.fast_bytes});
  j.field("slow_packets", slow_total(c));
  j.key("slow_reasons").begin_object();
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    j.field(slow_reason_name(r), std::uint64_t{c.slow[r]});
  j.end_object();
  j.field("redirect_errors", std::uint64_t{c.redirect_errors});
}
} // namespace

std::string stats_json(const StatsSnapshot &s) {
  JsonWriter j;
  j.begin_object();
  j.key("interfaces").begin_array();
  for (const auto &i : s.interfaces) {
    j.begin_object()
        .field("name", std::string_view(i.name))
        .field("ifindex", std::uint64_t{i.ifindex})
        .field("hook", to_string(i.hook))
        .key("mode");
    if (i.hook == Hook::Xdp) // the XDP mode means nothing on a TC interface
      j.value(to_string(i.mode));
    else
      j.null();
    j.end_object();
  }
  j.end_array();
  j.key("totals").begin_object();
  counters_json(j, s.totals);
  j.end_object();
  // The same counters per hook (totals are their sum).
  j.key("hooks").begin_object();
  for (unsigned h = 0; h < XF_HOOK_COUNT; h++) {
    j.key(hook_name(h)).begin_object();
    counters_json(j, s.hooks[h]);
    j.end_object();
  }
  j.end_object();
  j.key("flows").begin_object();
  j.field("offloaded", s.flows_offloaded);
  j.field("capacity", s.flows_capacity);
  j.field("rejected_full", s.rejected_full);
  j.end_object();
  j.end_object();
  return j.str() + "\n";
}

std::string stats_table(const StatsSnapshot &s) {
  std::string out = "Interfaces:";
  for (const auto &i : s.interfaces)
    out += " " + i.name + " (" + std::string(i.hook == Hook::Xdp ? to_string(i.mode) : "tc") + ")";
  out += "\n\n";
  const auto &t = s.totals;
  TextTable table({{"COUNTER"},
                   {"PACKETS", TextTable::Align::Right},
                   {"SHARE", TextTable::Align::Right},
                   {"XDP", TextTable::Align::Right},
                   {"TC", TextTable::Align::Right}});
  const auto &x = s.hooks[XF_HOOK_XDP], &tc = s.hooks[XF_HOOK_TC];
  auto share = [&](std::uint64_t n) {
    if (t.rx_packets == 0)
      return std::string("-");
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * double(n) / double(t.rx_packets));
    return std::string(buf);
  };
  auto row = [&](std::string label, std::uint64_t total, std::uint64_t xdp, std::uint64_t tc_n) {
    table.add_row({std::move(label), std::to_string(total), share(total), std::to_string(xdp),
                   std::to_string(tc_n)});
  };
  row("received", t.rx_packets, x.rx_packets, tc.rx_packets);
  row("fast path", t.fast_packets, x.fast_packets, tc.fast_packets);
  row("slow path", slow_total(t), slow_total(x), slow_total(tc));
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    if (t.slow[r] || r <= XF_SLOW_UNPARSED)
      row("  " + std::string(slow_reason_name(r)), t.slow[r], x.slow[r], tc.slow[r]);
  row("redirect errors", t.redirect_errors, x.redirect_errors, tc.redirect_errors);
  out += table.render();
  out += "\nFast-path bytes: " + std::to_string(t.fast_bytes) + " (" +
         human_bytes(double(t.fast_bytes)) + ")\n";
  char fill[32] = "-";
  if (s.flows_capacity)
    std::snprintf(fill, sizeof fill, "%.1f%%",
                  100.0 * double(s.flows_offloaded) / double(s.flows_capacity));
  out += "Flows offloaded: " + std::to_string(s.flows_offloaded) + " of " +
         std::to_string(s.flows_capacity) + " (" + fill +
         "), rejected (table full): " + std::to_string(s.rejected_full) + "\n";
  return out;
}

StatsRates compute_rates(const StatsSnapshot &before, const StatsSnapshot &after, double seconds) {
  StatsRates r;
  r.flows_offloaded = after.flows_offloaded;
  if (seconds <= 0)
    return r;
  // Counters only grow while one instance runs; clamp in case it restarted.
  auto delta = [](std::uint64_t a, std::uint64_t b) { return b >= a ? double(b - a) : 0.0; };
  const auto &a = before.totals, &b = after.totals;
  double rx = delta(a.rx_packets, b.rx_packets), fast = delta(a.fast_packets, b.fast_packets);
  r.rx_pps = rx / seconds;
  r.fast_pps = fast / seconds;
  r.fast_bps = 8 * delta(a.fast_bytes, b.fast_bytes) / seconds;
  r.slow_pps = delta(slow_total(a), slow_total(b)) / seconds;
  for (unsigned i = 0; i < XF_SLOW_MAX; i++)
    r.slow_pps_by_reason[i] = delta(a.slow[i], b.slow[i]) / seconds;
  r.redirect_errors_ps = delta(a.redirect_errors, b.redirect_errors) / seconds;
  if (rx > 0)
    r.hit_ratio = fast / rx;
  return r;
}

namespace {
// The --watch columns: the four named slow reasons of DESIGN.md, the rest
// summed as "other".
TextTable rates_table() {
  using A = TextTable::Align;
  return TextTable({{"TIME"},
                    {"RX pps", A::Right},
                    {"FAST pps", A::Right},
                    {"FAST bps", A::Right},
                    {"SLOW pps", A::Right},
                    {"no_flow", A::Right},
                    {"fin_rst", A::Right},
                    {"ttl", A::Right},
                    {"mtu", A::Right},
                    {"other", A::Right},
                    {"REDIR err/s", A::Right},
                    {"HIT", A::Right},
                    {"FLOWS", A::Right}});
}
const std::vector<std::size_t> &rates_widths() {
  static const std::vector<std::size_t> w = {8, 8, 8, 8, 8, 7, 7, 6, 6, 6, 11, 6, 7};
  return w;
}
} // namespace

std::string rates_header() {
  auto t = rates_table();
  return t.render_row(t.header_cells(), rates_widths());
}

std::string rates_row(std::string_view time_label, const StatsRates &r) {
  double other = 0;
  for (unsigned i = XF_SLOW_UNPARSED; i < XF_SLOW_MAX; i++)
    other += r.slow_pps_by_reason[i];
  char hit[16] = "-";
  if (r.hit_ratio)
    std::snprintf(hit, sizeof hit, "%.1f%%", 100.0 * *r.hit_ratio);
  auto t = rates_table();
  return t.render_row({std::string(time_label), human_count(r.rx_pps), human_count(r.fast_pps),
                       human_count(r.fast_bps), human_count(r.slow_pps),
                       human_count(r.slow_pps_by_reason[XF_SLOW_NO_FLOW]),
                       human_count(r.slow_pps_by_reason[XF_SLOW_TCP_FIN_RST]),
                       human_count(r.slow_pps_by_reason[XF_SLOW_TTL]),
                       human_count(r.slow_pps_by_reason[XF_SLOW_MTU]), human_count(other),
                       human_count(r.redirect_errors_ps), hit, std::to_string(r.flows_offloaded)},
                      rates_widths());
}

} // namespace xdpflow
