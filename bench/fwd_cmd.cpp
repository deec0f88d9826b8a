// `xfbench fwd`: one per-packet cost measurement on a rig that scripts/bench
// built (src - gw - dst namespaces joined by veths, plus a relay veth pair in
// src). Attaches the sink in dst, the relay (r1: XDP redirect out of the
// client veth, so the gateway receives XDP frames as from a NIC) and
// optionally a program on the gateway (the bare forwarder, or xdpflow with a
// directly filled table, each at XDP or tc ingress: --gw-hook; "none" leaves
// the gateway as it is: the kernel path, or an `xdpflow attach` the script
// started). Then it sends 64-byte UDP
// frames (AF_PACKET into r0) for --seconds, while a tracepoint program times
// the gateway's NAPI kthreads (--napi-pid: threaded NAPI, pinned to a CPU of
// their own by the script), and prints one result line:
//   ns_per_packet  the kthreads' time between two full-budget polls in a
//                  row, per packet of those polls: the gateway's CPU cost
//                  per forwarded packet, wake-ups excluded (headline)
//   mpps           1000 / ns_per_packet: Mpps one core of this gateway
//                  forwards at that cost (the rate the report compares)
//   kthread_ns_per_packet  the kthreads' whole CPU time (schedstat) per
//                  packet they received: wake-ups and idle polls included
//   received       packets the sink counted: proof the gateway forwarded
//   table_bytes    (--gw xdpflow) the kernel memory of the flow table map
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "packet_gen.h"
#include "result_line.h"
#include "rig_programs.h"

using xdpflow::IpAddr;
using xdpflow::UsageError;

namespace xfbench {
namespace {

struct FwdOptions {
  std::string src_ns, gw_ns, dst_ns;
  std::string relay_if = "r0", relay_peer = "r1";
  std::string src_if = "s0", gw_in = "g0", gw_out = "g1", dst_if = "d0";
  std::string src_addr, dst_addr, snat_addr;
  std::string gw_mode = "none";
  std::string gw_hook = "xdp";
  std::vector<std::uint32_t> napi_pids;
  std::uint32_t flows = 1;
  std::uint32_t miss_every = 0;
  std::string flow_order = "scattered";
  // Generator threads, one per CPU listed (each its own flows); empty: one,
  // in the calling thread.
  std::vector<int> gen_cpus;
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

// A thread's time on a CPU so far (ns), from /proc/PID/schedstat.
std::uint64_t thread_cpu_ns(std::uint32_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/schedstat";
  std::FILE *f = std::fopen(path.c_str(), "re");
  if (!f)
    throw xdpflow::SysError(errno, "reading " + path + " (is NAPI kthread " + std::to_string(pid) +
                                       " gone?)");
  unsigned long long ns = 0;
  int n = std::fscanf(f, "%llu", &ns);
  std::fclose(f);
  if (n != 1)
    throw xdpflow::RuntimeError("cannot parse " + path);
  return ns;
}

// What is read at the start and the end of the measured window.
struct Snapshot {
  xfb_sink_counters sink{};
  std::vector<xfb_napi_stats> napi;
  std::uint64_t kthread_ns = 0, sent = 0;
  std::chrono::steady_clock::time_point at;
};

Snapshot snapshot(const Sink &sink, const NapiTrace &trace, const FwdOptions &o,
                  std::uint64_t sent) {
  Snapshot s;
  s.sink = sink.read();
  for (std::size_t i = 0; i < trace.threads(); i++)
    s.napi.push_back(trace.read(i));
  for (auto pid : o.napi_pids)
    s.kthread_ns += thread_cpu_ns(pid);
  s.sent = sent;
  s.at = std::chrono::steady_clock::now();
  return s;
}

// Sends batches until `seconds` passed (the process runs on the generator's
// CPU; the gateway's kthreads have the other).
void generate(PacketGen &gen, double seconds) {
  auto t0 = std::chrono::steady_clock::now();
  while (since(t0) < seconds)
    for (int i = 0; i < 16; i++)
      gen.send_batch();
}

// Extra generators, each a thread pinned to one CPU sending its own flows
// (two-core scaling: veth puts a redirected frame on the receive queue of
// the sending CPU's number, so each CPU feeds its own gateway queue).
class GeneratorThreads {
public:
  GeneratorThreads(const std::vector<int> &cpus, const std::string &ns,
                   const std::vector<PacketGenOptions> &options) {
    for (std::size_t i = 0; i < cpus.size(); i++)
      threads_.emplace_back([this, cpu = cpus[i], ns, o = options[i]] {
        try {
          cpu_set_t set;
          CPU_ZERO(&set);
          CPU_SET(cpu, &set);
          if (int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
            throw xdpflow::SysError(err,
                                    "pinning a generator thread to CPU " + std::to_string(cpu));
          NetnsScope scope(ns);
          PacketGen gen(o);
          while (!stop_.load())
            sent_ += gen.send_batch();
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex_);
          error_ = std::current_exception();
        }
      });
  }
  // Joins without rethrowing: an error while unwinding must not terminate.
  ~GeneratorThreads() { join(); }
  std::uint64_t sent() const { return sent_.load(); }
  // Joins, and rethrows what a thread threw.
  void stop() {
    join();
    if (error_)
      std::rethrow_exception(std::exchange(error_, nullptr));
  }

private:
  void join() {
    stop_.store(true);
    for (auto &t : threads_)
      if (t.joinable())
        t.join();
  }

  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::mutex mutex_;
  std::exception_ptr error_;
};

void run_fwd(const FwdOptions &o) {
  IpAddr src = parse_addr(o.src_addr, "--src-addr");
  IpAddr dst = parse_addr(o.dst_addr, "--dst-addr");
  if (src.family != dst.family)
    throw UsageError("--src-addr and --dst-addr must be of one family");
  if (o.napi_pids.empty())
    throw UsageError("--napi-pid: the gateway's NAPI kthread(s) to time");
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
  std::unique_ptr<FibForwarder> fib;
  std::unique_ptr<DirectXdpflow> direct;
  Mac gw_in_mac;
  auto setup_start = std::chrono::steady_clock::now();
  {
    NetnsScope ns(o.gw_ns);
    std::uint32_t in = ifindex_of(o.gw_in), out = ifindex_of(o.gw_out);
    gw_in_mac = mac_of(o.gw_in);
    Mac out_mac = mac_of(o.gw_out);
    GwHook hook = o.gw_hook == "tc" ? GwHook::Tc : GwHook::Xdp;
    if (o.gw_mode == "bare") {
      bare = std::make_unique<BareForwarder>(in, out, out_mac, dst_mac, hook);
    } else if (o.gw_mode == "fib") {
      fib = std::make_unique<FibForwarder>(in);
    } else if (o.gw_mode == "xdpflow") {
      DirectOptions d;
      d.in_ifindex = in;
      d.out_ifindex = out;
      d.out_src_mac = out_mac;
      d.out_dst_mac = dst_mac;
      d.src = src;
      d.dst = dst;
      d.hook = hook;
      d.flows = o.flows * static_cast<std::uint32_t>(std::max<std::size_t>(1, o.gen_cpus.size()));
      if (!o.snat_addr.empty())
        d.snat = parse_addr(o.snat_addr, "--snat");
      direct = std::make_unique<DirectXdpflow>(d);
      line.set("fill_seconds", direct->fill_seconds())
          .set("table_bytes", std::to_string(direct->table_bytes()));
    } else if (o.gw_mode != "none") {
      throw UsageError("--gw must be none, bare, fib or xdpflow");
    }
    if (o.gw_mode == "fib" && hook == GwHook::Tc)
      throw UsageError("--gw fib runs at XDP only");
    if (o.gw_mode != "none")
      line.set("gw_hook", o.gw_hook);
  }
  line.set("setup_seconds", since(setup_start));

  // The relay and the generator, in the source namespace.
  std::unique_ptr<BareForwarder> relay;
  std::unique_ptr<PacketGen> gen;
  PacketGenOptions gen_options;
  {
    NetnsScope ns(o.src_ns);
    Mac src_mac = mac_of(o.src_if);
    relay = std::make_unique<BareForwarder>(ifindex_of(o.relay_peer), ifindex_of(o.src_if), src_mac,
                                            gw_in_mac);
    gen_options.ifindex = ifindex_of(o.relay_if);
    gen_options.src_mac = src_mac;
    gen_options.dst_mac = gw_in_mac;
    gen_options.src = src;
    gen_options.dst = dst;
    gen_options.flows = o.flows;
    gen_options.miss_every = o.miss_every;
    gen_options.scattered = o.flow_order == "scattered";
    line.set("flow_order", o.flow_order);
    gen = std::make_unique<PacketGen>(gen_options);
  }
  NapiTrace trace(o.napi_pids);
  std::unique_ptr<GeneratorThreads> extra;
  if (o.gen_cpus.size() > 1) {
    // The first CPU's flows are the calling thread's; each other CPU sends
    // the next block of flows.
    std::vector<PacketGenOptions> per_cpu;
    for (std::size_t i = 1; i < o.gen_cpus.size(); i++) {
      PacketGenOptions g = gen_options;
      g.first_flow = static_cast<std::uint32_t>(i) * o.flows;
      per_cpu.push_back(g);
    }
    extra = std::make_unique<GeneratorThreads>(
        std::vector<int>(o.gen_cpus.begin() + 1, o.gen_cpus.end()), o.src_ns, per_cpu);
  }

  // Warm-up (caches, page pools, the table's buckets, conntrack) stays
  // outside the measured window.
  generate(*gen, std::min(0.3, o.seconds / 3));
  if (sink->read().packets == 0)
    std::fprintf(stderr,
                 "xfbench: warning: the sink counted nothing during warm-up "
                 "(is the path from %s to %s open?)\n",
                 o.src_ns.c_str(), o.dst_ns.c_str());
  // Frames every generator sent so far: the window counts its own.
  auto sent = [&] { return gen->sent() + (extra ? extra->sent() : 0); };
  Snapshot a = snapshot(*sink, trace, o, sent());
  generate(*gen, o.seconds);
  Snapshot b = snapshot(*sink, trace, o, sent());
  if (extra)
    extra->stop(); // rethrows a generator thread's error

  double wall = std::chrono::duration<double>(b.at - a.at).count();
  std::uint64_t got = b.sink.packets - a.sink.packets;
  std::uint64_t polls = 0, napi_packets = 0, full = 0, full_packets = 0, full_ns = 0;
  // Packets per ns each kthread forwards while busy, summed: what the
  // gateway's CPUs forward together at these costs (two-core scaling).
  double capacity = 0;
  int busy_threads = 0;
  for (std::size_t i = 0; i < b.napi.size(); i++) {
    std::uint64_t thread_packets = b.napi[i].full_packets - a.napi[i].full_packets;
    std::uint64_t thread_ns = b.napi[i].full_ns - a.napi[i].full_ns;
    polls += b.napi[i].polls - a.napi[i].polls;
    napi_packets += b.napi[i].packets - a.napi[i].packets;
    full += b.napi[i].full_intervals - a.napi[i].full_intervals;
    full_packets += thread_packets;
    full_ns += thread_ns;
    if (thread_ns) {
      capacity += static_cast<double>(thread_packets) / static_cast<double>(thread_ns);
      busy_threads++;
    }
  }
  double ns = full_packets ? static_cast<double>(full_ns) / static_cast<double>(full_packets) : 0;
  std::uint64_t kthread_ns = b.kthread_ns - a.kthread_ns;
  line.set("family", src.family == XF_FAMILY_IPV4 ? "4" : "6")
      .set("flows", std::to_string(o.flows))
      .set("gw", o.gw_mode)
      .set("ns_per_packet", ns)
      .set("mpps", ns > 0 ? 1000.0 / ns : 0.0)
      .set("capacity_mpps", capacity * 1000.0)
      .set("busy_threads", std::to_string(busy_threads))
      .set("kthread_ns_per_packet",
           napi_packets ? static_cast<double>(kthread_ns) / static_cast<double>(napi_packets) : 0.0)
      .set("kthread_busy", wall > 0 ? static_cast<double>(kthread_ns) / 1e9 / wall : 0.0)
      .set("napi_polls", std::to_string(polls))
      .set("napi_packets", std::to_string(napi_packets))
      .set("full_intervals", std::to_string(full))
      .set("full_packets", std::to_string(full_packets))
      .set("wall_mpps", static_cast<double>(got) / wall / 1e6)
      .set("seconds", wall)
      .set("sent", std::to_string(b.sent - a.sent))
      .set("received", std::to_string(got))
      .set("misses_received", std::to_string(b.sink.misses - a.sink.misses))
      .set("ttl_not_decremented", std::to_string(b.sink.ttl_fixed - a.sink.ttl_fixed));
  if (o.miss_every)
    line.set("miss_every", std::to_string(o.miss_every));
  if (direct) {
    // Proof that the fast path did the forwarding (over the whole run,
    // warm-up included): the kernel path would deliver too, only dearer.
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
  auto *cmd = app.add_subcommand("fwd", "measure the gateway's cost per forwarded packet once");
  cmd->add_option("--src-ns", o->src_ns, "generator namespace")->required();
  cmd->add_option("--gw-ns", o->gw_ns, "gateway namespace")->required();
  cmd->add_option("--dst-ns", o->dst_ns, "sink namespace")->required();
  cmd->add_option("--relay-if", o->relay_if, "veth the generator sends into (src)")
      ->capture_default_str();
  cmd->add_option("--relay-peer", o->relay_peer, "its peer, relaying out of --src-if (src)")
      ->capture_default_str();
  cmd->add_option("--src-if", o->src_if, "client veth facing the gateway")->capture_default_str();
  cmd->add_option("--gw-in", o->gw_in, "gateway veth facing src")->capture_default_str();
  cmd->add_option("--gw-out", o->gw_out, "gateway veth facing dst")->capture_default_str();
  cmd->add_option("--dst-if", o->dst_if, "sink veth")->capture_default_str();
  cmd->add_option("--src-addr", o->src_addr, "flow 0's source address")->required();
  cmd->add_option("--dst-addr", o->dst_addr, "destination address")->required();
  cmd->add_option("--napi-pid", o->napi_pids, "the gateway's NAPI kthread(s), timed")->required();
  cmd->add_option("--gw", o->gw_mode,
                  "program on the gateway: none (leave as is), bare, fib, xdpflow (direct fill)")
      ->capture_default_str();
  cmd->add_option("--gw-hook", o->gw_hook,
                  "with --gw bare or xdpflow: attach at xdp or tc ingress (the other hook empty)")
      ->check(CLI::IsMember({"xdp", "tc"}))
      ->capture_default_str();
  cmd->add_option("--snat", o->snat_addr, "with --gw xdpflow: source NAT to this address");
  cmd->add_option("--flows", o->flows, "distinct flows, one per frame in turn")
      ->capture_default_str();
  cmd->add_option("--miss-every", o->miss_every,
                  "every Nth frame to a port no flow has (kernel path); 0: none")
      ->capture_default_str();
  cmd->add_option("--flow-order", o->flow_order,
                  "scattered (flow i's frames in no relation to its entry's place) or sequential")
      ->check(CLI::IsMember({"scattered", "sequential"}))
      ->capture_default_str();
  cmd->add_option("--gen-cpu", o->gen_cpus,
                  "generator CPUs, each sending its own --flows (the first: this thread)");
  cmd->add_option("--seconds", o->seconds, "measured time")->capture_default_str();
  cmd->add_option("--tag", o->tags, "KEY=VALUE copied into the result line");
  cmd->callback([o] { run_fwd(*o); });
}

} // namespace xfbench
