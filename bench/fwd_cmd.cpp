// `xfbench fwd`: one forwarding-rate measurement on a rig that scripts/bench
// built (src - gw - dst namespaces joined by veths). Attaches the sink in
// dst, optionally a program on the gateway (the bare forwarder, or xdpflow
// with a directly filled table; "none" leaves the gateway as it is: the
// kernel path, or an `xdpflow attach` the script started), then runs the
// generator in src for --seconds and prints one result line:
//   mpps      sink count / wall time (the headline figure)
//   cpu_mpps  sink count / CPU time of this thread, which with everything on
//             one CPU includes the softirq work of the whole chain; a wall
//             rate well below it means something else took the CPU
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>

#include "commands.h"
#include "core/error.h"
#include "result_line.h"
#include "rig_programs.h"

using xdpflow::IpAddr;
using xdpflow::UsageError;

namespace xfbench {
namespace {

struct FwdOptions {
  std::string src_ns, gw_ns, dst_ns;
  std::string src_if = "s0", gw_in = "g0", gw_out = "g1", dst_if = "d0";
  std::string src_addr, dst_addr, snat_addr;
  std::string gw_mode = "none";
  std::uint32_t flows = 1;
  std::uint32_t batch = 64;
  double seconds = 1.0;
  std::vector<std::string> tags;
};

IpAddr parse_addr(const std::string &text, const char *what) {
  auto a = IpAddr::parse(text);
  if (!a)
    throw UsageError(std::string(what) + ": not an IP address: " + text);
  return *a;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Sends for about `seconds`, in test runs of ~20 ms each so the end is
// accurate whatever the rate. Returns frames generated.
std::uint64_t generate_for(Generator &gen, double seconds) {
  std::uint64_t sent = 0;
  std::uint32_t chunk = 16384;
  auto start = std::chrono::steady_clock::now();
  while (since(start) < seconds) {
    auto t = std::chrono::steady_clock::now();
    gen.send(chunk);
    sent += chunk;
    double dt = std::max(since(t), 1e-6);
    chunk = static_cast<std::uint32_t>(
        std::clamp(chunk * 0.02 / dt, 4096.0, static_cast<double>(1u << 22)));
  }
  return sent;
}

void run_fwd(const FwdOptions &o) {
  IpAddr src = parse_addr(o.src_addr, "--src-addr");
  IpAddr dst = parse_addr(o.dst_addr, "--dst-addr");
  if (src.family != dst.family)
    throw UsageError("--src-addr and --dst-addr must be of one family");
  ResultLine line;
  line.set("kind", "fwd");
  for (const auto &tag : o.tags) {
    auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--tag wants KEY=VALUE, got " + tag);
    line.set(tag.substr(0, eq), tag.substr(eq + 1));
  }

  std::unique_ptr<Sink> sink;
  Mac dst_mac;
  {
    NetnsScope ns(o.dst_ns);
    sink = std::make_unique<Sink>(ifindex_of(o.dst_if));
    dst_mac = mac_of(o.dst_if);
  }

  std::unique_ptr<BareForwarder> bare;
  std::unique_ptr<DirectXdpflow> direct;
  Mac gw_in_mac;
  auto setup_start = std::chrono::steady_clock::now();
  {
    NetnsScope ns(o.gw_ns);
    std::uint32_t in = ifindex_of(o.gw_in), out = ifindex_of(o.gw_out);
    gw_in_mac = mac_of(o.gw_in);
    Mac out_mac = mac_of(o.gw_out);
    if (o.gw_mode == "bare") {
      bare = std::make_unique<BareForwarder>(in, out, out_mac, dst_mac);
    } else if (o.gw_mode == "xdpflow") {
      DirectOptions d;
      d.in_ifindex = in;
      d.out_ifindex = out;
      d.out_src_mac = out_mac;
      d.out_dst_mac = dst_mac;
      d.src = src;
      d.dst = dst;
      d.flows = o.flows;
      if (!o.snat_addr.empty())
        d.snat = parse_addr(o.snat_addr, "--snat");
      direct = std::make_unique<DirectXdpflow>(d);
      line.set("fill_seconds", direct->fill_seconds());
    } else if (o.gw_mode != "none") {
      throw UsageError("--gw must be none, bare or xdpflow");
    }
  }
  line.set("setup_seconds", since(setup_start));

  NetnsScope ns(o.src_ns);
  GeneratorOptions g;
  g.ifindex = ifindex_of(o.src_if);
  g.src_mac = mac_of(o.src_if);
  g.dst_mac = gw_in_mac;
  g.src = src;
  g.dst = dst;
  g.flows = o.flows;
  g.batch_size = o.batch;
  Generator gen(g);

  // Warm-up: caches, page pool, the flow table's buckets, conntrack.
  generate_for(gen, std::min(0.3, o.seconds / 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::uint64_t warm = sink->read().packets;
  if (warm == 0)
    std::fprintf(stderr,
                 "xfbench: warning: the sink counted nothing during warm-up "
                 "(is the path from %s to %s open?)\n",
                 o.src_ns.c_str(), o.dst_ns.c_str());

  xfb_sink_counters before = sink->read();
  double cpu0 = thread_cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t sent = generate_for(gen, o.seconds);
  double wall = since(t0);
  double cpu = thread_cpu_seconds() - cpu0;
  // Frames still queued in a veth ring are counted once the softirq that
  // holds them has run; it runs on this CPU as soon as we sleep.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  xfb_sink_counters after = sink->read();
  std::uint64_t got = after.packets - before.packets;

  line.set("family", src.family == XF_FAMILY_IPV4 ? "4" : "6")
      .set("flows", std::to_string(o.flows))
      .set("gw", o.gw_mode)
      .set("mpps", static_cast<double>(got) / wall / 1e6)
      .set("cpu_mpps", cpu > 0 ? static_cast<double>(got) / cpu / 1e6 : 0.0)
      .set("seconds", wall)
      .set("cpu_seconds", cpu)
      .set("sent", std::to_string(sent))
      .set("received", std::to_string(got))
      .set("ttl_not_decremented", std::to_string(after.ttl_fixed - before.ttl_fixed));
  if (direct) {
    // Proof that the fast path did the forwarding (over the whole run,
    // warm-up included): the kernel path would deliver too, only slower.
    xf_counters c = direct->counters();
    std::uint64_t slow = 0;
    for (auto n : c.slow)
      slow += n;
    line.set("gw_fast_packets", std::to_string(c.fast_packets))
        .set("gw_slow_packets", std::to_string(slow));
  }
  std::printf("%s\n", line.to_string().c_str());
  std::fflush(stdout);
}

} // namespace

void register_fwd(CLI::App &app) {
  auto o = std::make_shared<FwdOptions>();
  auto *cmd = app.add_subcommand("fwd", "measure the forwarding rate src -> gw -> dst once");
  cmd->add_option("--src-ns", o->src_ns, "generator namespace")->required();
  cmd->add_option("--gw-ns", o->gw_ns, "gateway namespace")->required();
  cmd->add_option("--dst-ns", o->dst_ns, "sink namespace")->required();
  cmd->add_option("--src-if", o->src_if, "generator veth")->capture_default_str();
  cmd->add_option("--gw-in", o->gw_in, "gateway veth facing src")->capture_default_str();
  cmd->add_option("--gw-out", o->gw_out, "gateway veth facing dst")->capture_default_str();
  cmd->add_option("--dst-if", o->dst_if, "sink veth")->capture_default_str();
  cmd->add_option("--src-addr", o->src_addr, "flow 0's source address")->required();
  cmd->add_option("--dst-addr", o->dst_addr, "destination address")->required();
  cmd->add_option("--gw", o->gw_mode,
                  "program on the gateway: none (leave as is), bare, xdpflow (direct fill)")
      ->capture_default_str();
  cmd->add_option("--snat", o->snat_addr, "with --gw xdpflow: source NAT to this address");
  cmd->add_option("--flows", o->flows, "distinct flows, one per frame in turn")
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "measured time")->capture_default_str();
  cmd->add_option("--batch", o->batch, "live-frames batch size")->capture_default_str();
  cmd->add_option("--tag", o->tags, "KEY=VALUE copied into the result line");
  cmd->callback([o] { run_fwd(*o); });
}

} // namespace xfbench
