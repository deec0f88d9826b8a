// The BPF programs of the benchmark rig, each loaded from its embedded
// skeleton and attached (bpf_link) for as long as the object lives:
//   Generator      live-frames PROG_TEST_RUN in the source namespace
//   Sink           counts and drops in the destination namespace
//   BareForwarder  fixed MAC rewrite + redirect on the gateway (upper bound)
//   DirectXdpflow  the real xdpflow fast path on the gateway, its flow table
//                  filled directly (no control plane)
// Constructors must run with the calling thread in the namespace the
// program belongs to (see netns.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench_proto.h"
#include "core/flow_key.h"
#include "netns.h"
#include "xdp_link.h"

struct xfb_gen;
struct xfb_sink;
struct xfb_fwd;

namespace xdpflow {
class FastPath;
}

namespace xfbench {

// Every CPU's copy of key 0 of a per-CPU array map (throws SysError naming
// `what`).
template <typename T> std::vector<T> read_per_cpu(int map_fd, const char *what);
extern template std::vector<xf_counters> read_per_cpu(int, const char *);
extern template std::vector<xfb_sink_counters> read_per_cpu(int, const char *);

// Flow i's source address: flow 0's with i >> XFB_SPORT_BITS added to the
// last 32-bit word (as the generator computes it).
xdpflow::IpAddr flow_source(const xdpflow::IpAddr &flow0_src, std::uint32_t i);

struct GeneratorOptions {
  std::uint32_t ifindex = 0; // the source veth: frames leave through it
  Mac src_mac{}, dst_mac{};
  xdpflow::IpAddr src, dst; // flow 0
  std::uint32_t flows = 1;
  std::uint32_t batch_size = 64;
};

class Generator {
public:
  explicit Generator(const GeneratorOptions &options);
  ~Generator();
  Generator(const Generator &) = delete;
  Generator &operator=(const Generator &) = delete;
  // Generates and sends frames (live frames) until a signal interrupts the
  // test run (returns false) or `frames` were sent (returns true). The
  // calling thread must be in the generator's namespace. Each call costs a
  // page pool set-up and tear-down (an RCU grace period, milliseconds), so
  // call it rarely with a large count.
  bool send(std::uint32_t frames);
  // Frames generated since load (the program's own count).
  std::uint64_t generated() const;

private:
  ::xfb_gen *skel_ = nullptr;
  GeneratorOptions options_;
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
                const Mac &dst_mac);
  ~BareForwarder();
  BareForwarder(const BareForwarder &) = delete;
  BareForwarder &operator=(const BareForwarder &) = delete;

private:
  ::xfb_fwd *skel_ = nullptr;
  std::optional<XdpLink> link_;
};

struct DirectOptions {
  std::uint32_t in_ifindex = 0, out_ifindex = 0;
  Mac out_src_mac{}, out_dst_mac{}; // egress MAC and the next hop's
  xdpflow::IpAddr src, dst;         // flow 0, as the generator sends it
  std::uint32_t flows = 1;
  std::optional<xdpflow::IpAddr> snat; // masquerade to this address
};

class DirectXdpflow {
public:
  explicit DirectXdpflow(const DirectOptions &options);
  ~DirectXdpflow();
  DirectXdpflow(const DirectXdpflow &) = delete;
  DirectXdpflow &operator=(const DirectXdpflow &) = delete;
  double fill_seconds() const { return fill_seconds_; }
  // The fast path's global counters, summed over all CPUs.
  xf_counters counters() const;

private:
  void fill(const DirectOptions &options);
  std::unique_ptr<xdpflow::FastPath> fast_path_;
  std::vector<XdpLink> links_;
  double fill_seconds_ = 0;
};

} // namespace xfbench
