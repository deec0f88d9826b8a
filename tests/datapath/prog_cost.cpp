// xdpflow_prog_cost: the XDP program's cost per packet, measured with
// BPF_PROG_TEST_RUN against a program that only returns XDP_PASS, all in the
// same run (root; a private network namespace, nothing outside it touched).
//
//   sudo build/tests/datapath/xdpflow_prog_cost [packets [cpu]]
//
// Three cases on a 64-byte UDP/IPv4 frame: a hit (SNAT of address and port,
// TTL, checksums, MACs, redirect), a miss (XDP_PASS, no_flow), and the
// XDP_PASS-only program. Times are the kernel's own (test.duration: mean ns
// of one run inside the repeat loop, without the syscall).
//
// A hit rewrites the buffer, so a plain repeat loop would hit once and then
// see another frame. Two entries therefore map the frame to its rewritten
// form and back (the same work each way: SNAT of address and port), and the
// frame starts with TTL 255, which leaves 253 hits before TTL 1: every call
// runs repeat=250 on a fresh copy, and every run is a hit (checked with the
// counters). The miss and the pass-only program are measured the same way,
// and also with one call of repeat=N.
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
Bytes udp_frame(std::uint16_t sport, std::uint8_t ttl) {
  return Packet()
      .eth(kLanMac, kClientMac)
      .ipv4("198.18.0.2", "198.19.0.2", {.ttl = ttl})
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

constexpr std::uint32_t kRepeat = 250; // hits a frame with TTL 255 can take

// Mean kernel-measured ns of one run over `calls` calls of repeat=kRepeat,
// every verdict checked.
double batched_ns(int prog_fd, const Bytes &frame, std::uint32_t ifindex, std::uint32_t calls,
                  std::uint32_t want_verdict) {
  double total = 0;
  for (std::uint32_t i = 0; i < calls; i++) {
    XdpRun r = xdp_test_run(prog_fd, frame, ifindex, kRepeat);
    if (r.verdict != want_verdict)
      throw RuntimeError("unexpected verdict " + std::to_string(r.verdict));
    total += r.duration_ns;
  }
  return total / calls;
}

double repeated_ns(int prog_fd, const Bytes &frame, std::uint32_t ifindex, std::uint32_t repeat,
                   std::uint32_t want_verdict) {
  XdpRun r = xdp_test_run(prog_fd, frame, ifindex, repeat);
  if (r.verdict != want_verdict)
    throw RuntimeError("unexpected verdict " + std::to_string(r.verdict));
  return r.duration_ns;
}

xf_flow_value snat_to(std::uint32_t egress, const char *addr, std::uint16_t port) {
  xf_flow_value v{};
  v.action.egress_ifindex = egress;
  v.action.mtu = 1500;
  v.action.nat = XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT;
  IpAddr::parse(addr)->to_words(v.action.new_src);
  v.action.new_sport = htons(port);
  std::copy(kWanMac.begin(), kWanMac.end(), v.action.src_mac);
  std::copy(kUpstreamMac.begin(), kUpstreamMac.end(), v.action.dst_mac);
  return v;
}

int run(std::uint32_t packets, int cpu) {
  // One CPU, so that per-CPU state and caches stay put.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0)
    throw SysError(errno, "pinning to CPU " + std::to_string(cpu));

  const TestDevices &dev = enter_private_netns();
  FastPath fp(FastPathOptions{.max_flows = 1024});
  PassOnly pass;
  fp.add_egress(dev.wan);

  // The masquerade entry and the one that maps its output back.
  auto server = *IpAddr::parse("198.19.0.2");
  FlowTuple orig{*IpAddr::parse("198.18.0.2"), server, 40000, 53, IPPROTO_UDP};
  FlowTuple nated{*IpAddr::parse("198.19.0.1"), server, 61000, 53, IPPROTO_UDP};
  put_flow(fp.flow_maps(), make_flow_key(dev.lan, xf_encap{}, orig),
           snat_to(dev.wan, "198.19.0.1", 61000));
  put_flow(fp.flow_maps(), make_flow_key(dev.lan, xf_encap{}, nated),
           snat_to(dev.wan, "198.18.0.2", 40000));

  const Bytes hit = udp_frame(40000, 255), miss = udp_frame(40001, 255);
  const std::uint32_t rounds = 10, calls = packets / kRepeat / rounds;
  if (calls == 0)
    throw UsageError("packets must be at least " + std::to_string(kRepeat * rounds));
  double hit_ns = 0, miss_ns = 0, pass_ns = 0;
  // Interleaved rounds, so that drift (other load, frequency) hits all three.
  for (std::uint32_t r = 0; r < rounds; r++) {
    hit_ns += batched_ns(fp.prog_fd(), hit, dev.lan, calls, XDP_REDIRECT) / rounds;
    miss_ns += batched_ns(fp.prog_fd(), miss, dev.lan, calls, XDP_PASS) / rounds;
    pass_ns += batched_ns(pass.fd(), hit, dev.lan, calls, XDP_PASS) / rounds;
  }
  const std::uint64_t measured = std::uint64_t{kRepeat} * calls * rounds;
  xf_counters c = read_counters(fp.counters_fd());
  double miss_rep = repeated_ns(fp.prog_fd(), miss, dev.lan, packets, XDP_PASS);
  double pass_rep = repeated_ns(pass.fd(), hit, dev.lan, packets, XDP_PASS);

  std::printf("xdpflow_prog_cost: 64-byte UDP/IPv4 frame, BPF_PROG_TEST_RUN, kernel-measured "
              "ns per packet, pinned to CPU %d\n",
              cpu);
  std::printf("%-36s %24s %20s\n", "", "repeat=250 x calls", "repeat=N, 1 call");
  std::printf("%-36s %24.1f %20s\n", "xdpflow hit (SNAT + redirect)", hit_ns, "n/a (TTL)");
  std::printf("%-36s %24.1f %20.1f\n", "xdpflow miss (XDP_PASS, no_flow)", miss_ns, miss_rep);
  std::printf("%-36s %24.1f %20.1f\n", "XDP_PASS-only program", pass_ns, pass_rep);
  std::printf("%llu packets per case in the first column, N = %u in the second.\n",
              static_cast<unsigned long long>(measured), packets);
  std::printf("Over the XDP_PASS-only program: hit %+.1f ns, miss %+.1f ns; hit/miss %.2f.\n",
              hit_ns - pass_ns, miss_ns - pass_ns, hit_ns / miss_ns);
  std::printf("Counters after the first column: fast %llu (want %llu), no_flow %llu, ttl %llu.\n",
              static_cast<unsigned long long>(c.fast_packets),
              static_cast<unsigned long long>(measured),
              static_cast<unsigned long long>(c.slow[XF_SLOW_NO_FLOW]),
              static_cast<unsigned long long>(c.slow[XF_SLOW_TTL]));
  return c.fast_packets == measured && c.slow[XF_SLOW_NO_FLOW] == measured ? 0 : 1;
}

} // namespace
} // namespace xdpflow::testing

int main(int argc, char **argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "xdpflow_prog_cost: needs root (BPF, a private network namespace)\n");
    return 77;
  }
  std::uint32_t packets =
      argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1000000;
  int cpu = argc > 2 ? std::atoi(argv[2]) : 0;
  try {
    return xdpflow::testing::run(packets, cpu);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xdpflow_prog_cost: %s\n", e.what());
    return 1;
  }
}
