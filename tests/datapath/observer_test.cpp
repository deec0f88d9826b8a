// The egress observer's tc programs through BPF_PROG_TEST_RUN (root): which
// frames it reports, and what it reads from them. This kernel has no 802.1Q
// or PPP devices, so tagged and PPPoE frames are only ever seen here, built
// byte by byte by the packet builder (not by the code under test).
#include <bpf/bpf.h>
#include <cstring>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <vector>

#include "common/root.h"
#include "kernel/egress_observer.h"
#include "packet_builder.h"
#include "test_netns.h"

namespace xdpflow::testing {
namespace {

const Mac kRouterMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const Mac kNextHop = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const Mac kOtherHop = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};

FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                std::uint8_t proto = IPPROTO_UDP) {
  return FlowTuple{*IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, proto};
}

class ObserverTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    devices = &enter_private_netns();
    observer.emplace();
  }

  // Runs the program on frame as if it were on the wan device; returns its
  // verdict (the observer never decides anything).
  int run(int prog_fd, const Bytes &frame) {
    Bytes in = frame;
    __sk_buff ctx{};
    ctx.ifindex = devices->wan;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_size_in = (__u32)in.size(),
                .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
    if (bpf_prog_test_run_opts(prog_fd, &opts))
      ADD_FAILURE() << "BPF_PROG_TEST_RUN: " << std::strerror(errno);
    return static_cast<int>(opts.retval);
  }
  int run_egress(const Bytes &frame) { return run(observer->egress_prog_fd(), frame); }

  std::vector<xf_obs_event> events() {
    std::vector<xf_obs_event> out;
    observer->consume([&](const xf_obs_event &e) { out.push_back(e); });
    return out;
  }

  const TestDevices *devices = nullptr;
  std::optional<EgressObserver> observer;
};

const FlowTuple kUdp = tuple("198.19.0.1", 40000, "198.19.1.2", 53);

TEST_F(ObserverTest, UnwatchedTupleIsNotReported) {
  int verdict = run_egress(Packet()
                               .eth(kNextHop, kRouterMac)
                               .ipv4("198.19.0.1", "198.19.1.2")
                               .udp(40000, 53)
                               .payload(20)
                               .build());
  EXPECT_EQ(verdict, TC_ACT_UNSPEC); // tcx: the next program runs
  EXPECT_TRUE(events().empty());
}

TEST_F(ObserverTest, PlainFrameOnceThenOnlyChanges) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  Ipv4Opts tos;
  tos.tos = 0xb8; // DSCP EF
  Bytes f = Packet()
                .eth(kNextHop, kRouterMac)
                .ipv4("198.19.0.1", "198.19.1.2", tos)
                .udp(40000, 53)
                .payload(20)
                .build();
  EXPECT_EQ(run_egress(f), TC_ACT_UNSPEC);
  EXPECT_EQ(run_egress(f), TC_ACT_UNSPEC);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u) << "a repeated identical frame is not news";
  EXPECT_EQ(tuple_of(ev[0].key), kUdp);
  EXPECT_EQ(ev[0].key.point, XF_OBS_EGRESS);
  EXPECT_EQ(ev[0].obs.ifindex, devices->wan);
  EXPECT_EQ(0, std::memcmp(ev[0].obs.dst_mac, kNextHop.data(), 6));
  EXPECT_EQ(0, std::memcmp(ev[0].obs.src_mac, kRouterMac.data(), 6));
  EXPECT_EQ(ev[0].obs.encap.vlan_count, 0);
  EXPECT_EQ(ev[0].obs.encap.flags, 0);
  EXPECT_EQ(ev[0].obs.tos, 0xb8);
  EXPECT_TRUE(ev[0].obs.flags & XF_OBS_SEEN);

  // The kernel now sends to another next hop (a neighbour's MAC changed).
  run_egress(Packet()
                 .eth(kOtherHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2", tos)
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(0, std::memcmp(ev[0].obs.dst_mac, kOtherHop.data(), 6));
}

TEST_F(ObserverTest, OtherPointOrTupleIsNotReported) {
  observer->watch(make_obs_key(kUdp, XF_OBS_INGRESS));
  observer->watch(make_obs_key(tuple("198.19.0.1", 40001, "198.19.1.2", 53), XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  EXPECT_TRUE(events().empty());
  run(observer->ingress_prog_fd(), Packet()
                                       .eth(kNextHop, kRouterMac)
                                       .ipv4("198.19.0.1", "198.19.1.2")
                                       .udp(40000, 53)
                                       .payload(20)
                                       .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].key.point, XF_OBS_INGRESS);
}

TEST_F(ObserverTest, SingleTag) {
  auto t = tuple("198.19.0.1", 40000, "198.19.1.2", 443, IPPROTO_TCP);
  observer->watch(make_obs_key(t, XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .vlan(35, kTpid8021Q, 5)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .tcp(40000, 443)
                 .payload(10)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].obs.encap.vlan_count, 1);
  EXPECT_EQ(ev[0].obs.encap.vlan_id[0], 35) << "the priority bits are not part of the VID";
  EXPECT_EQ(ev[0].obs.encap.flags, 0);
  EXPECT_FALSE(ev[0].obs.flags & XF_OBS_VLAN_META);
}

TEST_F(ObserverTest, QinQWithOuter8021ad) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .vlan(100, kTpid8021AD)
                 .vlan(7)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].obs.encap.vlan_count, 2);
  EXPECT_EQ(ev[0].obs.encap.vlan_id[0], 100);
  EXPECT_EQ(ev[0].obs.encap.vlan_id[1], 7);
  EXPECT_EQ(ev[0].obs.encap.flags, XF_ENCAP_OUTER_8021AD);
  EXPECT_FALSE(ev[0].obs.flags & XF_OBS_UNPARSED);
}

TEST_F(ObserverTest, ThreeTagsAreFlaggedUnreproducible) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .vlan(1)
                 .vlan(2)
                 .vlan(3)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].obs.flags & XF_OBS_UNPARSED);
}

TEST_F(ObserverTest, PppoeSession) {
  auto t = tuple("2001:2::1", 40000, "2001:2:0:1::2", 443, IPPROTO_TCP);
  observer->watch(make_obs_key(t, XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .pppoe(0x1234)
                 .ipv6("2001:2::1", "2001:2:0:1::2")
                 .tcp(40000, 443)
                 .payload(10)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(tuple_of(ev[0].key), t);
  EXPECT_EQ(ev[0].obs.encap.flags, XF_ENCAP_PPPOE);
  EXPECT_EQ(ev[0].obs.encap.pppoe_sid, 0x1234);
  EXPECT_EQ(ev[0].obs.encap.vlan_count, 0);
}

TEST_F(ObserverTest, TaggedPppoe) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .vlan(7)
                 .pppoe(9)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].obs.encap.vlan_count, 1);
  EXPECT_EQ(ev[0].obs.encap.vlan_id[0], 7);
  EXPECT_EQ(ev[0].obs.encap.flags, XF_ENCAP_PPPOE);
  EXPECT_EQ(ev[0].obs.encap.pppoe_sid, 9);
}

TEST_F(ObserverTest, Ipv4OptionsFlagged) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  Ipv4Opts o;
  o.options = {1, 1, 1, 0}; // NOP NOP NOP EOL
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2", o)
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].obs.flags & XF_OBS_IP_OPTIONS);
  EXPECT_EQ(tuple_of(ev[0].key), kUdp) << "ports read after the options";
}

TEST_F(ObserverTest, MalformedFramesAreIgnored) {
  observer->watch(make_obs_key(kUdp, XF_OBS_EGRESS));
  Bytes full = Packet()
                   .eth(kNextHop, kRouterMac)
                   .vlan(7)
                   .ipv4("198.19.0.1", "198.19.1.2")
                   .udp(40000, 53)
                   .payload(20)
                   .build();
  // Cut inside the tag, inside the IP header and inside the ports.
  for (std::size_t len : {16u, 30u, 39u}) {
    Bytes cut(full.begin(), full.begin() + len);
    EXPECT_EQ(run_egress(cut), TC_ACT_UNSPEC) << len;
  }
  Ipv4Opts frag;
  frag.frag = 0x2000; // more fragments: no ports to read
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2", frag)
                 .udp(40000, 53)
                 .payload(20)
                 .build());
  EXPECT_TRUE(events().empty());
}

} // namespace
} // namespace xdpflow::testing

namespace xdpflow::testing {
namespace {

TEST_F(ObserverTest, HandshakeIsReportedUnasked) {
  TcpOpts syn;
  syn.flags = kSyn;
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .tcp(40000, 443, syn)
                 .build());
  TcpOpts synack;
  synack.flags = kSyn | kAck;
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.1.2", "198.19.0.1")
                 .tcp(443, 40000, synack)
                 .build());
  run_egress(Packet()
                 .eth(kNextHop, kRouterMac)
                 .ipv4("198.19.0.1", "198.19.1.2")
                 .tcp(40000, 443)
                 .payload(10)
                 .build()); // plain ACK: not reported
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, XF_OBS_EV_SYN);
  EXPECT_EQ(tuple_of(ev[0].key), tuple("198.19.0.1", 40000, "198.19.1.2", 443, IPPROTO_TCP));
  EXPECT_EQ(ev[1].kind, XF_OBS_EV_SYN);
  EXPECT_EQ(ev[1].key.sport, htons(443));
}

} // namespace
} // namespace xdpflow::testing
