// NeighbourMirror: which neighbour and FDB messages invalidate offloads.
#include <gtest/gtest.h>
#include <linux/neighbour.h>

#include "core/neighbour_mirror.h"

namespace xdpflow {
namespace {

const Mac kA = {2, 0, 0, 0, 0, 0xa};
const Mac kB = {2, 0, 0, 0, 0, 0xb};

NeighbourEvent ip(std::uint16_t state, std::optional<Mac> mac, bool deleted = false) {
  NeighbourEvent e;
  e.ifindex = 3;
  e.dst = *IpAddr::parse("198.19.0.254");
  e.state = state;
  e.mac = mac;
  e.deleted = deleted;
  return e;
}

NeighbourEvent fdb(std::uint32_t port, const Mac &mac, bool deleted = false) {
  NeighbourEvent e;
  e.bridge = true;
  e.master = 10;
  e.ifindex = port;
  e.mac = mac;
  e.deleted = deleted;
  return e;
}

TEST(NeighbourMirror, StateChurnIsNotAChange) {
  NeighbourMirror m;
  EXPECT_FALSE(m.apply(ip(NUD_REACHABLE, kA)));
  EXPECT_FALSE(m.apply(ip(NUD_STALE, kA)));
  EXPECT_FALSE(m.apply(ip(NUD_DELAY, kA)));
  EXPECT_FALSE(m.apply(ip(NUD_REACHABLE, kA)));
}

TEST(NeighbourMirror, NewMacFailureAndDeletionAre) {
  NeighbourMirror m;
  m.apply(ip(NUD_REACHABLE, kA));
  EXPECT_EQ(m.apply(ip(NUD_REACHABLE, kB)), XF_INVAL_NEIGH);
  EXPECT_EQ(m.apply(ip(NUD_FAILED, std::nullopt)), XF_INVAL_NEIGH);
  EXPECT_FALSE(m.apply(ip(NUD_FAILED, std::nullopt))) << "already gone";
  m.apply(ip(NUD_REACHABLE, kA));
  EXPECT_EQ(m.apply(ip(0, kA, true)), XF_INVAL_NEIGH);
}

TEST(NeighbourMirror, StationMovingPortsIsAnFdbChange) {
  NeighbourMirror m;
  EXPECT_FALSE(m.apply(fdb(4, kA))) << "learning";
  EXPECT_FALSE(m.apply(fdb(4, kA))) << "refresh";
  EXPECT_EQ(m.apply(fdb(5, kA)), XF_INVAL_FDB);
  EXPECT_EQ(m.apply(fdb(5, kA, true)), XF_INVAL_FDB);
}

TEST(NeighbourMirror, StaleNeighboursOfOffloadedMacs) {
  NeighbourMirror m;
  m.apply(ip(NUD_STALE, kA));
  auto other = ip(NUD_STALE, kB);
  other.dst = *IpAddr::parse("198.19.0.253");
  m.apply(other);
  auto stale = m.stale_using({kA});
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].second, *IpAddr::parse("198.19.0.254"));
  m.apply(ip(NUD_REACHABLE, kA));
  EXPECT_TRUE(m.stale_using({kA}).empty());
}

} // namespace
} // namespace xdpflow
