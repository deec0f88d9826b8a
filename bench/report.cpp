#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/json.h"

namespace xfbench {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// Enough digits to read, no more: 51952, 75.0, 0.110.
std::string readable(double v) {
  double a = v < 0 ? -v : v;
  return fixed(v, a >= 1000 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

std::optional<double> optional_number(const ResultLine &l, std::string_view key) {
  if (!l.get(key) || l.text(key).empty())
    return std::nullopt;
  return l.number(key);
}

// One figure of every round of one configuration.
std::map<int, double> rounds_of(const std::vector<ResultLine> &fwd, const std::string &config,
                                std::string_view key = "mpps") {
  std::map<int, double> r;
  for (const auto &l : fwd)
    if (l.text("config") == config)
      r[static_cast<int>(l.number("round"))] = l.number(key);
  return r;
}

// Median over the rounds both configurations ran of a's rate / b's.
std::optional<double> ratio(const std::vector<ResultLine> &fwd, const std::string &a,
                            const std::string &b, std::string_view key = "mpps") {
  auto ra = rounds_of(fwd, a, key), rb = rounds_of(fwd, b, key);
  std::vector<double> ratios;
  for (const auto &[round, v] : ra) {
    auto it = rb.find(round);
    if (it != rb.end() && it->second > 0)
      ratios.push_back(v / it->second);
  }
  if (ratios.empty())
    return std::nullopt;
  return spread_of(ratios).median;
}

// Median over the rounds both ran of a's ns per packet minus b's.
std::optional<double> ns_above(const std::vector<ResultLine> &fwd, const std::string &a,
                               const std::string &b) {
  auto ra = rounds_of(fwd, a, "ns_per_packet"), rb = rounds_of(fwd, b, "ns_per_packet");
  std::vector<double> diffs;
  for (const auto &[round, v] : ra)
    if (auto it = rb.find(round); it != rb.end())
      diffs.push_back(v - it->second);
  if (diffs.empty())
    return std::nullopt;
  return spread_of(diffs).median;
}

std::string ratio_text(const std::optional<double> &r) {
  return r ? fixed(*r, 2) + " x" : "";
}

struct TcpSummary {
  std::string config, title;
  Spread gbps;
  double retransmits = 0; // median
  std::optional<double> fast_share;
  int runs = 0;
};

std::vector<TcpSummary> tcp_summaries(const std::vector<ResultLine> &tcp) {
  std::vector<TcpSummary> out;
  for (const auto &l : tcp) {
    std::string config = l.text("config");
    if (std::any_of(out.begin(), out.end(), [&](const auto &s) { return s.config == config; }))
      continue;
    TcpSummary s;
    s.config = config;
    s.title = l.get("title").value_or(config);
    std::vector<double> gbps, retr;
    double fast = 0, slow = 0;
    for (const auto &m : tcp)
      if (m.text("config") == config) {
        gbps.push_back(m.number("gbps"));
        retr.push_back(m.number("retransmits"));
        if (m.get("gw_fast_packets")) {
          fast += m.number("gw_fast_packets");
          slow += m.number("gw_slow_packets");
        }
      }
    s.gbps = spread_of(gbps);
    s.retransmits = spread_of(retr).median;
    s.runs = static_cast<int>(gbps.size());
    if (fast + slow > 0)
      s.fast_share = fast / (fast + slow);
    out.push_back(s);
  }
  return out;
}

// "512 MiB", "47.7 MiB": sizes in powers of 1024.
std::string size_text(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    u++;
  }
  return (bytes == std::round(bytes) ? fixed(bytes, 0) : fixed(bytes, 1)) + " " + units[u];
}

// The measured size closest to `bytes` (by ratio), or the largest when
// bytes is unknown; nullptr when nothing was measured.
const MemlatSummary *closest_memlat(const std::vector<MemlatSummary> &sizes,
                                    std::optional<double> bytes) {
  const MemlatSummary *best = nullptr;
  for (const auto &m : sizes) {
    if (!best)
      best = &m;
    else if (!bytes || *bytes <= 0)
      best = m.bytes > best->bytes ? &m : best;
    else if (std::abs(std::log(m.bytes / *bytes)) < std::abs(std::log(best->bytes / *bytes)))
      best = &m;
  }
  return best;
}

// "xdpflow, routed, IPv4, 1000000 flows": the title with what tells rows apart.
std::string label_of(const FwdSummary &s) {
  std::string label = s.title + ", IPv" + s.family;
  if (s.flows != "1")
    label += ", " + s.flows + " flows";
  return label;
}

} // namespace

Spread spread_of(std::vector<double> values) {
  Spread s;
  if (values.empty())
    return s;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

void Report::add(const ResultLine &line) {
  std::string kind = line.text("kind");
  if (kind == "machine")
    machine_.push_back(line);
  else if (kind == "fwd")
    fwd_.push_back(line);
  else if (kind == "tcp")
    tcp_.push_back(line);
  else if (kind == "cost")
    cost_.push_back(line);
  else if (kind == "cp")
    cp_.push_back(line);
  else if (kind == "memlat")
    memlat_.push_back(line);
  // Other kinds (pingpong, ...) are progress lines: not part of the report.
}

std::vector<MemlatSummary> Report::memlat() const {
  std::map<double, std::vector<double>> by_size;
  for (const auto &l : memlat_)
    by_size[l.number("bytes")].push_back(l.number("ns_per_load"));
  std::vector<MemlatSummary> out;
  for (const auto &[bytes, ns] : by_size)
    out.push_back({bytes, spread_of(ns), static_cast<int>(ns.size())});
  return out;
}

std::vector<FwdSummary> Report::forwarding() const {
  auto miss_sizes = memlat();
  std::vector<FwdSummary> out;
  for (const auto &l : fwd_) {
    std::string config = l.text("config");
    if (std::any_of(out.begin(), out.end(), [&](const auto &s) { return s.config == config; }))
      continue;
    FwdSummary s;
    s.config = config;
    s.title = l.get("title").value_or(config);
    s.installed_by = l.get("installed_by").value_or("");
    s.family = l.get("family").value_or("4");
    s.flows = l.get("flows").value_or("1");
    if (auto m = optional_number(l, "miss_every"))
      s.miss_every = *m;
    std::vector<double> ns, mpps, kthread, offloads, removals, churn_fast;
    double fast = 0, slow = 0, full = 0, polled = 0, received = 0;
    for (const auto &m : fwd_)
      if (m.text("config") == config) {
        ns.push_back(m.number("ns_per_packet"));
        mpps.push_back(m.number("mpps"));
        if (m.get("churn_offloads_per_s")) {
          offloads.push_back(m.number("churn_offloads_per_s"));
          removals.push_back(m.number("churn_removals_per_s"));
          churn_fast.push_back(m.number("churn_fast_share"));
        }
        if (m.get("kthread_ns_per_packet"))
          kthread.push_back(m.number("kthread_ns_per_packet"));
        if (m.get("napi_packets")) {
          full += m.number("full_packets");
          polled += m.number("napi_packets");
          received += m.number("received");
        }
        if (m.get("gw_fast_packets")) {
          fast += m.number("gw_fast_packets");
          // Churned connections send their own packets through the kernel
          // path (to be observed): not the measured flow's misses. Each
          // enters the gateway once and misses at most its interface's two
          // ingress hooks (XDP, then TC).
          double own = m.get("churn_frames_sent") ? 2 * m.number("churn_frames_sent") : 0;
          slow += std::max(0.0, m.number("gw_slow_packets") - own);
        }
      }
    if (fast + slow > 0)
      s.fast_share = fast / (fast + slow);
    s.full_share = polled > 0 ? full / polled : 0;
    s.delivered = polled > 0 ? received / polled : 0;
    s.runs = static_cast<int>(ns.size());
    s.ns = spread_of(ns);
    s.mpps = spread_of(mpps);
    s.kthread_ns = spread_of(kthread);
    if (!offloads.empty()) {
      s.churn_offloads = spread_of(offloads).median;
      s.churn_removals = spread_of(removals).median;
      s.churn_fast_share = spread_of(churn_fast).median;
    }
    s.kernel_config = l.get("vs_kernel").value_or("");
    s.bare_config = l.get("vs_bare").value_or("");
    s.self_config = l.get("vs_self").value_or("");
    s.scale_config = l.get("vs_scale").value_or("");
    if (!s.scale_config.empty())
      s.scaling = ratio(fwd_, config, s.scale_config, "capacity_mpps");
    s.target_scale = optional_number(l, "target_scale");
    s.bare_scale_config = l.get("bare_scale").value_or("");
    if (!s.kernel_config.empty())
      s.vs_kernel = ratio(fwd_, config, s.kernel_config);
    if (!s.bare_config.empty())
      s.cost_vs_bare = ratio(fwd_, s.bare_config, config);
    if (!s.self_config.empty())
      s.plus_ns = ns_above(fwd_, config, s.self_config);
    s.target_kernel = optional_number(l, "target_kernel");
    s.target_bare = optional_number(l, "target_bare");
    s.target_plus_ns = optional_number(l, "target_plus_ns");
    s.table_bytes = optional_number(l, "table_bytes");
    const MemlatSummary *miss = closest_memlat(miss_sizes, s.table_bytes);
    if (s.target_plus_ns && s.plus_ns && miss && miss->ns.median > 0) {
      s.miss_ns = miss->ns.median;
      s.miss_bytes = miss->bytes;
      s.misses = *s.plus_ns / miss->ns.median;
    }
    out.push_back(s);
  }
  return out;
}

std::vector<TargetCheck> Report::targets() const {
  std::vector<TargetCheck> out;
  auto fwd = forwarding();
  for (const auto &s : fwd) {
    if (s.target_bare)
      out.push_back({label_of(s) + ": cost / " + s.bare_config,
                     s.cost_vs_bare ? ratio_text(s.cost_vs_bare) : "not measured",
                     "<= " + fixed(*s.target_bare, 2) + " x",
                     s.cost_vs_bare && *s.cost_vs_bare <= *s.target_bare, ""});
    if (s.target_scale) {
      // The bare forwarder's own scaling on the same rig: what the CPUs
      // (two vCPUs may be one host core's hyperthreads) allow at all.
      std::string bound;
      for (const auto &b : fwd)
        if (b.config == s.bare_scale_config && b.scaling)
          bound = b.config + " / " + b.scale_config + ": " + ratio_text(b.scaling);
      out.push_back({label_of(s) + ": packets per CPU-second / " + s.scale_config,
                     s.scaling ? ratio_text(s.scaling) : "not measured",
                     ">= " + fixed(*s.target_scale, 2) + " x",
                     s.scaling && *s.scaling >= *s.target_scale, bound});
    }
    if (s.target_plus_ns)
      out.push_back({label_of(s) + ": ns above " + s.self_config,
                     s.plus_ns ? fixed(*s.plus_ns, 1) + " ns" +
                                     (s.misses ? " ≈ " + fixed(*s.misses, 1) + " misses" : "")
                               : "not measured",
                     "<= " + fixed(*s.target_plus_ns, 0) + " ns",
                     s.plus_ns && *s.plus_ns <= *s.target_plus_ns,
                     s.miss_ns ? "one miss: " + fixed(*s.miss_ns, 1) + " ns (" +
                                     size_text(*s.miss_bytes) + ", 4 KiB pages)"
                               : ""});
    if (s.target_kernel) {
      auto bound =
          s.bare_config.empty() ? std::nullopt : ratio(fwd_, s.bare_config, s.kernel_config);
      out.push_back(
          {label_of(s) + ": x cheaper than " + s.kernel_config,
           s.vs_kernel ? ratio_text(s.vs_kernel) : "not measured",
           ">= " + fixed(*s.target_kernel, 2) + " x", s.vs_kernel >= s.target_kernel,
           bound ? s.bare_config + " / " + s.kernel_config + ": " + ratio_text(bound) : ""});
    }
  }
  for (const auto &l : cp_) {
    auto target = optional_number(l, "target");
    if (!target)
      continue;
    double v = l.number("value");
    bool lower = l.get("better").value_or("higher") == "lower";
    std::string unit = l.get("unit").value_or("");
    out.push_back({l.get("title").value_or(l.text("metric")), readable(v) + " " + unit,
                   (lower ? "< " : ">= ") + readable(*target) + " " + unit,
                   lower ? v < *target : v >= *target, ""});
  }
  return out;
}

std::vector<std::string> Report::problems() const {
  std::vector<std::string> out;
  for (const auto &l : fwd_) {
    std::string what = l.text("config") + " round " + l.text("round");
    if (l.number("received") == 0)
      out.push_back(what + ": the sink counted nothing");
    else if (l.get("full_packets") && l.number("full_packets") == 0)
      out.push_back(what + ": the gateway's NAPI kthread ran no two full-budget polls in a row "
                           "(the generator did not keep it busy): nothing timed");
  }
  for (const auto &s : forwarding()) {
    // Mixed traffic misses on purpose; "none": nothing offloaded on purpose.
    double wanted = 0.99 * (1.0 - (s.miss_every ? 1.0 / s.miss_every : 0.0));
    if (s.fast_share && *s.fast_share < wanted && s.installed_by != "none")
      out.push_back(s.config + ": xdpflow forwarded only " + fixed(*s.fast_share * 100, 1) +
                    " % of the gateway's packets itself");
  }
  return out;
}

std::string Report::markdown() const {
  std::string md;
  for (const auto &m : machine_) {
    md += "Machine:";
    for (const char *k : {"cpu", "cores", "kernel", "date", "commit"})
      if (auto v = m.get(k))
        md += std::string(" ") + k + " " + *v + ";";
    md += "\n\n";
  }
  auto fwd = forwarding();
  if (!fwd.empty()) {
    md += "### Forwarding cost: 64-byte UDP frames, the gateway's NAPI kthread on a CPU of its "
          "own\n\n";
    md += "| configuration | IP | flows | ns/packet (median) | min - max | runs | Mpps per core "
          "| kthread ns/packet, all polls | at the sink | x cheaper than kernel | cost / bare | "
          "fast path |\n";
    md += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto &s : fwd) {
      std::string title = s.title;
      if (!s.installed_by.empty())
        title += " [flows: " + s.installed_by + "]";
      md += "| " + title + " | v" + s.family + " | " + s.flows + " | " + fixed(s.ns.median, 1) +
            " | " + fixed(s.ns.min, 1) + " - " + fixed(s.ns.max, 1) + " | " +
            std::to_string(s.runs) + " | " + fixed(s.mpps.median, 2) + " | " +
            (s.kthread_ns.median > 0 ? fixed(s.kthread_ns.median, 1) : "") + " | " +
            (s.delivered > 0 ? fixed(s.delivered * 100, 1) + " %" : "") + " | " +
            ratio_text(s.vs_kernel) + " | " + ratio_text(s.cost_vs_bare) + " | " +
            (s.fast_share ? fixed(*s.fast_share * 100, 1) + " %" : "") + " |\n";
    }
    md +=
        "\nns/packet: the gateway's NAPI kthread's time between two full-budget polls in a "
        "row (napi:napi_poll tracepoint), per packet of those polls: its CPU cost per "
        "forwarded packet without wake-ups. Mpps per core = 1000 / ns. The kthread column is "
        "its whole CPU time (schedstat) per packet it polled, wake-ups included; at the sink: the "
        "packets the sink counted / those the kthread polled (proof it forwarded them; a few "
        "% are lost to the sink's full ring in bursts). Ratios: median over rounds of per-round "
        "ratios. Cost / bare: against the bare forwarder of the same hook (XDP or tc "
        "ingress). Fast path: share of the gateway's packets xdpflow "
        "forwarded itself (its counters).\n\n";
  }
  for (const auto &s : fwd) {
    if (!s.miss_every || s.self_config.empty())
      continue;
    // mixed = (1 - share) x hit + share x miss: the miss's own cost as the
    // mixed run paid it, against the kernel path alone and the quiet hit.
    double share = 1.0 / s.miss_every, hit = 0, kernel = 0;
    for (const auto &o : fwd) {
      if (o.config == s.self_config)
        hit = o.ns.median;
      if (o.config == s.kernel_config)
        kernel = o.ns.median;
    }
    if (hit <= 0)
      continue;
    double miss = (s.ns.median - (1 - share) * hit) / share;
    md += "Mixed traffic (" + label_of(s) + "): " + fixed(s.ns.median, 1) +
          " ns a packet against " + fixed(hit, 1) + " ns with every packet a hit (" +
          s.self_config + "); so each miss costs " + fixed(miss, 0) + " ns" +
          (kernel > 0 ? " (the kernel path alone: " + fixed(kernel, 0) + " ns, " + s.kernel_config +
                            "): the misses cost the hits " + fixed(miss - kernel, 0) +
                            " ns per miss beyond their own kernel path"
                      : "") +
          ".\n\n";
  }
  if (auto sizes = memlat(); !sizes.empty()) {
    md += "### One memory miss: dependent random cache-line loads, 4 KiB pages, the gateway's "
          "CPU\n\n| buffer | ns per load (median) | min - max | runs |\n|---|---|---|---|\n";
    for (const auto &m : sizes)
      md += "| " + size_text(m.bytes) + " | " + fixed(m.ns.median, 1) + " | " + fixed(m.ns.min, 1) +
            " - " + fixed(m.ns.max, 1) + " | " + std::to_string(m.runs) + " |\n";
    md += "\nA pointer chase over a random cycle through the buffer's lines: each load waits for "
          "the one before, and pays the cache and TLB misses a flow-table lookup pays in "
          "vmalloc'd BPF maps (4 KiB pages). A count of misses below is latency-equivalent: "
          "the ns above divided by one such load (misses the CPU overlaps, e.g. of neighbouring "
          "packets in a poll, count less than one each).\n\n";
    for (const auto &s : fwd)
      if (s.misses)
        md += label_of(s) + ": " + fixed(*s.plus_ns, 1) + " ns above " + s.self_config + " ≈ " +
              fixed(*s.misses, 1) + " misses of " + fixed(*s.miss_ns, 1) + " ns (" +
              size_text(*s.miss_bytes) +
              (s.table_bytes ? ", the size closest to its flow table's " + size_text(*s.table_bytes)
                             : ", the largest measured") +
              ").\n\n";
  }
  bool churn = std::any_of(fwd.begin(), fwd.end(), [](const auto &s) { return s.churn_offloads; });
  if (churn) {
    md += "### Churn: connections offloaded and removed while traffic flows\n\n";
    md += "Each churned connection is a conntrack entry created and deleted 0.5 s later that "
          "sends one packet per direction 20 ms and 200 ms after its creation (the gateway's "
          "kernel path forwards them and the egress observer learns the connection from them); "
          "those packets are in the fast path share.\n\n";
    md += "| configuration | offloads / s | removals / s | fast path share meanwhile | "
          "ns/packet | ns above |\n|---|---|---|---|---|---|\n";
    for (const auto &s : fwd)
      if (s.churn_offloads)
        md += "| " + label_of(s) + " | " + readable(*s.churn_offloads) + " | " +
              readable(*s.churn_removals) + " | " + fixed(*s.churn_fast_share * 100, 1) + " % | " +
              fixed(s.ns.median, 1) + " | " +
              (s.plus_ns ? fixed(*s.plus_ns, 1) + " ns (" + s.self_config + ")" : "") + " |\n";
    md += "\n";
  }
  if (!tcp_.empty()) {
    md +=
        "### TCP bulk throughput: one iperf3 connection src -> dst, the gateway's NAPI kthread on "
        "its own CPU\n\n";
    md += "| configuration | Gbit/s (median) | min - max | runs | retransmits (median) | fast "
          "path |\n|---|---|---|---|---|---|\n";
    for (const auto &t : tcp_summaries(tcp_))
      md += "| " + t.title + " | " + fixed(t.gbps.median, 2) + " | " + fixed(t.gbps.min, 2) +
            " - " + fixed(t.gbps.max, 2) + " | " + std::to_string(t.runs) + " | " +
            fixed(t.retransmits, 0) + " | " +
            (t.fast_share ? fixed(*t.fast_share * 100, 1) + " %" : "") + " |\n";
    md += "\nThe kernel path forwards GRO/GSO aggregates (up to 64 KiB per packet); xdpflow "
          "without XDP multi-buffer support makes the veth peer send MTU-sized frames.\n\n";
  }
  if (!cost_.empty()) {
    md += "### Per-packet cost of the programs (BPF_PROG_TEST_RUN, no traffic)\n\n";
    md += "| program | ns per packet | verdict |\n|---|---|---|\n";
    for (const auto &l : cost_)
      md += "| " + l.text("title") + " | " + fixed(l.number("ns"), 1) + " | XDP_" +
            l.text("verdict") + " |\n";
    md += "\n";
  }
  if (!cp_.empty()) {
    md += "### Control plane\n\n| figure | value | note |\n|---|---|---|\n";
    for (const auto &l : cp_)
      md += "| " + l.text("title") + " | " + readable(l.number("value")) + " " +
            l.get("unit").value_or("") + " | " + l.get("note").value_or("") + " |\n";
    md += "\n";
  }
  auto checks = targets();
  if (!checks.empty()) {
    md += "### Targets\n\n| target | measured | wanted | met | bound on this rig |\n"
          "|---|---|---|---|---|\n";
    for (const auto &t : checks)
      md += "| " + t.what + " | " + t.measured + " | " + t.target + " | " +
            (t.met ? "yes" : "**no**") + " | " + t.bound + " |\n";
    md += "\nBound: the bare forwarder of the row's hook (XDP or tc ingress; no lookup, no "
          "rewrite beyond the MACs) measured against the same baseline in the same rounds; no "
          "forwarder on that hook exceeds it on this rig. One miss: the memory latency measured "
          "at the size closest to the row's flow table; the target is the issue's, the misses "
          "say how many such misses the ns above are.\n\n";
  }
  return md;
}

std::string Report::json() const {
  xdpflow::JsonWriter w;
  w.begin_object();
  w.key("machine").begin_object();
  for (const auto &m : machine_)
    for (const char *k : {"cpu", "cores", "kernel", "date", "commit"})
      if (auto v = m.get(k))
        w.field(k, *v);
  w.end_object();
  w.key("forwarding").begin_array();
  for (const auto &s : forwarding()) {
    w.begin_object()
        .field("config", s.config)
        .field("title", s.title)
        .field("installed_by", s.installed_by)
        .field("family", std::stoi(s.family))
        .field("flows", static_cast<std::uint64_t>(std::stoull(s.flows)))
        .field("runs", s.runs);
    w.key("ns_per_packet").begin_object();
    w.field("median", s.ns.median).field("min", s.ns.min).field("max", s.ns.max);
    w.end_object();
    w.field("mpps_per_core_median", s.mpps.median);
    w.field("kthread_ns_per_packet_median", s.kthread_ns.median);
    w.field("full_poll_share", s.full_share);
    w.field("delivered_share", s.delivered);
    w.key("x_cheaper_than_kernel");
    s.vs_kernel ? w.value(*s.vs_kernel) : w.null();
    w.key("cost_vs_bare");
    s.cost_vs_bare ? w.value(*s.cost_vs_bare) : w.null();
    w.key("scaling");
    s.scaling ? w.value(*s.scaling) : w.null();
    w.key("ns_above_self");
    s.plus_ns ? w.value(*s.plus_ns) : w.null();
    w.key("fast_path_share");
    s.fast_share ? w.value(*s.fast_share) : w.null();
    w.key("table_bytes");
    s.table_bytes ? w.value(*s.table_bytes) : w.null();
    w.key("misses_above_self");
    s.misses ? w.value(*s.misses) : w.null();
    w.end_object();
  }
  w.end_array();
  w.key("memlat").begin_array();
  for (const auto &m : memlat()) {
    w.begin_object().field("bytes", m.bytes).field("runs", m.runs);
    w.key("ns_per_load").begin_object();
    w.field("median", m.ns.median).field("min", m.ns.min).field("max", m.ns.max);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.key("tcp").begin_array();
  for (const auto &t : tcp_summaries(tcp_)) {
    w.begin_object().field("config", t.config).field("title", t.title).field("runs", t.runs);
    w.key("gbps").begin_object();
    w.field("median", t.gbps.median).field("min", t.gbps.min).field("max", t.gbps.max);
    w.end_object();
    w.field("retransmits_median", t.retransmits);
    w.key("fast_path_share");
    t.fast_share ? w.value(*t.fast_share) : w.null();
    w.end_object();
  }
  w.end_array();
  w.key("cost").begin_array();
  for (const auto &l : cost_)
    w.begin_object()
        .field("case", l.text("case"))
        .field("title", l.text("title"))
        .field("ns", l.number("ns"))
        .field("verdict", l.text("verdict"))
        .end_object();
  w.end_array();
  w.key("control_plane").begin_array();
  for (const auto &l : cp_)
    w.begin_object()
        .field("metric", l.text("metric"))
        .field("title", l.text("title"))
        .field("value", l.number("value"))
        .field("unit", l.get("unit").value_or(""))
        .end_object();
  w.end_array();
  w.key("targets").begin_array();
  for (const auto &t : targets())
    w.begin_object()
        .field("target", t.what)
        .field("measured", t.measured)
        .field("wanted", t.target)
        .field("met", t.met)
        .field("bound", t.bound)
        .end_object();
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

std::string Report::chart_data() const {
  // index "label" median min max group (1 kernel path, 2 bare XDP, 3 xdpflow)
  std::string out;
  int i = 0;
  for (const auto &s : forwarding()) {
    std::string label = label_of(s);
    for (char &c : label)
      if (c == '"')
        c = '\'';
    int group = 3;
    for (const auto &l : fwd_)
      if (l.text("config") == s.config) {
        std::string gw = l.get("gw").value_or("none");
        group = (gw == "bare" || gw == "fib")              ? 2
                : (gw == "none" && s.installed_by.empty()) ? 1
                                                           : 3;
        break;
      }
    out += std::to_string(i++) + " \"" + label + "\" " + fixed(s.ns.median, 1) + " " +
           fixed(s.ns.min, 1) + " " + fixed(s.ns.max, 1) + " " + std::to_string(group) + "\n";
  }
  return out;
}

} // namespace xfbench
