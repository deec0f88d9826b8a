// What ip_rcv_core / ipv6_rcv / the martian checks drop or treat specially
// must reach the kernel untouched even when a flow matches, each with its
// own counted reason (version, IHL, lengths and TCP data offset are in
// fixtures_malformed.cpp); frames for another MAC; Ethernet trailers; and
// the frame after a failed head adjust.
#include <netinet/in.h>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

constexpr std::size_t kIp4 = 14; // IPv4 header offset in an untagged frame

Bytes udp4(const Ipv4Opts &o = {}) {
  return lan_in().ipv4(kClient4, kServer4, o).udp(40000, 53).payload(22).build();
}

// Sets one byte without fixing any checksum.
Bytes poke(Bytes b, std::size_t at, std::uint8_t value) {
  b.at(at) = value;
  return b;
}

struct Martian {
  std::string name, src, dst;
};

// A UDP datagram src -> dst with a matching flow, which must not hit.
std::vector<Fixture> martians(const std::vector<Martian> &table) {
  std::vector<Fixture> t;
  for (const Martian &m : table) {
    Packet p = lan_in();
    if (m.src.find(':') != std::string::npos)
      p.ipv6(m.src, m.dst);
    else
      p.ipv4(m.src, m.dst);
    t.push_back(passed(m.name, p.udp(40000, 53).payload(22).build(), XF_SLOW_MARTIAN,
                       {to_wan(flow(Dev::kLan, kUdp, m.src, 40000, m.dst, 53))}));
  }
  return t;
}

std::vector<Fixture> ipv4_checks() {
  std::vector<Fixture> t;
  const FlowSpec udp = masq4(kUdp, 53);
  Bytes good = udp4();
  // ip_rcv_core: the header checksum (one bit of it flipped).
  t.push_back(passed("v4_bad_header_checksum",
                     poke(good, kIp4 + 10, static_cast<std::uint8_t>(good[kIp4 + 10] ^ 0x01)),
                     XF_SLOW_IP_CSUM, {udp}));
  // A UDP header cut short by the IP length (the frame holds it all as
  // trailer). The TCP cases are in fixtures_malformed.cpp.
  t.push_back(passed(
      "v4_udp_header_past_ip_length",
      lan_in().ipv4(kClient4, kServer4, {.tot_len = 20 + 4}).udp(40000, 53).payload(22).build(),
      XF_SLOW_L4_TRUNCATED, {udp}));
  // Martian sources and destinations, each with a matching flow.
  append(t, martians({{"v4_src_multicast", "224.0.0.5", kServer4},
                      {"v4_src_limited_broadcast", "255.255.255.255", kServer4},
                      {"v4_src_class_e", "240.0.0.1", kServer4},
                      {"v4_src_loopback", "127.0.0.1", kServer4},
                      {"v4_src_zero", "0.0.0.0", kServer4},
                      {"v4_dst_loopback", kClient4, "127.0.0.2"},
                      {"v4_dst_zeronet", kClient4, "0.1.2.3"},
                      {"v4_dst_multicast_unicast_mac", kClient4, "239.1.1.1"}}));
  return t;
}

std::vector<Fixture> ipv6_checks() {
  return martians({{"v6_src_multicast", "ff02::1", kServer6},
                   {"v6_src_loopback", "::1", kServer6},
                   {"v6_src_unspecified", "::", kServer6},
                   {"v6_src_link_local", "fe80::1", kServer6},
                   {"v6_src_v4_mapped", "::ffff:198.18.0.2", kServer6},
                   {"v6_dst_link_local", kClient6, "fe80::2"},
                   {"v6_dst_multicast_unicast_mac", kClient6, "ff0e::1"},
                   {"v6_dst_v4_mapped", kClient6, "::ffff:198.19.0.2"}});
}

// Frames for another host's MAC (a promiscuous port): never a hit.
std::vector<Fixture> foreign_mac() {
  const Mac other{0x02, 0, 0, 0, 0x09, 0x09};
  std::vector<Fixture> t;
  t.push_back(passed(
      "v4_foreign_dst_mac_on_flow",
      Packet().eth(other, kClientMac).ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build(),
      XF_SLOW_NOT_FOR_US, {masq4(kUdp, 53)}));
  t.push_back(passed(
      "v6_foreign_dst_mac_on_flow",
      Packet().eth(other, kClientMac).ipv6(kClient6, kServer6).tcp(40000, 443).payload(10).build(),
      XF_SLOW_NOT_FOR_US, {masq6(kTcp, 443)}));
  // The WAN's MAC arriving on the LAN port: ours, but not this interface's.
  t.push_back(passed("v4_other_port_mac_on_flow",
                     Packet()
                         .eth(kGwWanMac, kClientMac)
                         .ipv4(kClient4, kServer4)
                         .udp(40000, 53)
                         .payload(22)
                         .build(),
                     XF_SLOW_NOT_FOR_US, {masq4(kUdp, 53)}));
  return t;
}

// Ethernet trailers: XDP cuts them off as ip_rcv_core does; TC refuses.
std::vector<Fixture> trailers() {
  std::vector<Fixture> t;
  t.push_back(redirected("v4_tcp_ack_padded_to_60",
                         lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).pad_to(60).build(),
                         masq4(kTcp, 443),
                         wan_out().ipv4(kGwWan4, kServer4, {.ttl = 63}).tcp(61000, 443).build())
                  .tc_refuses(XF_SLOW_TRAILER));
  t.push_back(
      redirected(
          "v6_udp_with_trailer",
          lan_in().ipv6(kClient6, kServer6).udp(40000, 53).payload(30).pad_to(200).build(),
          masq6(kUdp, 53),
          wan_out().ipv6(kGwWan6, kServer6, {.hop_limit = 63}).udp(61000, 53).payload(30).build())
          .tc_refuses(XF_SLOW_TRAILER));
  return t;
}

// A head adjust that fails: the frame that arrived goes to the kernel.
std::vector<Fixture> failed_adjust() {
  std::vector<Fixture> t;
  // XDP: 216 bytes of metadata leave no headroom to push a tag into.
  Fixture x = passed("v4_push_vlan_without_headroom", udp4(), XF_SLOW_ADJUST_FAILED,
                     {masq4(kUdp, 53).leaving(vlan_encap(7))})
                  .only(Hooks::kXdpOnly);
  x.short_headroom = true;
  t.push_back(x);
  // TC: bpf_skb_change_head fails only without memory (it no longer checks
  // the MTU, bpf_check_mtu does), which a test run cannot arrange.
  return t;
}

} // namespace

std::vector<Fixture> kernel_check_fixtures() {
  std::vector<Fixture> t = ipv4_checks();
  append(t, ipv6_checks());
  append(t, foreign_mac());
  append(t, trailers());
  append(t, failed_adjust());
  return t;
}

} // namespace xdpflow::testing
