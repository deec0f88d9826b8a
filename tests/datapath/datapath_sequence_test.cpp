// Beyond single fixtures: counters advancing over a sequence of packets, and
// the program's invariants on thousands of randomly damaged frames.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <memory>
#include <netinet/in.h>
#include <random>

#include "common/root.h"
#include "fixtures.h"
#include "kernel/fast_path.h"
#include "test_netns.h"
#include "xdp_runner.h"

namespace xdpflow::testing {
namespace {

class DatapathSequenceTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    dev_ = &enter_private_netns();
    fp_ = std::make_unique<FastPath>(FastPathOptions{.max_flows = 1024});
    fp_->add_egress(dev_->lan);
    fp_->add_egress(dev_->wan);
  }

  // LAN -> WAN masquerade and its reply, both installed.
  void install_connection() {
    FlowTuple orig{*IpAddr::parse(kClient4), *IpAddr::parse(kServer4), 40000, 53, IPPROTO_UDP};
    FlowTuple reply{*IpAddr::parse(kServer4), *IpAddr::parse(kGwWan4), 53, 61000, IPPROTO_UDP};
    orig_key_ = make_flow_key(dev_->lan, untagged(), orig);
    reply_key_ = make_flow_key(dev_->wan, untagged(), reply);
    xf_flow_value v{};
    v.action.egress_ifindex = dev_->wan;
    v.action.mtu = 1500;
    v.action.nat = XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT;
    IpAddr::parse(kGwWan4)->to_words(v.action.new_src);
    v.action.new_sport = htons(61000);
    put_flow(fp_->flow_maps(), orig_key_, v);
    v.action.egress_ifindex = dev_->lan;
    v.action.nat = XF_NAT_DST_ADDR | XF_NAT_DST_PORT;
    IpAddr::parse(kClient4)->to_words(v.action.new_dst);
    v.action.new_dport = htons(40000);
    put_flow(fp_->flow_maps(), reply_key_, v);
  }

  Bytes orig_frame(std::size_t payload) const {
    return Packet()
        .eth(kGwLanMac, kClientMac)
        .ipv4(kClient4, kServer4)
        .udp(40000, 53)
        .payload(payload)
        .build();
  }
  Bytes reply_frame(std::size_t payload) const {
    return Packet()
        .eth(kGwWanMac, kUpstreamMac)
        .ipv4(kServer4, kGwWan4)
        .udp(53, 61000)
        .payload(payload)
        .build();
  }

  const TestDevices *dev_ = nullptr;
  std::unique_ptr<FastPath> fp_;
  xf_flow_key orig_key_{}, reply_key_{};
};

// The maps as the kernel loaded them agree with the C++ view of flow.h.
TEST_F(DatapathSequenceTest, MapLayoutsMatchTheSharedStructs) {
  auto info_of = [](int fd) {
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    EXPECT_EQ(0, bpf_obj_get_info_by_fd(fd, &info, &len));
    return info;
  };
  bpf_map_info flows4 = info_of(fp_->flow_maps().v4);
  EXPECT_EQ(sizeof(xf_flow_key4), flows4.key_size);
  EXPECT_EQ(sizeof(xf_flow_value), flows4.value_size);
  EXPECT_EQ(2u * 1024u, flows4.max_entries) << "two entries per connection";
  bpf_map_info flows6 = info_of(fp_->flow_maps().v6);
  EXPECT_EQ(sizeof(xf_flow_key6), flows6.key_size);
  EXPECT_EQ(sizeof(xf_flow_value), flows6.value_size);
  EXPECT_EQ(2u * 1024u, flows6.max_entries) << "two entries per connection, per family";
  bpf_map_info counters = info_of(fp_->counters_fd());
  EXPECT_EQ(sizeof(xf_counters), counters.value_size);
  EXPECT_EQ(static_cast<std::uint32_t>(BPF_MAP_TYPE_PERCPU_ARRAY), counters.type);
  EXPECT_EQ(sizeof(xf_status), info_of(fp_->status_fd()).value_size);
  EXPECT_EQ(static_cast<std::uint32_t>(BPF_MAP_TYPE_DEVMAP_HASH), info_of(fp_->devmap_fd()).type);
}

TEST_F(DatapathSequenceTest, CountersAdvanceOverAConnection) {
  install_connection();
  std::uint64_t orig_bytes = 0, reply_bytes = 0, last_orig_seen = 0;
  for (std::size_t i = 0; i < 5; i++) {
    Bytes f = orig_frame(10 * i);
    const std::uint64_t clock = monotonic_ns();
    fp_->publish_clock(clock);
    ASSERT_EQ(XDP_REDIRECT, xdp_test_run(fp_->prog_fd(), f, dev_->lan).verdict);
    orig_bytes += f.size();
    std::uint64_t seen = get_flow(fp_->flow_maps(), orig_key_)->last_seen_ns;
    EXPECT_EQ(clock, seen) << "each hit stamped with the clock published before it";
    EXPECT_GE(seen, last_orig_seen) << "last_seen never goes back";
    last_orig_seen = seen;
  }
  for (std::size_t i = 0; i < 3; i++) {
    Bytes f = reply_frame(100 + i);
    ASSERT_EQ(XDP_REDIRECT, xdp_test_run(fp_->prog_fd(), f, dev_->wan).verdict);
    reply_bytes += f.size();
  }
  // Two misses (other port) and one TTL expiry on a hit.
  Bytes miss = Packet().eth(kGwLanMac, kClientMac).ipv4(kClient4, kServer4).udp(40001, 53).build();
  Bytes expiring = Packet()
                       .eth(kGwLanMac, kClientMac)
                       .ipv4(kClient4, kServer4, {.ttl = 1})
                       .udp(40000, 53)
                       .build();
  EXPECT_EQ(XDP_PASS, xdp_test_run(fp_->prog_fd(), miss, dev_->lan).verdict);
  EXPECT_EQ(XDP_PASS, xdp_test_run(fp_->prog_fd(), miss, dev_->lan).verdict);
  EXPECT_EQ(XDP_PASS, xdp_test_run(fp_->prog_fd(), expiring, dev_->lan).verdict);

  auto o = get_flow(fp_->flow_maps(), orig_key_);
  auto r = get_flow(fp_->flow_maps(), reply_key_);
  EXPECT_EQ(5u, o->packets);
  EXPECT_EQ(orig_bytes, o->bytes);
  EXPECT_EQ(3u, r->packets);
  EXPECT_EQ(reply_bytes, r->bytes);
  EXPECT_GT(r->last_seen_ns, 0u);

  xf_counters c = read_counters(fp_->counters_fd());
  EXPECT_EQ(11u, c.rx_packets);
  EXPECT_EQ(8u, c.fast_packets);
  EXPECT_EQ(orig_bytes + reply_bytes, c.fast_bytes);
  EXPECT_EQ(2u, c.slow[XF_SLOW_NO_FLOW]);
  EXPECT_EQ(1u, c.slow[XF_SLOW_TTL]);
  EXPECT_EQ(0u, c.redirect_errors);
}

// Random damage (bit flips, cuts, grown tails) to valid frames of every
// encapsulation: whatever happens, the program never drops or aborts, a
// refused frame reaches the kernel exactly as it came, and every frame is
// counted once, either fast or under one slow reason.
TEST_F(DatapathSequenceTest, DamagedFramesAreNeverDroppedNorPassedModified) {
  install_connection();
  const std::vector<Bytes> seeds = {
      orig_frame(22),
      reply_frame(5),
      Packet()
          .eth(kGwLanMac, kClientMac)
          .vlan(10)
          .ipv4(kClient4, kServer4)
          .tcp(40000, 53)
          .payload(9)
          .build(),
      Packet()
          .eth(kGwLanMac, kClientMac)
          .vlan(100, kTpid8021AD)
          .vlan(10)
          .pppoe(7)
          .ipv6(kClient6, kServer6)
          .udp(40000, 53)
          .build(),
      Packet()
          .eth(kGwLanMac, kClientMac)
          .pppoe(7)
          .ipv4(kClient4, kServer4)
          .udp(40000, 53)
          .payload(3)
          .build(),
  };
  std::mt19937 rng(20261127);
  const int runs = 3000;
  int redirected = 0;
  for (int i = 0; i < runs; i++) {
    Bytes f = seeds[rng() % seeds.size()];
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; k++)
      f[rng() % std::min<std::size_t>(f.size(), 60)] ^=
          static_cast<std::uint8_t>(1u << (rng() % 8));
    if (rng() % 4 == 0)
      f.resize(14 + rng() % (f.size() - 13));
    else if (rng() % 8 == 0)
      f.resize(f.size() + rng() % 32, 0);
    std::uint32_t ingress = rng() % 2 ? dev_->lan : dev_->wan;
    XdpRun run = xdp_test_run(fp_->prog_fd(), f, ingress);
    ASSERT_TRUE(run.verdict == XDP_PASS || run.verdict == XDP_REDIRECT)
        << "verdict " << run.verdict << " for\n"
        << hex_dump(f);
    if (run.verdict == XDP_PASS)
      ASSERT_EQ(f, run.out) << "a refused frame must reach the kernel untouched";
    else
      redirected++;
  }
  xf_counters c = read_counters(fp_->counters_fd());
  std::uint64_t slow = 0;
  for (std::uint64_t s : c.slow)
    slow += s;
  EXPECT_EQ(static_cast<std::uint64_t>(runs), c.rx_packets);
  EXPECT_EQ(c.rx_packets, c.fast_packets + slow);
  EXPECT_EQ(static_cast<std::uint64_t>(redirected), c.fast_packets);
  EXPECT_EQ(0u, c.redirect_errors);
  // The damage must exercise both sides: forwarded frames (flips in MACs or
  // payload) and refusals of several kinds.
  // Most flips land in a header the program checks (the IPv4 header sum
  // catches every one in it; a flip in the destination MAC makes the frame
  // another host's), so only a few percent survive intact enough to hit.
  EXPECT_GT(redirected, runs / 50) << "too few frames survived to be forwarded";
  int reasons_seen = 0;
  for (std::uint64_t s : c.slow)
    reasons_seen += s > 0;
  EXPECT_GE(reasons_seen, 4) << "too few kinds of refusal exercised";
}

} // namespace
} // namespace xdpflow::testing
