// The BPF programs of the benchmark rig, each loaded from its embedded
// skeleton and attached (bpf_link) for as long as the object lives:
//   NapiTrace      times the gateway's NAPI kthreads (napi:napi_poll)
//   Sink           counts and drops in the destination namespace
//   BareForwarder  fixed MAC rewrite + redirect on the gateway, at XDP or
//                  tc ingress (the upper bound for a forwarder on that hook)
//   FibForwarder   bpf_fib_lookup per packet (the cost of a route lookup)
//   DirectXdpflow  the real xdpflow fast path on the gateway (XDP or tc
//                  ingress), its flow table filled directly (no control plane)
// Constructors must run with the calling thread in the namespace the
// program belongs to (see netns.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bench_proto.h"
#include "core/flow_key.h"
#include "kernel/tcx_link.h"
#include "netns.h"
#include "xdp_link.h"

struct xfb_napi_trace;
struct bpf_link;
struct xfb_sink;
struct xfb_fwd;
struct xfb_fib;

namespace xdpflow {
class FastPath;
}

namespace xfbench {

// Every CPU's copy of key 0 of a per-CPU array map (throws SysError naming
// `what`).
template <typename T> std::vector<T> read_per_cpu(int map_fd, const char *what);
extern template std::vector<xfb_sink_counters> read_per_cpu(int, const char *);

// Where a gateway program runs: XDP (native, on the frame as the driver has
// it) or tc ingress (tcx, else clsact: on the skb the kernel built).
enum class GwHook { Xdp, Tc };

// Flow i's source address: flow 0's with i >> XFB_SPORT_BITS added to the
// last 32-bit word (as the generator computes it).
xdpflow::IpAddr flow_source(const xdpflow::IpAddr &flow0_src, std::uint32_t i);

// The napi:napi_poll tracepoint program (napi_trace.bpf.c), recording the
// polls of up to XFB_MAX_NAPI kthreads (by thread id) while it lives.
class NapiTrace {
public:
  explicit NapiTrace(const std::vector<std::uint32_t> &pids);
  ~NapiTrace();
  NapiTrace(const NapiTrace &) = delete;
  NapiTrace &operator=(const NapiTrace &) = delete;
  // A snapshot of thread i's record (i indexes the pids given).
  xfb_napi_stats read(std::size_t i) const;
  std::size_t threads() const { return threads_; }

private:
  ::xfb_napi_trace *skel_ = nullptr;
  ::bpf_link *link_ = nullptr;
  std::size_t threads_ = 0;
};

class Sink {
public:
  explicit Sink(std::uint32_t ifindex);
  ~Sink();
  Sink(const Sink &) = delete;
  Sink &operator=(const Sink &) = delete;
  // Summed over all CPUs.
  xfb_sink_counters read() const;

private:
  ::xfb_sink *skel_ = nullptr;
  std::optional<XdpLink> link_;
};

class BareForwarder {
public:
  BareForwarder(std::uint32_t in_ifindex, std::uint32_t out_ifindex, const Mac &src_mac,
                const Mac &dst_mac, GwHook hook = GwHook::Xdp);
  ~BareForwarder();
  BareForwarder(const BareForwarder &) = delete;
  BareForwarder &operator=(const BareForwarder &) = delete;

private:
  ::xfb_fwd *skel_ = nullptr;
  std::optional<XdpLink> link_;
  std::optional<xdpflow::TcLink> tc_link_;
};

// bpf_fib_lookup per packet, TTL, MACs from the lookup, redirect (the cost
// of a route lookup per packet, as xdp-tools' xdp-forward pays it).
class FibForwarder {
public:
  explicit FibForwarder(std::uint32_t in_ifindex);
  ~FibForwarder();
  FibForwarder(const FibForwarder &) = delete;
  FibForwarder &operator=(const FibForwarder &) = delete;

private:
  ::xfb_fib *skel_ = nullptr;
  std::optional<XdpLink> link_;
};

struct DirectOptions {
  std::uint32_t in_ifindex = 0, out_ifindex = 0;
  Mac out_src_mac{}, out_dst_mac{}; // egress MAC and the next hop's
  xdpflow::IpAddr src, dst;         // flow 0, as the generator sends it
  std::uint32_t flows = 1;
  std::optional<xdpflow::IpAddr> snat; // masquerade to this address
  GwHook hook = GwHook::Xdp;           // on both interfaces, the other hook left empty
};

class DirectXdpflow {
public:
  explicit DirectXdpflow(const DirectOptions &options);
  ~DirectXdpflow();
  DirectXdpflow(const DirectXdpflow &) = delete;
  DirectXdpflow &operator=(const DirectXdpflow &) = delete;
  double fill_seconds() const { return fill_seconds_; }
  // The attached hook's counters, summed over all CPUs.
  xf_counters counters() const;
  // Kernel memory of the flow table map the flows are in (the map's
  // "memlock" in fdinfo: its entries, buckets and per-element overhead).
  std::uint64_t table_bytes() const;

private:
  void fill(const DirectOptions &options);
  void publish_clock_until_stopped();
  void stop_clock();
  std::unique_ptr<xdpflow::FastPath> fast_path_;
  GwHook hook_;
  std::uint8_t family_;
  std::vector<XdpLink> links_;
  std::vector<xdpflow::TcLink> tc_links_;
  double fill_seconds_ = 0;
  // The TC hook stops forwarding when the control plane's clock is 2 s
  // old: a thread stands in for the control plane's clock.
  std::mutex clock_mutex_;
  std::condition_variable clock_stop_cv_;
  bool clock_stop_ = false;
  std::thread clock_thread_;
};

} // namespace xfbench
