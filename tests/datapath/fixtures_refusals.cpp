// Frames that parse but must take the kernel path: TTL expiry, MTU, TCP
// teardown, misses, a missing egress, other protocols. Each must come out
// exactly as it went in, with the reason counted.
#include <netinet/in.h>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

Bytes udp4(const Ipv4Opts &o = {}) {
  return lan_in().ipv4(kClient4, kServer4, o).udp(40000, 53).payload(22).build();
}
Bytes tcp4(std::uint8_t flags) {
  return lan_in().ipv4(kClient4, kServer4).tcp(40000, 443, {.flags = flags}).payload(10).build();
}
Bytes tcp6(std::uint8_t flags, const Ipv6Opts &o = {}) {
  return lan_in().ipv6(kClient6, kServer6, o).tcp(40000, 443, {.flags = flags}).payload(10).build();
}

std::vector<Fixture> hit_but_refused() {
  std::vector<Fixture> t;
  t.push_back(passed("v4_ttl_1", udp4({.ttl = 1}), XF_SLOW_TTL, {masq4(kUdp, 53)}));
  t.push_back(passed("v4_ttl_0", udp4({.ttl = 0}), XF_SLOW_TTL, {masq4(kUdp, 53)}));
  t.push_back(
      passed("v6_hop_limit_1", tcp6(kAck, {.hop_limit = 1}), XF_SLOW_TTL, {masq6(kTcp, 443)}));
  t.push_back(
      passed("v6_hop_limit_0", tcp6(kAck, {.hop_limit = 0}), XF_SLOW_TTL, {masq6(kTcp, 443)}));
  // IP length 50 against an MTU of 49; IPv6 1281 against 1280.
  t.push_back(passed("v4_mtu_exceeded", udp4(), XF_SLOW_MTU, {masq4(kUdp, 53).mtu(49)}));
  t.push_back(passed("v6_mtu_exceeded",
                     lan_in().ipv6(kClient6, kServer6).tcp(40000, 443).payload(1221).build(),
                     XF_SLOW_MTU, {masq6(kTcp, 443).mtu(1280)}));
  t.push_back(passed("v4_tcp_fin", tcp4(kFin | kAck), XF_SLOW_TCP_FIN_RST, {masq4(kTcp, 443)}));
  t.push_back(passed("v4_tcp_rst", tcp4(kRst), XF_SLOW_TCP_FIN_RST, {masq4(kTcp, 443)}));
  t.push_back(passed("v4_tcp_rst_ack", tcp4(kRst | kAck), XF_SLOW_TCP_FIN_RST, {masq4(kTcp, 443)}));
  t.push_back(
      passed("v6_tcp_fin", tcp6(kFin | kAck | kPsh), XF_SLOW_TCP_FIN_RST, {masq6(kTcp, 443)}));
  t.push_back(passed("v6_tcp_rst", tcp6(kRst), XF_SLOW_TCP_FIN_RST, {masq6(kTcp, 443)}));
  // The egress is not (or no longer) a redirect target.
  t.push_back(passed("egress_missing_from_devmap", udp4(), XF_SLOW_NO_EGRESS,
                     {masq4(kUdp, 53).via(Dev::kSpare, kGwWanMac, kUpstreamMac)}));
  Fixture empty_devmap =
      passed("egress_with_empty_devmap", udp4(), XF_SLOW_NO_EGRESS, {masq4(kUdp, 53)})
          .with_devmap({});
  t.push_back(empty_devmap);
  // Group-addressed destination MACs: the kernel never forwards those, so a
  // matching flow must not either.
  const Mac broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, multicast{0x01, 0, 0x5e, 0, 0, 1};
  t.push_back(passed("broadcast_dst_mac_on_flow",
                     Packet()
                         .eth(broadcast, kClientMac)
                         .ipv4(kClient4, kServer4)
                         .udp(40000, 53)
                         .payload(22)
                         .build(),
                     XF_SLOW_NOT_UNICAST, {masq4(kUdp, 53)}));
  t.push_back(passed("multicast_dst_mac_on_flow",
                     Packet()
                         .eth(multicast, kClientMac)
                         .ipv6(kClient6, kServer6)
                         .tcp(40000, 443)
                         .payload(10)
                         .build(),
                     XF_SLOW_NOT_UNICAST, {masq6(kTcp, 443)}));
  for (Fixture &f : t)
    if (f.slow_reason == XF_SLOW_NO_EGRESS)
      f.redirect_error = true;
  return t;
}

std::vector<Fixture> misses() {
  std::vector<Fixture> t;
  t.push_back(passed("v4_miss_empty_table", udp4(), XF_SLOW_NO_FLOW));
  t.push_back(passed("v6_miss_empty_table", tcp6(kAck), XF_SLOW_NO_FLOW));
  t.push_back(passed("v4_miss_other_sport",
                     lan_in().ipv4(kClient4, kServer4).udp(40001, 53).payload(22).build(),
                     XF_SLOW_NO_FLOW, {masq4(kUdp, 53)}));
  t.push_back(passed("v4_miss_other_proto", tcp4(kAck), XF_SLOW_NO_FLOW, {masq4(kUdp, 443)}));
  t.push_back(
      passed("v4_miss_other_ingress", udp4(), XF_SLOW_NO_FLOW, {masq4(kUdp, 53)}, Dev::kDmz));
  // The reply direction has its own key: without it, replies miss.
  t.push_back(
      passed("v4_miss_reply_direction_not_installed",
             Packet().eth(kGwWanMac, kUpstreamMac).ipv4(kServer4, kGwWan4).udp(53, 61000).build(),
             XF_SLOW_NO_FLOW, {masq4(kUdp, 53)}, Dev::kWan));
  // Without an entry the teardown or expiry reasons do not apply: no flow.
  t.push_back(passed("v4_tcp_fin_miss", tcp4(kFin | kAck), XF_SLOW_NO_FLOW));
  t.push_back(passed("v4_ttl_1_miss", udp4({.ttl = 1}), XF_SLOW_NO_FLOW));
  return t;
}

std::vector<Fixture> not_ours() {
  std::vector<Fixture> t;
  t.push_back(passed("arp_not_ip", wan_in().ethertype(0x0806).payload(28).build(), XF_SLOW_NOT_IP,
                     {}, Dev::kWan));
  t.push_back(passed("lldp_not_ip", wan_in().ethertype(0x88cc).payload(46).build(), XF_SLOW_NOT_IP,
                     {}, Dev::kWan));
  t.push_back(passed("ieee8023_length_frame_not_ip", wan_in().ethertype(46).payload(46).build(),
                     XF_SLOW_NOT_IP, {}, Dev::kWan));
  t.push_back(passed("vlan_arp_not_ip", wan_in().vlan(10).ethertype(0x0806).payload(28).build(),
                     XF_SLOW_NOT_IP, {}, Dev::kWan));
  t.push_back(passed("v4_icmp_echo",
                     lan_in().ipv4(kClient4, kServer4).icmp(8, 0).payload(56).build(),
                     XF_SLOW_NOT_TCP_UDP, {masq4(kUdp, 53)}));
  t.push_back(passed("v6_icmp_echo",
                     lan_in().ipv6(kClient6, kServer6).icmp(128, 0).payload(56).build(),
                     XF_SLOW_NOT_TCP_UDP, {masq6(kTcp, 443)}));
  t.push_back(
      passed("v6_no_next_header", lan_in().ipv6(kClient6, kServer6).build(), XF_SLOW_NOT_TCP_UDP));
  return t;
}

} // namespace

std::vector<Fixture> refusal_fixtures() {
  std::vector<Fixture> t = hit_but_refused();
  append(t, misses());
  append(t, not_ours());
  return t;
}

} // namespace xdpflow::testing
