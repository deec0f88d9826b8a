// The fixture table through both real programs (XDP and tc): verifier, maps
// and BPF_PROG_TEST_RUN, in a private network namespace with real veths.
// Every fixture runs through each hook it applies to, checking the verdict,
// the whole output frame, the hook's counters (the other hook's must not
// move) and the flow entries.
#include <bpf/bpf.h>
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

Mac mac_of(Dev dev) {
  switch (dev) {
  case Dev::kLan:
    return kGwLanMac;
  case Dev::kWan:
    return kGwWanMac;
  case Dev::kDmz:
    return kGwDmzMac;
  case Dev::kSpare:
    break;
  }
  return Mac{0x02, 0, 0, 0, 0x04, 0x01};
}

xf_flow_value value_of(const TestDevices &d, const FlowSpec &f) {
  xf_flow_value v{};
  v.action = f.action;
  v.flags = f.flags;
  v.action.egress_ifindex = ifindex(d, f.egress);
  v.ct_id = 7; // any owner: the program must leave it alone
  return v;
}

// A fixture as one hook must see it: the TC hook's own refusals replace
// what the XDP hook does.
struct HookedFixture {
  std::uint32_t hook = XF_HOOK_XDP;
  Fixture f;
};

void PrintTo(const HookedFixture &h, std::ostream *os) {
  *os << (h.hook == XF_HOOK_TC ? "tc " : "xdp ");
  PrintTo(h.f, os);
}

Fixture as_seen_by_tc(Fixture f) {
  if (f.tc_slow_reason >= 0) {
    f.verdict = XDP_PASS;
    f.out = f.in;
    f.slow_reason = f.tc_slow_reason;
    f.hit_flow = -1;
    f.redirect_error = f.tc_slow_reason == XF_SLOW_NO_EGRESS;
  }
  return f;
}

std::vector<HookedFixture> hooked_fixtures() {
  std::vector<HookedFixture> out;
  for (const Fixture &f : all_fixtures()) {
    if (f.hooks != Hooks::kTcOnly)
      out.push_back({XF_HOOK_XDP, f});
    if (f.hooks != Hooks::kXdpOnly)
      out.push_back({XF_HOOK_TC, as_seen_by_tc(f)});
  }
  return out;
}

constexpr std::uint32_t kTcActOk = 0, kTcActRedirect = 7;

// What a fixture must do to the hook's counters.
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
class DatapathTest : public ::testing::TestWithParam<HookedFixture> {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    devices_ = &enter_private_netns();
    fast_path_ = std::make_unique<FastPath>(FastPathOptions{.max_flows = 1024});
  }

  // The flows, the redirect targets, and the ingress interface's own MAC
  // (registered even when it is not a redirect target, as in the fixtures
  // without a devmap).
  void install(const Fixture &f) {
    for (const FlowSpec &spec : f.flows)
      put_flow(fast_path_->flow_maps(), key_of(*devices_, spec), value_of(*devices_, spec));
    for (Dev dev : f.devmap)
      fast_path_->add_interface(ifindex(*devices_, dev), mac_of(dev));
    std::uint32_t in = ifindex(*devices_, f.ingress), slot = in % XF_IFACE_SLOTS;
    xf_iface entry{};
    entry.ifindex = in;
    const Mac mac = mac_of(f.ingress);
    std::copy(mac.begin(), mac.end(), entry.mac);
    ASSERT_EQ(0, bpf_map_update_elem(fast_path_->interfaces_fd(), &slot, &entry, BPF_ANY));
  }

  const TestDevices *devices_ = nullptr;
  std::unique_ptr<FastPath> fast_path_;
};

TEST_P(DatapathTest, Fixture) {
  const std::uint32_t hook = GetParam().hook;
  const Fixture &f = GetParam().f;
  const bool tc = hook == XF_HOOK_TC;
  ASSERT_TRUE(f.verdict == XDP_PASS || f.verdict == XDP_REDIRECT) << "fixtures never drop";
  install(f);
  const xf_counters before = read_counters(fast_path_->counters_fd(), hook);
  const xf_counters other_before = read_counters(fast_path_->counters_fd(), !hook);
  // What the control plane would publish: hits are stamped with it.
  const std::uint64_t clock = monotonic_ns() - (f.stale_clock ? 3000000000ull : 0);
  fast_path_->publish_clock(clock);

  const std::uint32_t in = ifindex(*devices_, f.ingress);
  XdpRun run = tc                 ? tc_test_run(fast_path_->tc_prog_fd(), f.in, in)
               : f.short_headroom ? xdp_test_run_short_headroom(fast_path_->prog_fd(), f.in, in)
                                  : xdp_test_run(fast_path_->prog_fd(), f.in, in);

  if (tc) {
    EXPECT_TRUE(run.verdict == kTcActOk || run.verdict == kTcActRedirect)
        << "the tc hook returns TC_ACT_OK or TC_ACT_REDIRECT only, got " << run.verdict;
    EXPECT_EQ(f.verdict == XDP_REDIRECT ? kTcActRedirect : kTcActOk, run.verdict);
  } else {
    EXPECT_NE(run.verdict, XDP_DROP) << "the fast path must never drop traffic";
    EXPECT_NE(run.verdict, XDP_ABORTED) << "the fast path must never abort";
    EXPECT_EQ(f.verdict, run.verdict);
  }
  EXPECT_EQ(f.out, run.out) << "expected:\n"
                            << hex_dump(f.out) << "\ngot:\n"
                            << hex_dump(run.out) << "\ninput:\n"
                            << hex_dump(f.in);
  expect_counters_eq(expected_delta(f),
                     minus(read_counters(fast_path_->counters_fd(), hook), before));
  {
    SCOPED_TRACE("the other hook's counters");
    expect_counters_eq(xf_counters{},
                       minus(read_counters(fast_path_->counters_fd(), !hook), other_before));
  }

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

std::string fixture_name(const ::testing::TestParamInfo<HookedFixture> &info) {
  return (info.param.hook == XF_HOOK_TC ? "tc_" : "xdp_") + info.param.f.name;
}

INSTANTIATE_TEST_SUITE_P(Table, DatapathTest, ::testing::ValuesIn(hooked_fixtures()), fixture_name);

} // namespace
} // namespace xdpflow::testing
