// read_tc_facts and TcChangeWatch (kernel/tc_facts.h) against real qdiscs and
// filters set up with tc, as a user shapes a WAN: htb on the egress, and an
// ingress u32 filter redirecting to an ifb.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <net/if.h>
#include <poll.h>
#include <string>

#include "common/root.h"
#include "kernel/tc_facts.h"
#include "test_netns.h"

namespace xdpflow::testing {
namespace {

void run(const std::string &command) {
  ASSERT_EQ(std::system((command + " >/dev/null").c_str()), 0) << command;
}

bool has(const std::vector<std::string> &v, const char *kind) {
  return std::find(v.begin(), v.end(), kind) != v.end();
}

class TcFactsTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    devices_ = &enter_private_netns();
    std::system("tc qdisc del dev xfdp-wan root 2>/dev/null; tc qdisc del dev xfdp-wan ingress "
                "2>/dev/null; tc qdisc del dev xfdp-wan clsact 2>/dev/null; ip link del xfdp-ifb "
                "2>/dev/null");
  }
  const TestDevices *devices_ = nullptr;
};

TEST_F(TcFactsTest, DefaultVethHasOnlyNoqueueAndNoIfb) {
  TcFacts f = read_tc_facts(devices_->wan);
  EXPECT_TRUE(has(f.egress_qdiscs, "noqueue")) << "veth's default root qdisc";
  EXPECT_EQ(shaping_qdisc(f, {}), "");
  EXPECT_EQ(f.ingress_ifb, "");
}

TEST_F(TcFactsTest, SeesHtbOnEgressAndTheIfbOfAnIngressRedirect) {
  run("tc qdisc add dev xfdp-wan root handle 1: htb default 10");
  run("tc class add dev xfdp-wan parent 1: classid 1:10 htb rate 50mbit");
  run("ip link add xfdp-ifb type ifb");
  run("ip link set xfdp-ifb up");
  run("tc qdisc add dev xfdp-wan handle ffff: ingress");
  run("tc filter add dev xfdp-wan parent ffff: protocol all u32 match u32 0 0 action mirred egress "
      "redirect dev xfdp-ifb");
  TcFacts f = read_tc_facts(devices_->wan);
  EXPECT_EQ(shaping_qdisc(f, {}), "htb");
  EXPECT_EQ(f.ingress_ifb, "xfdp-ifb");
  // The other end is untouched.
  TcFacts lan = read_tc_facts(devices_->lan);
  EXPECT_EQ(shaping_qdisc(lan, {}), "");
  EXPECT_EQ(lan.ingress_ifb, "");

  // Removing both is seen as well.
  run("tc qdisc del dev xfdp-wan root");
  run("tc qdisc del dev xfdp-wan ingress");
  f = read_tc_facts(devices_->wan);
  EXPECT_EQ(shaping_qdisc(f, {}), "");
  EXPECT_EQ(f.ingress_ifb, "");
}

TEST_F(TcFactsTest, ClsactIngressRedirectToIfbIsSeenToo) {
  run("ip link add xfdp-ifb type ifb");
  run("tc qdisc add dev xfdp-wan clsact");
  run("tc filter add dev xfdp-wan ingress protocol all prio 3 u32 match u32 0 0 action mirred "
      "egress redirect dev xfdp-ifb");
  EXPECT_EQ(read_tc_facts(devices_->wan).ingress_ifb, "xfdp-ifb");
}

TEST_F(TcFactsTest, ChangeWatchWakesOnAQdiscChange) {
  TcChangeWatch watch;
  EXPECT_FALSE(watch.drain()) << "nothing changed yet";
  run("tc qdisc add dev xfdp-wan root tbf rate 10mbit burst 32kb latency 50ms");
  pollfd pfd{watch.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1) << "no RTNLGRP_TC message within 5 s";
  EXPECT_TRUE(watch.drain());
  EXPECT_FALSE(watch.drain());
}

} // namespace
} // namespace xdpflow::testing
