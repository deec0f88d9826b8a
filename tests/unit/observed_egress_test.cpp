// ObservedEgress: egress decided by what the observer saw the kernel send.
#include <cstdint>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <set>

#include "core/observed_egress.h"

namespace xdpflow {
namespace {

struct FakeWatcher : ObservationWatcher {
  std::set<std::vector<std::uint8_t>> keys;
  std::size_t capacity = 1000; // the BPF map's max_entries
  std::size_t refused = 0;
  static std::vector<std::uint8_t> bytes(const xf_obs_key &k) {
    auto *p = reinterpret_cast<const std::uint8_t *>(&k);
    return {p, p + sizeof k};
  }
  bool watch(const xf_obs_key &k) override {
    if (!keys.count(bytes(k)) && keys.size() >= capacity) {
      refused++;
      return false;
    }
    keys.insert(bytes(k));
    return true;
  }
  void unwatch(const xf_obs_key &k) override { keys.erase(bytes(k)); }
  bool watching(const FlowTuple &t, xf_obs_point p) const {
    return keys.count(bytes(make_obs_key(t, p))) > 0;
  }
};

FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport) {
  return FlowTuple{*IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, IPPROTO_TCP};
}

// A masqueraded connection: the client's original tuple arrives on the LAN,
// leaves NATed on the WAN.
const FlowTuple kArriving = tuple("198.18.0.2", 40000, "198.19.1.2", 443);
const FlowTuple kOutgoing = tuple("198.19.0.1", 61000, "198.19.1.2", 443);

xf_obs_event event(const FlowTuple &t, xf_obs_point point, std::uint32_t ifindex,
                   std::uint8_t tos = 0) {
  xf_obs_event e{};
  e.key = make_obs_key(t, point);
  e.obs.ifindex = ifindex;
  for (int i = 0; i < 6; i++) {
    e.obs.src_mac[i] = static_cast<std::uint8_t>(0x10 + i);
    e.obs.dst_mac[i] = static_cast<std::uint8_t>(0x20 + i);
  }
  e.obs.tos = tos;
  e.obs.flags = XF_OBS_SEEN;
  return e;
}

class ObservedEgressTest : public ::testing::Test {
protected:
  FakeWatcher watcher;
  std::set<std::uint32_t> attached{2, 3};
  ObservedEgress eg{watcher, [this](std::uint32_t i) { return attached.count(i) > 0; },
                    [](std::uint32_t i, const IpAddr &) -> std::optional<std::uint32_t> {
                      if (i == 3)
                        return 1400;
                      return std::nullopt;
                    }};
};

TEST_F(ObservedEgressTest, WaitsUntilObservedAndWatchesBothPoints) {
  EXPECT_FALSE(eg.resolve_direction(kArriving, kOutgoing));
  EXPECT_EQ(eg.judge(kArriving, kOutgoing).reason, XF_WAIT_NOT_OBSERVED);
  EXPECT_TRUE(watcher.watching(kOutgoing, XF_OBS_EGRESS));
  EXPECT_TRUE(watcher.watching(kArriving, XF_OBS_INGRESS));
  EXPECT_EQ(eg.watched(), 2u);
}

TEST_F(ObservedEgressTest, EgressIsWhatTheKernelSent) {
  eg.resolve_direction(kArriving, kOutgoing);
  EXPECT_TRUE(eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3)));
  auto e = eg.resolve_direction(kArriving, kOutgoing);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ifindex, 3u);
  EXPECT_EQ(e->src_mac[0], 0x10);
  EXPECT_EQ(e->dst_mac[5], 0x25);
  EXPECT_EQ(e->mtu, 1400);
  EXPECT_FALSE(eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3))) << "the same again is no news";
}

TEST_F(ObservedEgressTest, PppoeMtuLeavesRoomForItsHeader) {
  eg.resolve_direction(kArriving, kOutgoing);
  auto ev = event(kOutgoing, XF_OBS_EGRESS, 2);
  ev.obs.encap.flags = XF_ENCAP_PPPOE;
  ev.obs.encap.pppoe_sid = 5;
  eg.observe(ev);
  auto e = eg.resolve(kOutgoing);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mtu, 1492);
  EXPECT_EQ(e->encap.pppoe_sid, 5);
}

TEST_F(ObservedEgressTest, UnattachedEgressIsNamed) {
  eg.resolve_direction(kArriving, kOutgoing);
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 9));
  EXPECT_FALSE(eg.resolve_direction(kArriving, kOutgoing));
  auto v = eg.judge(kArriving, kOutgoing);
  EXPECT_EQ(v.reason, XF_WAIT_NOT_ATTACHED);
  EXPECT_EQ(v.detail, 9u);
}

TEST_F(ObservedEgressTest, DscpRewrittenByTheKernelIsNotReproducible) {
  eg.resolve_direction(kArriving, kOutgoing);
  eg.observe(event(kArriving, XF_OBS_INGRESS, 2, 0x00));
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3, 0xb8));
  auto v = eg.judge(kArriving, kOutgoing);
  EXPECT_EQ(v.reason, XF_WAIT_CANNOT_REPRODUCE);
  EXPECT_EQ(v.detail, XF_FIELD_TOS);
  EXPECT_FALSE(eg.resolve_direction(kArriving, kOutgoing));
}

TEST_F(ObservedEgressTest, CongestionMarkIsNotAPolicyChange) {
  eg.resolve_direction(kArriving, kOutgoing);
  eg.observe(event(kArriving, XF_OBS_INGRESS, 2, 0xb8 | 0x02)); // ECT(0)
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3, 0xb8 | 0x03));  // CE by a queue
  EXPECT_TRUE(eg.judge(kArriving, kOutgoing).ok());
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3, 0xb8 | 0x01)); // ECT(1): changed
  EXPECT_EQ(eg.judge(kArriving, kOutgoing).detail, XF_FIELD_TOS);
}

TEST_F(ObservedEgressTest, TooManyTagsOrOptionsNameTheField) {
  eg.resolve_direction(kArriving, kOutgoing);
  auto ev = event(kOutgoing, XF_OBS_EGRESS, 3);
  ev.obs.flags |= XF_OBS_UNPARSED;
  eg.observe(ev);
  EXPECT_EQ(eg.judge(kArriving, kOutgoing).detail, XF_FIELD_ENCAP);
  ev.obs.flags = XF_OBS_SEEN | XF_OBS_IP_OPTIONS;
  eg.observe(ev);
  EXPECT_EQ(eg.judge(kArriving, kOutgoing).detail, XF_FIELD_IP_OPTIONS);
}

TEST_F(ObservedEgressTest, ForgetAllUnwatchesAndReLearns) {
  eg.resolve_direction(kArriving, kOutgoing);
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3));
  eg.forget_all();
  EXPECT_TRUE(watcher.keys.empty());
  EXPECT_EQ(eg.records(), 0u);
  EXPECT_FALSE(eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3))) << "nobody asks about it";
  EXPECT_FALSE(eg.resolve(kOutgoing));
  EXPECT_TRUE(watcher.watching(kOutgoing, XF_OBS_EGRESS));
}

TEST_F(ObservedEgressTest, SweepKeepsWhatIsAskedOrInUse) {
  const FlowTuple gone_arr = tuple("198.18.0.3", 1, "198.19.1.2", 80);
  const FlowTuple gone_out = tuple("198.19.0.1", 2, "198.19.1.2", 80);
  eg.resolve_direction(kArriving, kOutgoing);
  eg.resolve_direction(gone_arr, gone_out);
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3));
  eg.sweep(); // both were asked: kept, still watched
  EXPECT_EQ(eg.records(), 4u);
  EXPECT_EQ(eg.watched(), 4u);
  // Offloaded: the table walk finds it in use; the other connection left.
  eg.mark_in_use(kArriving, kOutgoing);
  eg.sweep();
  EXPECT_EQ(eg.records(), 4u) << "unused once: kept (a walk may miss an entry)";
  EXPECT_EQ(eg.watched(), 2u) << "an offloaded direction is no longer watched";
  EXPECT_TRUE(watcher.watching(gone_out, XF_OBS_EGRESS));
  eg.mark_in_use(kArriving, kOutgoing);
  eg.sweep();
  EXPECT_EQ(eg.records(), 2u) << "unused twice: gone";
  EXPECT_TRUE(watcher.keys.empty());
  ASSERT_TRUE(eg.resolve(kOutgoing)) << "its observation stays while in use";
  eg.sweep(); // the egress record was asked (just above); the ingress one not
  eg.sweep();
  EXPECT_EQ(eg.records(), 1u) << "the ingress record, unused twice, is gone";
  eg.sweep();
  EXPECT_EQ(eg.records(), 0u);
}

} // namespace
} // namespace xdpflow

namespace xdpflow {
namespace {

TEST_F(ObservedEgressTest, HandshakeSeenBeforeAnyoneAskedIsUsed) {
  auto syn = event(kOutgoing, XF_OBS_EGRESS, 3);
  syn.kind = XF_OBS_EV_SYN;
  EXPECT_FALSE(eg.observe(syn)) << "nobody waits for it yet";
  auto watched_record = event(kOutgoing, XF_OBS_EGRESS, 2); // not a handshake: dropped
  EXPECT_FALSE(eg.observe(watched_record));
  auto e = eg.resolve_direction(kArriving, kOutgoing);
  ASSERT_TRUE(e) << "offloadable at once: the SYN showed where it goes";
  EXPECT_EQ(e->ifindex, 3u);
  EXPECT_TRUE(watcher.watching(kOutgoing, XF_OBS_EGRESS)) << "still watched for changes";
}

TEST_F(ObservedEgressTest, ExpectWatchesBothDirectionsAtBothPoints) {
  const FlowTuple reply = tuple("198.19.1.2", 443, "198.19.0.1", 61000);
  eg.expect(kArriving, reply);
  EXPECT_TRUE(watcher.watching(kOutgoing, XF_OBS_EGRESS));
  EXPECT_TRUE(watcher.watching(kArriving, XF_OBS_INGRESS));
  EXPECT_TRUE(watcher.watching(reversed(kArriving), XF_OBS_EGRESS));
  EXPECT_TRUE(watcher.watching(reply, XF_OBS_INGRESS));
}

// More connections waiting than the watch list holds (a burst, or a
// million connections found at start): those that did not fit are watched
// once a sweep has made room, and learned then.
TEST_F(ObservedEgressTest, FullWatchListIsRetriedAfterASweepMadeRoom) {
  watcher.capacity = 2; // one direction: its egress and ingress keys
  const FlowTuple late_arr = tuple("198.18.0.3", 1, "198.19.1.2", 80);
  const FlowTuple late_out = tuple("198.19.0.1", 2, "198.19.1.2", 80);
  eg.resolve_direction(kArriving, kOutgoing);
  EXPECT_FALSE(eg.resolve_direction(late_arr, late_out));
  EXPECT_FALSE(watcher.watching(late_out, XF_OBS_EGRESS));
  EXPECT_TRUE(eg.watch_list_full());
  std::size_t refused = watcher.refused;
  eg.resolve_direction(late_arr, late_out);
  EXPECT_EQ(watcher.refused, refused) << "no retry while nothing made room";
  // The first direction is offloaded: the sweep unwatches it.
  eg.observe(event(kOutgoing, XF_OBS_EGRESS, 3));
  eg.mark_in_use(kArriving, kOutgoing);
  eg.sweep();
  EXPECT_FALSE(eg.watch_list_full());
  EXPECT_FALSE(eg.resolve_direction(late_arr, late_out));
  EXPECT_TRUE(watcher.watching(late_out, XF_OBS_EGRESS)) << "watched once there is room";
  EXPECT_TRUE(eg.observe(event(late_out, XF_OBS_EGRESS, 3)));
  EXPECT_TRUE(eg.resolve_direction(late_arr, late_out));
}

} // namespace
} // namespace xdpflow
