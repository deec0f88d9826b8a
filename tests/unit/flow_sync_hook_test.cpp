// FlowSync and the direction policy (core/hook_choice.h): the flags of each
// direction's entry follow what the policy says, and a changed answer
// rewrites exactly the entries that differ (keeping their counters) when
// the control plane re-resolves after a tc change.
#include <map>
#include <utility>

#include "unit/flow_sync_fixture.h"

namespace xdpflow::flow_sync_test {
namespace {

// Answers per (ingress, egress); XDP where nothing was said.
class FakePolicy : public DirectionPolicy {
public:
  DirectionDecision decide(std::uint32_t in, std::uint32_t out) override {
    auto it = answers.find({in, out});
    return it == answers.end() ? DirectionDecision{DirectionHook::Xdp, ""} : it->second;
  }
  std::map<std::pair<std::uint32_t, std::uint32_t>, DirectionDecision> answers;
};

class FlowSyncHookTest : public FlowSyncTest {
protected:
  FlowSyncHookTest() { sync().set_direction_policy(&policy); }
  FakePolicy policy;
};

TEST_F(FlowSyncHookTest, NoPolicyWritesNoFlags) {
  FlowSync plain(config, table, eg, ct);
  EXPECT_EQ(plain.handle(CtMsg::flow(snat_orig, snat_reply).event(), SEC), SyncOutcome::Offloaded);
  EXPECT_EQ(entry(LAN, snat_orig).flags, 0u);
  EXPECT_EQ(entry(WAN, snat_reply).flags, 0u);
}

TEST_F(FlowSyncHookTest, ShapedEgressDirectionIsTcOnlyTheOtherNot) {
  policy.answers[{LAN, WAN}] = {DirectionHook::TcOnly, "wan egress shaped"};
  EXPECT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  EXPECT_EQ(entry(LAN, snat_orig).flags, XF_FLOW_TC_ONLY); // upload: leaves through WAN
  EXPECT_EQ(entry(WAN, snat_reply).flags, 0u);             // download: XDP
}

TEST_F(FlowSyncHookTest, KernelAndTcDirectionsAreNeverForwardedByXdp) {
  policy.answers[{WAN, LAN}] = {DirectionHook::Kernel, "ingress to ifb"};
  policy.answers[{LAN, WAN}] = {DirectionHook::Tc, ""};
  EXPECT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  EXPECT_EQ(entry(LAN, snat_orig).flags, XF_FLOW_TC_ONLY);
  EXPECT_EQ(entry(WAN, snat_reply).flags, XF_FLOW_TC_ONLY);
}

TEST_F(FlowSyncHookTest, ReresolveRewritesOnlyTheChangedDirectionKeepingCounters) {
  policy.answers[{LAN, WAN}] = {DirectionHook::TcOnly, "shaped"};
  handle(CtMsg::flow(snat_orig, snat_reply));
  auto &orig = table.entries.at(key_of(LAN, snat_orig));
  orig.packets = 42;
  auto before = table.entries;
  // Nothing changed: the walk leaves every entry as it was.
  sync().reresolve_all(2 * SEC);
  ASSERT_EQ(table.entries.size(), before.size());
  for (const auto &[k, v] : before)
    EXPECT_EQ(std::memcmp(&table.entries.at(k), &v, sizeof(v)), 0);

  policy.answers.clear(); // the qdisc was removed
  sync().reresolve_all(3 * SEC);
  EXPECT_EQ(entry(LAN, snat_orig).flags, 0u);
  EXPECT_EQ(entry(LAN, snat_orig).packets, 42u) << "counters kept across the rewrite";
  EXPECT_EQ(entry(WAN, snat_reply).flags, 0u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_EQ(table.entries.size(), 2u);
}

} // namespace
} // namespace xdpflow::flow_sync_test
