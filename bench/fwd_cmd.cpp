// `xfbench fwd`: one forwarding-rate measurement on a rig that scripts/bench
// built (src - gw - dst namespaces joined by veths). Attaches the sink in
// dst, optionally a program on the gateway (the bare forwarder, or xdpflow
// with a directly filled table; "none" leaves the gateway as it is: the
// kernel path, or an `xdpflow attach` the script started), then runs the
// generator in src for --seconds and prints one result line:
//   mpps      sink count / wall time (the headline figure)
//   cpu_mpps  sink count / CPU time of the generator thread, which with
//             everything on one CPU includes the softirq work of the whole
//             chain; a wall rate well below it means something else took
//             the CPU
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <pthread.h>
#include <thread>
#include <utility>

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

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void on_stop_signal(int) {} // only there to interrupt the test run (EINTR)

// Runs the generator in its own thread (in the source namespace) with one
// long test run, so the page pool is set up and torn down once rather than
// inside the measured window; stop() interrupts it with a signal. Both
// threads share the one CPU the process is pinned to; the measuring thread
// sleeps all but a few microseconds.
class GeneratorThread {
public:
  GeneratorThread(Generator &gen, const std::string &ns) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal; // no SA_RESTART: the test run returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);
    thread_ = std::thread([this, &gen, ns] {
      try {
        NetnsScope scope(ns);
        while (!stop_.load() && gen.send(UINT32_MAX)) {
        }
      } catch (...) {
        error_ = std::current_exception();
      }
      done_.store(true);
    });
    if (pthread_getcpuclockid(thread_.native_handle(), &clock_))
      throw xdpflow::RuntimeError("cannot read the generator thread's CPU clock");
  }
  ~GeneratorThread() { stop(); }

  double cpu_seconds() const {
    timespec ts{};
    clock_gettime(clock_, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  bool failed() const { return done_.load() && error_; }

  // Interrupts the test run (signals until the thread noticed), joins, and
  // rethrows what the thread threw.
  void stop() {
    if (!thread_.joinable())
      return;
    stop_.store(true);
    while (!done_.load()) {
      pthread_kill(thread_.native_handle(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    thread_.join();
    if (error_)
      std::rethrow_exception(std::exchange(error_, nullptr));
  }

private:
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};
  std::exception_ptr error_;
  clockid_t clock_{};
};

void sleep_seconds(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
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

  GeneratorOptions g;
  {
    NetnsScope ns(o.src_ns);
    g.ifindex = ifindex_of(o.src_if);
    g.src_mac = mac_of(o.src_if);
  }
  g.dst_mac = gw_in_mac;
  g.src = src;
  g.dst = dst;
  g.flows = o.flows;
  g.batch_size = o.batch;
  Generator gen(g);

  // Counters are read while the generator runs: warm-up (caches, page
  // pool, the table's buckets, conntrack) and the end of the test run stay
  // outside the measured window.
  GeneratorThread runner(gen, o.src_ns);
  sleep_seconds(std::min(0.3, o.seconds / 3));
  if (runner.failed())
    runner.stop(); // rethrows
  if (sink->read().packets == 0)
    std::fprintf(stderr,
                 "xfbench: warning: the sink counted nothing during warm-up "
                 "(is the path from %s to %s open?)\n",
                 o.src_ns.c_str(), o.dst_ns.c_str());

  xfb_sink_counters before = sink->read();
  std::uint64_t gen0 = gen.generated();
  double cpu0 = runner.cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  sleep_seconds(o.seconds);
  xfb_sink_counters after = sink->read();
  std::uint64_t gen1 = gen.generated();
  double cpu = runner.cpu_seconds() - cpu0;
  double wall = since(t0);
  runner.stop();
  std::uint64_t got = after.packets - before.packets;
  std::uint64_t sent = gen1 - gen0;

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
