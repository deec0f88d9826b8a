// No torn entries: while one thread rewrites a live entry back and forth
// between two actions (each update of a preallocated hash map recycles the
// element the previous update freed, as the control plane's re-resolves
// do), another runs the program on that entry. Every frame the program
// emits must be exactly the old action's output or the new one's; a hit
// refused as torn_entry must leave the frame as it arrived.
#include <atomic>
#include <pthread.h>
#include <sched.h>
#include <thread>

#include "core/flow_key.h"
#include "per_hook_test.h"

namespace xdpflow::testing {
namespace {

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % static_cast<int>(std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

using TornEntryTest = PerHookTest;

TEST_P(TornEntryTest, EveryFrameIsTheOldActionsOrTheNewOnes) {
  // Two actions differing in every word: egress, MACs, NAT address and port.
  const FlowSpec a = masq4(kUdp, 53);
  const FlowSpec b = to_dmz(flow(Dev::kLan, kUdp, kClient4, 40000, kServer4, 53))
                         .snat(kDmzHost4, 1234)
                         .dnat(kGwWan4, 4321);
  const Bytes in = lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build();
  const Bytes out_a =
      wan_out().ipv4(kGwWan4, kServer4, {.ttl = 63}).udp(61000, 53).payload(22).build();
  const Bytes out_b =
      dmz_out().ipv4(kDmzHost4, kGwWan4, {.ttl = 63}).udp(1234, 4321).payload(22).build();
  const xf_flow_key key = make_flow_key(dev_->lan, a.encap, a.tuple);
  auto value = [&](const FlowSpec &f, std::uint32_t egress) {
    xf_flow_value v{};
    v.action = f.action;
    v.action.egress_ifindex = egress;
    return v;
  };
  const xf_flow_value va = value(a, dev_->wan), vb = value(b, dev_->dmz);
  put_flow(fp_->flow_maps(), key, va);
  fp_->publish_clock(monotonic_ns());

  std::atomic<bool> stop{false};
  std::atomic<long> updates{0};
  std::thread writer([&] {
    pin_to_cpu(1);
    for (long i = 0; !stop.load(std::memory_order_relaxed); i++) {
      if (fp_->flow_maps().update(key, i % 2 ? vb : va, BPF_EXIST) == 0)
        updates.fetch_add(1, std::memory_order_relaxed);
    }
  });
  pin_to_cpu(0);
  int as_a = 0, as_b = 0, torn = 0;
  const std::uint32_t redirect = redirect_verdict();
  for (int i = 0; i < 20000 && !::testing::Test::HasFailure(); i++) {
    if (i % 1000 == 0)
      fp_->publish_clock(monotonic_ns()); // TC refuses a clock older than 2 s
    XdpRun run = this->run(in, dev_->lan);
    if (run.verdict == redirect && run.out == out_a)
      as_a++;
    else if (run.verdict == redirect && run.out == out_b)
      as_b++;
    else if (run.verdict != redirect && run.out == in)
      torn++;
    else
      ADD_FAILURE() << "run " << i << ": verdict " << run.verdict
                    << ", a frame that is neither action's:\n"
                    << hex_dump(run.out);
  }
  stop = true;
  writer.join();
  const xf_counters c = read_counters(fp_->counters_fd(), GetParam());
  EXPECT_EQ(static_cast<std::uint64_t>(torn), c.slow[XF_SLOW_TORN])
      << "every refusal must be a torn read, counted as one";
  EXPECT_GT(updates.load(), 1000) << "the entry must really change under the reader";
  EXPECT_GT(as_a, 0);
  EXPECT_GT(as_b, 0);
  std::printf("%s: %d frames as action A, %d as B, %d refused as torn, %ld updates\n",
              tc() ? "tc" : "xdp", as_a, as_b, torn, updates.load());
}

INSTANTIATE_TEST_SUITE_P(Hooks, TornEntryTest, ::testing::Values(XF_HOOK_XDP, XF_HOOK_TC),
                         hook_param_name);

} // namespace
} // namespace xdpflow::testing
