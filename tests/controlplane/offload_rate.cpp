// Measures the control plane's offload rate (conntrack entries -> flow-table
// entries per second) and event -> map latency, against real conntrack in the
// current network namespace. Run through offload_rate.sh, which builds the
// namespace (two veth pairs whose peers stay in it, permanent neighbours, a
// masquerading ruleset) and runs this inside it.
//
//   xdpflow_offload_rate --lan-peer IF --wan-peer IF --client-mac MAC
//                        --server-mac MAC [--flows N] [--samples K] [--json]
//
// A connection is offloaded once the egress observer has seen the kernel
// forward its packets (docs/architecture.md); an injected conntrack entry
// carries none, so every figure includes the observation step: the
// connections' packets (ct_traffic.h) enter the gateway from the peers of
// lan0 (original direction, from the client's MAC) and wan0 (reply, from
// the server's), and the kernel forwards and NATs them by the injected
// entries.
// Rate: N masqueraded TCP/UDP entries are created over ctnetlink as fast as
// the kernel takes them; then every connection not offloaded yet sends one
// packet per direction every 100 ms. The clock runs from the first create
// request until the control plane reports all N offloaded
// (xf_status.flows_offloaded).
// Latency: K single entries, one at a time: from just before the create
// request until the original-direction key is in the BPF map, the
// connection sending one packet per direction every 200 us meanwhile (the
// first ones may pass before the control plane watches the connection).
// XF_RATE_DEBUG=1: a line per round on stderr (waiting, offloaded).
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
#include "controlplane/ct_traffic.h"
#include "controlplane/netns_util.h"
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

testing::MacAddr mac_arg(const std::string &text) {
  auto m = testing::parse_mac(text);
  if (!m)
    throw RuntimeError("not a MAC address: " + text);
  return *m;
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
  bool json = false, bad = false;
  std::string lan_peer, wan_peer, client_mac_text, server_mac_text;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--flows" && i + 1 < argc)
      flows = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (a == "--samples" && i + 1 < argc)
      samples = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (a == "--lan-peer" && i + 1 < argc)
      lan_peer = argv[++i];
    else if (a == "--wan-peer" && i + 1 < argc)
      wan_peer = argv[++i];
    else if (a == "--client-mac" && i + 1 < argc)
      client_mac_text = argv[++i];
    else if (a == "--server-mac" && i + 1 < argc)
      server_mac_text = argv[++i];
    else if (a == "--json")
      json = true;
    else
      bad = true;
  }
  if (bad || lan_peer.empty() || wan_peer.empty() || client_mac_text.empty() ||
      server_mac_text.empty()) {
    std::fprintf(stderr,
                 "usage: %s --lan-peer IF --wan-peer IF --client-mac MAC --server-mac MAC "
                 "[--flows N] [--samples K] [--json] (run through offload_rate.sh)\n",
                 argv[0]);
    return 2;
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
    testing::ConnectionTraffic traffic({std::make_unique<testing::FrameSender>(lan_peer),
                                        mac_arg(client_mac_text), testing::mac_of("lan0")},
                                       {std::make_unique<testing::FrameSender>(wan_peer),
                                        mac_arg(server_mac_text), testing::mac_of("wan0")});
    auto offloaded = [&](const testing::InjectedFlow &f) {
      return table.lookup(make_flow_key(lan, xf_encap{}, f.orig)).has_value();
    };
    // Rate: a burst of `flows` entries, half TCP, half UDP.
    auto t0 = Clock::now();
    std::vector<testing::InjectedFlow> waiting;
    waiting.reserve(flows);
    for (std::uint32_t i = 0; i < flows; i++) {
      waiting.push_back(
          testing::synthetic_flow(client, server, wan_addr, i, i % 2 ? IPPROTO_UDP : IPPROTO_TCP));
      inject.create(waiting.back());
    }
    std::size_t refused = inject.flush();
    auto t_injected = Clock::now();
    std::uint64_t target = flows - refused;
    std::uint32_t rounds = 0;
    constexpr auto round_interval = std::chrono::milliseconds(100);
    while (read_status(fp).flows_offloaded < target && error.empty() &&
           Clock::now() - t0 < std::chrono::seconds(120)) {
      // Every connection not offloaded yet sends, then waits for its next
      // round (the status is checked meanwhile).
      auto round_start = Clock::now();
      std::vector<testing::InjectedFlow> still;
      for (const auto &f : waiting)
        if (!offloaded(f)) {
          traffic.send(f);
          still.push_back(f);
        }
      traffic.flush();
      waiting.swap(still);
      rounds++;
      if (std::getenv("XF_RATE_DEBUG"))
        std::fprintf(stderr, "round %u at %.3f s: %zu waiting, %llu offloaded\n", rounds,
                     std::chrono::duration<double>(Clock::now() - t0).count(), waiting.size(),
                     (unsigned long long)read_status(fp).flows_offloaded);
      while (read_status(fp).flows_offloaded < target && error.empty() &&
             Clock::now() - round_start < round_interval)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    auto t_done = Clock::now();
    std::uint64_t rate_frames = traffic.sent();
    auto st = read_status(fp);
    double inject_s = std::chrono::duration<double>(t_injected - t0).count();
    double total_s = std::chrono::duration<double>(t_done - t0).count();

    // Latency: one entry at a time. Timer slack down to 1 ns so the 10 us
    // polling sleep does not add the default 50 us slack to every sample.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    std::vector<double> lat_us;
    std::uint64_t latency_frames_before = traffic.sent();
    for (std::uint32_t k = 0; k < samples; k++) {
      auto f = testing::synthetic_flow(client, server, wan_addr, flows + k, IPPROTO_TCP);
      auto s0 = Clock::now();
      inject.create(f);
      inject.flush();
      // The connection sends every 200 us until offloaded; polled without
      // hogging a CPU the control plane needs (2 cores, shared).
      auto last_send = s0 - std::chrono::seconds(1);
      while (!offloaded(f) && Clock::now() - s0 < std::chrono::seconds(10)) {
        if (Clock::now() - last_send >= std::chrono::microseconds(200)) {
          last_send = Clock::now();
          traffic.send(f);
          traffic.flush();
        }
        std::this_thread::sleep_for(std::chrono::microseconds(10));
      }
      lat_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s0).count());
    }
    double pairs_per_sample =
        samples ? static_cast<double>(traffic.sent() - latency_frames_before) / 2 / samples : 0;
    stop = true;
    runner.join();
    if (!error.empty())
      throw RuntimeError(error);

    double rate = total_s > 0 ? static_cast<double>(st.flows_offloaded) / total_s : 0;
    if (json) {
      std::printf("{\"flows\":%u,\"refused_by_conntrack\":%zu,\"offloaded\":%llu,"
                  "\"inject_seconds\":%.4f,\"seconds\":%.4f,\"connections_per_second\":%.0f,"
                  "\"map_entries_per_second\":%.0f,\"resyncs\":%llu,\"overruns\":%llu,"
                  "\"send_rounds\":%u,\"frames_sent\":%llu,"
                  "\"latency_samples\":%u,\"latency_pairs_per_sample\":%.2f,"
                  "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}}\n",
                  flows, refused, (unsigned long long)st.flows_offloaded, inject_s, total_s, rate,
                  2 * rate, (unsigned long long)st.resyncs, (unsigned long long)st.events_lost,
                  rounds, (unsigned long long)rate_frames, samples, pairs_per_sample,
                  percentile(lat_us, 50), percentile(lat_us, 90), percentile(lat_us, 99),
                  percentile(lat_us, 100));
    } else {
      std::printf("offload rate: %llu of %u connections (%llu map entries) in %.3f s "
                  "(conntrack took the requests in %.3f s; %u rounds of packets, %llu frames): "
                  "%.0f connections/s, %.0f map entries/s; overruns %llu, resyncs %llu\n",
                  (unsigned long long)st.flows_offloaded, flows,
                  2 * (unsigned long long)st.flows_offloaded, total_s, inject_s, rounds,
                  (unsigned long long)rate_frames, rate, 2 * rate,
                  (unsigned long long)st.events_lost, (unsigned long long)st.resyncs);
      std::printf("create -> packets -> map latency over %u single entries (%.2f packet pairs "
                  "each): p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
                  samples, pairs_per_sample, percentile(lat_us, 50), percentile(lat_us, 90),
                  percentile(lat_us, 99), percentile(lat_us, 100));
    }
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xdpflow_offload_rate: %s\n", e.what());
    return 1;
  }
}
