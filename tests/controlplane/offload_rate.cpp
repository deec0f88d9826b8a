// Measures the control plane's offload rate (conntrack entries -> flow-table
// entries per second) and event -> map latency, against real conntrack in the
// current network namespace. Run through offload_rate.sh, which builds the
// namespace (two veth pairs, permanent neighbours) and runs this inside it.
//
//   xdpflow_offload_rate [--flows N] [--samples K] [--json]
//
// Rate: N masqueraded TCP/UDP entries are created over ctnetlink as fast as
// the kernel takes them; the clock runs from the first request until the
// control plane reports all N offloaded (xf_status.flows_offloaded).
// Latency: K single entries, one at a time: from just before the create
// request until the original-direction key is in the BPF map.
#include <algorithm>
#include <atomic>
#include <bpf/bpf.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <net/if.h>
#include <string>
#include <sys/prctl.h>
#include <thread>
#include <vector>

#include "controlplane/ct_inject.h"
#include "kernel/bpf_flow_table.h"
#include "kernel/control_plane.h"
#include "kernel/fast_path.h"

using namespace xdpflow;
using Clock = std::chrono::steady_clock;

namespace {

xf_status read_status(const FastPath &fp) {
  xf_status s{};
  __u32 key = 0;
  bpf_map_lookup_elem(fp.status_fd(), &key, &s);
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

} // namespace

int main(int argc, char **argv) {
  std::uint32_t flows = 100000, samples = 1000;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--flows" && i + 1 < argc)
      flows = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (a == "--samples" && i + 1 < argc)
      samples = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (a == "--json")
      json = true;
    else {
      std::fprintf(stderr, "usage: %s [--flows N] [--samples K] [--json]\n", argv[0]);
      return 2;
    }
  }
  try {
    std::uint32_t lan = if_nametoindex("lan0"), wan = if_nametoindex("wan0");
    if (!lan || !wan)
      throw RuntimeError("needs lan0 and wan0 in this namespace: run offload_rate.sh");
    auto client = *IpAddr::parse("198.18.0.2"), server = *IpAddr::parse("198.19.0.2"),
         wan_addr = *IpAddr::parse("198.19.0.1");

    FastPath fp(FastPathOptions{std::max<std::uint32_t>(flows + samples + 1024, 4096)});
    fp.add_egress(lan);
    fp.add_egress(wan);
    BpfFlowTable table(fp.flow_maps());
    ControlPlaneConfig config;
    config.interfaces = {{lan, "lan0", true}, {wan, "wan0", true}};
    ControlPlane cp(config, fp);
    std::atomic<bool> stop{false}, synced{false};
    std::string error;
    std::thread runner([&] {
      try {
        cp.run(stop, [&] { synced = true; });
      } catch (const std::exception &e) {
        error = e.what();
        synced = true;
      }
    });
    while (!synced)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!error.empty())
      throw RuntimeError(error);

    testing::CtInjector inject;
    // Rate: a burst of `flows` entries, half TCP, half UDP.
    auto t0 = Clock::now();
    for (std::uint32_t i = 0; i < flows; i++)
      inject.create(
          testing::synthetic_flow(client, server, wan_addr, i, i % 2 ? IPPROTO_UDP : IPPROTO_TCP));
    std::size_t refused = inject.flush();
    auto t_injected = Clock::now();
    std::uint64_t target = flows - refused;
    while (read_status(fp).flows_offloaded < target && error.empty() &&
           Clock::now() - t0 < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    auto t_done = Clock::now();
    auto st = read_status(fp);
    double inject_s = std::chrono::duration<double>(t_injected - t0).count();
    double total_s = std::chrono::duration<double>(t_done - t0).count();

    // Latency: one entry at a time. Timer slack down to 1 ns so the 10 us
    // polling sleep does not add the default 50 us slack to every sample.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    std::vector<double> lat_us;
    for (std::uint32_t k = 0; k < samples; k++) {
      auto f = testing::synthetic_flow(client, server, wan_addr, flows + k, IPPROTO_TCP);
      auto key = make_flow_key(lan, xf_encap{}, f.orig);
      auto s0 = Clock::now();
      inject.create(f);
      inject.flush();
      // Poll without hogging a CPU the control plane needs (2 cores, shared).
      while (!table.lookup(key) && Clock::now() - s0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::microseconds(10));
      lat_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s0).count());
    }
    stop = true;
    runner.join();
    if (!error.empty())
      throw RuntimeError(error);

    double rate = total_s > 0 ? static_cast<double>(st.flows_offloaded) / total_s : 0;
    if (json) {
      std::printf("{\"flows\":%u,\"refused_by_conntrack\":%zu,\"offloaded\":%llu,"
                  "\"inject_seconds\":%.4f,\"seconds\":%.4f,\"connections_per_second\":%.0f,"
                  "\"map_entries_per_second\":%.0f,\"resyncs\":%llu,\"overruns\":%llu,"
                  "\"latency_samples\":%u,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,"
                  "\"p99\":%.1f,\"max\":%.1f}}\n",
                  flows, refused, (unsigned long long)st.flows_offloaded, inject_s, total_s, rate,
                  2 * rate, (unsigned long long)st.resyncs, (unsigned long long)st.events_lost,
                  samples, percentile(lat_us, 50), percentile(lat_us, 90), percentile(lat_us, 99),
                  percentile(lat_us, 100));
    } else {
      std::printf("offload rate: %llu of %u connections (%llu map entries) in %.3f s "
                  "(conntrack took the requests in %.3f s): %.0f connections/s, %.0f map "
                  "entries/s; overruns %llu, resyncs %llu\n",
                  (unsigned long long)st.flows_offloaded, flows,
                  2 * (unsigned long long)st.flows_offloaded, total_s, inject_s, rate, 2 * rate,
                  (unsigned long long)st.events_lost, (unsigned long long)st.resyncs);
      std::printf("event -> map latency over %u single entries: p50 %.1f us, p90 %.1f us, "
                  "p99 %.1f us, max %.1f us\n",
                  samples, percentile(lat_us, 50), percentile(lat_us, 90), percentile(lat_us, 99),
                  percentile(lat_us, 100));
    }
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xdpflow_offload_rate: %s\n", e.what());
    return 1;
  }
}
