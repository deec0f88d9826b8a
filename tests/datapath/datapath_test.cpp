// The fixture table through the real XDP program: verifier, maps and
// BPF_PROG_TEST_RUN, in a private network namespace with real veths.
#include <cstring>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <memory>

#include "common/root.h"
#include "core/flow_key.h"
#include "fixtures.h"
#include "kernel/fast_path.h"
#include "test_netns.h"
#include "xdp_runner.h"

namespace xdpflow::testing {
namespace {

std::uint32_t ifindex(const TestDevices &d, Dev dev) {
  switch (dev) {
  case Dev::kLan:
    return d.lan;
  case Dev::kWan:
    return d.wan;
  case Dev::kDmz:
    return d.dmz;
  case Dev::kSpare:
    return d.spare;
  }
  return 0;
}

xf_flow_key key_of(const TestDevices &d, const FlowSpec &f) {
  return make_flow_key(ifindex(d, f.ingress), f.encap, f.tuple);
}

xf_flow_value value_of(const TestDevices &d, const FlowSpec &f) {
  xf_flow_value v{};
  v.action = f.action;
  v.action.egress_ifindex = ifindex(d, f.egress);
  v.ct_id = 7; // any owner: the program must leave it alone
  return v;
}

// What a fixture must do to the global counters.
xf_counters expected_delta(const Fixture &f) {
  xf_counters c{};
  c.rx_packets = 1;
  if (f.verdict == XDP_REDIRECT) {
    c.fast_packets = 1;
    c.fast_bytes = f.in.size();
  } else {
    c.slow[f.slow_reason] = 1;
  }
  c.redirect_errors = f.redirect_error ? 1 : 0;
  return c;
}

xf_counters minus(const xf_counters &a, const xf_counters &b) {
  xf_counters d{};
  d.rx_packets = a.rx_packets - b.rx_packets;
  d.fast_packets = a.fast_packets - b.fast_packets;
  d.fast_bytes = a.fast_bytes - b.fast_bytes;
  d.redirect_errors = a.redirect_errors - b.redirect_errors;
  for (int r = 0; r < XF_SLOW_MAX; r++)
    d.slow[r] = a.slow[r] - b.slow[r];
  return d;
}

void expect_counters_eq(const xf_counters &want, const xf_counters &got) {
  EXPECT_EQ(want.rx_packets, got.rx_packets) << "rx_packets";
  EXPECT_EQ(want.fast_packets, got.fast_packets) << "fast_packets";
  EXPECT_EQ(want.fast_bytes, got.fast_bytes) << "fast_bytes";
  EXPECT_EQ(want.redirect_errors, got.redirect_errors) << "redirect_errors";
  for (int r = 0; r < XF_SLOW_MAX; r++)
    EXPECT_EQ(want.slow[r], got.slow[r]) << "slow[" << r << "]";
}

// A freshly loaded fast path per test: no state leaks between fixtures.
class DatapathTest : public ::testing::TestWithParam<Fixture> {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    devices_ = &enter_private_netns();
    fast_path_ = std::make_unique<FastPath>(FastPathOptions{.max_flows = 1024});
  }

  void install(const Fixture &f) {
    for (const FlowSpec &spec : f.flows)
      put_flow(fast_path_->flow_maps(), key_of(*devices_, spec), value_of(*devices_, spec));
    for (Dev dev : f.devmap)
      fast_path_->add_egress(ifindex(*devices_, dev));
  }

  const TestDevices *devices_ = nullptr;
  std::unique_ptr<FastPath> fast_path_;
};

TEST_P(DatapathTest, Fixture) {
  const Fixture &f = GetParam();
  ASSERT_TRUE(f.verdict == XDP_PASS || f.verdict == XDP_REDIRECT) << "fixtures never drop";
  install(f);
  const xf_counters before = read_counters(fast_path_->counters_fd());
  // What the control plane would publish: hits are stamped with it.
  const std::uint64_t clock = monotonic_ns();
  fast_path_->publish_clock(clock);

  XdpRun run = xdp_test_run(fast_path_->prog_fd(), f.in, ifindex(*devices_, f.ingress));

  EXPECT_NE(run.verdict, XDP_DROP) << "the fast path must never drop traffic";
  EXPECT_NE(run.verdict, XDP_ABORTED) << "the fast path must never abort";
  EXPECT_EQ(f.verdict, run.verdict);
  EXPECT_EQ(f.out, run.out) << "expected:\n"
                            << hex_dump(f.out) << "\ngot:\n"
                            << hex_dump(run.out) << "\ninput:\n"
                            << hex_dump(f.in);
  expect_counters_eq(expected_delta(f), minus(read_counters(fast_path_->counters_fd()), before));

  for (std::size_t i = 0; i < f.flows.size(); i++) {
    SCOPED_TRACE("flow entry " + std::to_string(i) + ": " + to_string(f.flows[i].tuple));
    auto value = get_flow(fast_path_->flow_maps(), key_of(*devices_, f.flows[i]));
    ASSERT_TRUE(value.has_value()) << "the program must not delete entries";
    const xf_flow_value installed = value_of(*devices_, f.flows[i]);
    EXPECT_EQ(0, std::memcmp(&installed.action, &value->action, sizeof(value->action)))
        << "the program must not change the action";
    EXPECT_EQ(installed.ct_id, value->ct_id) << "the program must not change the owner";
    if (static_cast<int>(i) == f.hit_flow) {
      EXPECT_EQ(1u, value->packets);
      EXPECT_EQ(f.in.size(), value->bytes);
      EXPECT_EQ(clock, value->last_seen_ns) << "stamped with the published clock";
    } else {
      EXPECT_EQ(0u, value->packets);
      EXPECT_EQ(0u, value->bytes);
      EXPECT_EQ(0u, value->last_seen_ns);
    }
  }
}

std::string fixture_name(const ::testing::TestParamInfo<Fixture> &info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Table, DatapathTest, ::testing::ValuesIn(all_fixtures()), fixture_name);

} // namespace
} // namespace xdpflow::testing
