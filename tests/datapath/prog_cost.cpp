// xdpflow_prog_cost: the XDP program's cost per packet, measured with
// BPF_PROG_TEST_RUN against a program that only returns XDP_PASS, all in the
// same run (root; a private network namespace, nothing outside it touched).
//
//   sudo build/tests/datapath/xdpflow_prog_cost [calls]
//
// Three frames, 64-byte UDP/IPv4: a hit (masquerade SNAT, redirect), a miss
// (XDP_PASS, no_flow) and the same frame through the XDP_PASS-only program.
// Two ways of measuring, both with the kernel's own timer (test.duration):
//  - repeat=N in one call: the program runs N times on the same buffer. Fine
//    for the miss and the pass-only program, which leave the frame as it is,
//    but not for a hit: the first run rewrites the frame (NAT, TTL), so the
//    following runs see another frame and miss.
//  - N calls with repeat=1: the kernel copies the original frame in every
//    time, so every call is a real hit; each duration includes the timer's
//    own overhead, the same for all three, so compare, never read alone.
#include <cstdio>
#include <cstdlib>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "core/flow_key.h"
#include "kernel/fast_path.h"
#include "packet_builder.h"
#include "test_netns.h"
#include "xdp_runner.h"
#include "xf_pass_only.skel.h"

namespace xdpflow::testing {
namespace {

const Mac kLanMac{0x02, 0, 0, 0, 0x01, 0x01}, kClientMac{0x02, 0, 0, 0, 0x01, 0x02},
    kWanMac{0x02, 0, 0, 0, 0x02, 0x01}, kUpstreamMac{0x02, 0, 0, 0, 0x02, 0x02};

// 14 + 20 + 8 + 22 = 64 bytes.
Bytes udp_frame(std::uint16_t sport) {
  return Packet()
      .eth(kLanMac, kClientMac)
      .ipv4("198.18.0.2", "198.19.0.2")
      .udp(sport, 53)
      .payload(22)
      .build();
}

struct PassOnly {
  xf_pass_only *skel = xf_pass_only__open_and_load();
  PassOnly() {
    if (!skel)
      throw SysError(errno, "loading the XDP_PASS-only program");
  }
  ~PassOnly() { xf_pass_only__destroy(skel); }
  int fd() const { return bpf_program__fd(skel->progs.xf_pass_only); }
};

// Mean kernel-measured ns of one run over `calls` calls with repeat=1;
// checks every verdict.
double per_call_ns(int prog_fd, const Bytes &frame, std::uint32_t ifindex, std::uint32_t calls,
                   std::uint32_t want_verdict) {
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < calls; i++) {
    XdpRun r = xdp_test_run(prog_fd, frame, ifindex, 1);
    if (r.verdict != want_verdict)
      throw RuntimeError("unexpected verdict " + std::to_string(r.verdict));
    total += r.duration_ns;
  }
  return static_cast<double>(total) / calls;
}

double repeated_ns(int prog_fd, const Bytes &frame, std::uint32_t ifindex, std::uint32_t repeat,
                   std::uint32_t want_verdict) {
  XdpRun r = xdp_test_run(prog_fd, frame, ifindex, repeat);
  if (r.verdict != want_verdict)
    throw RuntimeError("unexpected verdict " + std::to_string(r.verdict));
  return r.duration_ns;
}

int run(std::uint32_t calls) {
  // One CPU, so that per-CPU state and caches stay put.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(0, &cpus);
  sched_setaffinity(0, sizeof(cpus), &cpus);

  const TestDevices &dev = enter_private_netns();
  FastPath fp(FastPathOptions{.max_flows = 1024});
  PassOnly pass;
  fp.add_egress(dev.wan);

  FlowTuple t{*IpAddr::parse("198.18.0.2"), *IpAddr::parse("198.19.0.2"), 40000, 53, IPPROTO_UDP};
  xf_flow_value v{};
  v.action.egress_ifindex = dev.wan;
  v.action.mtu = 1500;
  v.action.nat = XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT;
  IpAddr::parse("198.19.0.1")->to_words(v.action.new_src);
  v.action.new_sport = htons(61000);
  std::copy(kWanMac.begin(), kWanMac.end(), v.action.src_mac);
  std::copy(kUpstreamMac.begin(), kUpstreamMac.end(), v.action.dst_mac);
  put_flow(fp.flows_fd(), make_flow_key(dev.lan, xf_encap{}, t), v);

  const Bytes hit = udp_frame(40000), miss = udp_frame(40001);
  const std::uint32_t rounds = 10, per_round = calls / rounds;
  double hit_ns = 0, miss_ns = 0, pass_ns = 0;
  // Interleaved rounds, so that drift (other load, frequency) hits all three.
  for (std::uint32_t r = 0; r < rounds; r++) {
    hit_ns += per_call_ns(fp.prog_fd(), hit, dev.lan, per_round, XDP_REDIRECT) / rounds;
    miss_ns += per_call_ns(fp.prog_fd(), miss, dev.lan, per_round, XDP_PASS) / rounds;
    pass_ns += per_call_ns(pass.fd(), hit, dev.lan, per_round, XDP_PASS) / rounds;
  }
  double miss_rep = repeated_ns(fp.prog_fd(), miss, dev.lan, calls, XDP_PASS);
  double pass_rep = repeated_ns(pass.fd(), hit, dev.lan, calls, XDP_PASS);

  xf_counters c = read_counters(fp.counters_fd());
  std::printf("xdpflow_prog_cost: 64-byte UDP/IPv4 frames, BPF_PROG_TEST_RUN, kernel-measured "
              "ns per run, CPU 0\n");
  std::printf("%-38s %22s %18s\n", "", "repeat=1, N calls", "repeat=N, 1 call");
  std::printf("%-38s %22.1f %18s\n", "xdpflow hit (SNAT + redirect)", hit_ns, "n/a (*)");
  std::printf("%-38s %22.1f %18.1f\n", "xdpflow miss (XDP_PASS, no_flow)", miss_ns, miss_rep);
  std::printf("%-38s %22.1f %18.1f\n", "XDP_PASS-only program", pass_ns, pass_rep);
  std::printf("N = %u. Cost over the XDP_PASS-only program: hit %+.1f ns, miss %+.1f ns "
              "(repeat=1 column); miss %+.1f ns (repeat=N column).\n",
              calls, hit_ns - pass_ns, miss_ns - pass_ns, miss_rep - pass_rep);
  std::printf("(*) a hit rewrites the buffer, so repeated runs on it would measure misses.\n");
  std::printf("Counters: rx %llu, fast %llu, no_flow %llu (expected fast = N).\n",
              static_cast<unsigned long long>(c.rx_packets),
              static_cast<unsigned long long>(c.fast_packets),
              static_cast<unsigned long long>(c.slow[XF_SLOW_NO_FLOW]));
  return c.fast_packets == calls ? 0 : 1;
}

} // namespace
} // namespace xdpflow::testing

int main(int argc, char **argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "xdpflow_prog_cost: needs root (BPF, a private network namespace)\n");
    return 77;
  }
  std::uint32_t calls =
      argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1000000;
  if (calls < 10) {
    std::fprintf(stderr, "usage: xdpflow_prog_cost [calls >= 10]\n");
    return 2;
  }
  try {
    return xdpflow::testing::run(calls);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xdpflow_prog_cost: %s\n", e.what());
    return 1;
  }
}
