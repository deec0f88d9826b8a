// IngressCandidates: the interface/encapsulation pairs original-direction
// entries arrive with, most often found first.
#include <gtest/gtest.h>

#include "core/ingress_candidates.h"

namespace xdpflow {
namespace {

xf_encap vlan(std::uint16_t vid) {
  xf_encap e{};
  e.vlan_id[0] = vid;
  e.vlan_count = 1;
  return e;
}

TEST(IngressCandidates, LearnsEachPairOnce) {
  IngressCandidates c;
  c.learn(2, xf_encap{});
  c.learn(3, vlan(10));
  c.learn(2, xf_encap{});
  c.learn(3, vlan(10));
  c.learn(3, vlan(20)); // another VLAN on the same interface is another pair
  ASSERT_EQ(c.pairs().size(), 3u);
  EXPECT_EQ(c.pairs()[0].ifindex, 2u);
  EXPECT_EQ(c.pairs()[1].encap.vlan_id[0], 10);
  EXPECT_EQ(c.pairs()[2].encap.vlan_id[0], 20);
}

TEST(IngressCandidates, PairsFoundMoveForward) {
  IngressCandidates c;
  c.learn(2, xf_encap{});
  c.learn(3, xf_encap{});
  c.learn(4, xf_encap{});
  c.found_at(2);
  EXPECT_EQ(c.pairs()[1].ifindex, 4u);
  c.found_at(1);
  EXPECT_EQ(c.pairs()[0].ifindex, 4u);
  c.found_at(0); // already first
  c.found_at(7); // beyond the list: nothing
  EXPECT_EQ(c.pairs()[0].ifindex, 4u);
  EXPECT_EQ(c.pairs()[1].ifindex, 2u);
  EXPECT_EQ(c.pairs()[2].ifindex, 3u);
}

TEST(IngressCandidates, BoundedTheLastGivesWay) {
  IngressCandidates c;
  for (std::uint16_t vid = 1; vid <= IngressCandidates::max_pairs + 5; vid++)
    c.learn(2, vlan(vid));
  ASSERT_EQ(c.pairs().size(), IngressCandidates::max_pairs);
  EXPECT_EQ(c.pairs().front().encap.vlan_id[0], 1);
  EXPECT_EQ(c.pairs().back().encap.vlan_id[0], IngressCandidates::max_pairs + 5);
  c.clear();
  EXPECT_TRUE(c.pairs().empty());
}

} // namespace
} // namespace xdpflow
