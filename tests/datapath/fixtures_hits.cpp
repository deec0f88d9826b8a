// Frames the fast path forwards: plain routing, SNAT, DNAT, both, in IPv4
// and IPv6, TCP and UDP, and the checksum corner cases.
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdexcept>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

std::uint16_t read16(const Bytes &b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

// A payload whose first word makes the L4 checksum of the frame that
// `build(payload)` produces come out as a one's complement sum of 0xffff,
// i.e. a computed checksum of 0x0000 (sent as 0xffff for UDP). Adding the old
// checksum C = ~S as a data word turns the sum S into S + ~S = 0xffff.
template <class Build>
Bytes payload_for_zero_sum(Build build, std::size_t check_offset, std::uint16_t expect_check) {
  Bytes payload(24, 0x5a);
  payload[0] = payload[1] = 0;
  std::uint16_t c = read16(build(payload), check_offset);
  payload[0] = static_cast<std::uint8_t>(c >> 8);
  payload[1] = static_cast<std::uint8_t>(c);
  if (read16(build(payload), check_offset) != expect_check)
    throw std::logic_error("fixture: checksum corner case not reached");
  return payload;
}

std::vector<Fixture> plain_and_nat() {
  const std::uint8_t udp = IPPROTO_UDP, tcp = IPPROTO_TCP;
  const Ipv4Opts ttl63{.ttl = 63};
  const Ipv6Opts hl63{.hop_limit = 63};
  std::vector<Fixture> t;

  // Routing only (no NAT): LAN -> WAN.
  t.push_back(redirected(
      "v4_udp_forward", lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build(),
      to_wan(flow(Dev::kLan, udp, kClient4, 40000, kServer4, 53)),
      wan_out().ipv4(kClient4, kServer4, ttl63).udp(40000, 53).payload(22).build()));
  t.push_back(redirected(
      "v4_tcp_forward", lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).payload(100).build(),
      to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)),
      wan_out().ipv4(kClient4, kServer4, ttl63).tcp(40000, 443).payload(100).build()));
  t.push_back(redirected(
      "v6_udp_forward", lan_in().ipv6(kClient6, kServer6).udp(40000, 53).payload(22).build(),
      to_wan(flow(Dev::kLan, udp, kClient6, 40000, kServer6, 53)),
      wan_out().ipv6(kClient6, kServer6, hl63).udp(40000, 53).payload(22).build()));
  t.push_back(redirected(
      "v6_tcp_forward", lan_in().ipv6(kClient6, kServer6).tcp(40000, 443).payload(100).build(),
      to_wan(flow(Dev::kLan, tcp, kClient6, 40000, kServer6, 443)),
      wan_out().ipv6(kClient6, kServer6, hl63).tcp(40000, 443).payload(100).build()));

  // Masquerade, original direction: SNAT of address and port.
  t.push_back(
      redirected("v4_tcp_snat_addr_port",
                 lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).payload(100).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4, 61000),
                 wan_out().ipv4(kGwWan4, kServer4, ttl63).tcp(61000, 443).payload(100).build()));
  t.push_back(redirected(
      "v4_udp_snat_addr_port", lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build(),
      to_wan(flow(Dev::kLan, udp, kClient4, 40000, kServer4, 53)).snat(kGwWan4, 61000),
      wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).payload(22).build()));
  t.push_back(
      redirected("v4_tcp_snat_addr_only",
                 lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).payload(10).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4),
                 wan_out().ipv4(kGwWan4, kServer4, ttl63).tcp(40000, 443).payload(10).build()));
  t.push_back(redirected(
      "v4_udp_snat_port_only", lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(10).build(),
      to_wan(flow(Dev::kLan, udp, kClient4, 40000, kServer4, 53)).snat_port(1024),
      wan_out().ipv4(kClient4, kServer4, ttl63).udp(1024, 53).payload(10).build()));
  // Masquerade, reply direction: DNAT back to the client.
  t.push_back(
      redirected("v4_tcp_dnat_addr_port",
                 wan_in().ipv4(kServer4, kGwWan4).tcp(443, 61000).payload(200).build(),
                 to_lan(flow(Dev::kWan, tcp, kServer4, 443, kGwWan4, 61000)).dnat(kClient4, 40000),
                 lan_out().ipv4(kServer4, kClient4, ttl63).tcp(443, 40000).payload(200).build()));
  t.push_back(redirected(
      "v4_udp_dnat_addr_only", wan_in().ipv4(kServer4, kGwWan4).udp(53, 40000).payload(30).build(),
      to_lan(flow(Dev::kWan, udp, kServer4, 53, kGwWan4, 40000)).dnat(kClient4),
      lan_out().ipv4(kServer4, kClient4, ttl63).udp(53, 40000).payload(30).build()));
  // Port forward to a DMZ host (DNAT + port), and a hairpin (SNAT + DNAT).
  t.push_back(
      redirected("v4_tcp_dnat_port_forward_to_dmz",
                 wan_in().ipv4(kServer4, kGwWan4).tcp(50000, 8080).payload(40).build(),
                 to_dmz(flow(Dev::kWan, tcp, kServer4, 50000, kGwWan4, 8080)).dnat(kDmzHost4, 80),
                 dmz_out().ipv4(kServer4, kDmzHost4, ttl63).tcp(50000, 80).payload(40).build()));
  t.push_back(
      redirected("v4_udp_snat_dnat_ports",
                 lan_in().ipv4(kClient4, kGwWan4).udp(40000, 5353).payload(64).build(),
                 to_dmz(flow(Dev::kLan, udp, kClient4, 40000, kGwWan4, 5353))
                     .snat(kGwWan4, 62000)
                     .dnat(kDmzHost4, 53),
                 dmz_out().ipv4(kGwWan4, kDmzHost4, ttl63).udp(62000, 53).payload(64).build()));
  t.push_back(
      redirected("v4_tcp_snat_dnat_ports",
                 lan_in().ipv4(kClient4, kGwWan4).tcp(40000, 8443).payload(64).build(),
                 to_dmz(flow(Dev::kLan, tcp, kClient4, 40000, kGwWan4, 8443))
                     .snat(kGwWan4, 62000)
                     .dnat(kDmzHost4, 443),
                 dmz_out().ipv4(kGwWan4, kDmzHost4, ttl63).tcp(62000, 443).payload(64).build()));

  // IPv6 NAT (masquerade and port forward exist for IPv6 too).
  t.push_back(
      redirected("v6_tcp_snat_addr_port",
                 lan_in().ipv6(kClient6, kServer6).tcp(40000, 443).payload(100).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient6, 40000, kServer6, 443)).snat(kGwWan6, 61000),
                 wan_out().ipv6(kGwWan6, kServer6, hl63).tcp(61000, 443).payload(100).build()));
  t.push_back(redirected(
      "v6_udp_dnat_addr_port", wan_in().ipv6(kServer6, kGwWan6).udp(53, 61000).payload(50).build(),
      to_lan(flow(Dev::kWan, udp, kServer6, 53, kGwWan6, 61000)).dnat(kClient6, 40000),
      lan_out().ipv6(kServer6, kClient6, hl63).udp(53, 40000).payload(50).build()));
  t.push_back(
      redirected("v6_udp_snat_dnat_ports",
                 lan_in().ipv6(kClient6, kGwWan6).udp(40000, 5353).payload(33).build(),
                 to_dmz(flow(Dev::kLan, udp, kClient6, 40000, kGwWan6, 5353))
                     .snat(kGwWan6, 62000)
                     .dnat(kDmzHost6, 53),
                 dmz_out().ipv6(kGwWan6, kDmzHost6, hl63).udp(62000, 53).payload(33).build()));
  t.push_back(
      redirected("v6_tcp_snat_dnat_ports",
                 lan_in().ipv6(kClient6, kGwWan6).tcp(40000, 8443).payload(7).build(),
                 to_dmz(flow(Dev::kLan, tcp, kClient6, 40000, kGwWan6, 8443))
                     .snat(kGwWan6, 62000)
                     .dnat(kDmzHost6, 443),
                 dmz_out().ipv6(kGwWan6, kDmzHost6, hl63).tcp(62000, 443).payload(7).build()));
  return t;
}

std::vector<Fixture> corner_cases() {
  const std::uint8_t udp = IPPROTO_UDP, tcp = IPPROTO_TCP;
  const Ipv4Opts ttl63{.ttl = 63};
  const Ipv6Opts hl63{.hop_limit = 63};
  const FlowSpec masq_udp =
      to_wan(flow(Dev::kLan, udp, kClient4, 40000, kServer4, 53)).snat(kGwWan4, 61000);
  std::vector<Fixture> t;

  // IPv4 UDP without checksum stays without (RFC 768), NAT or not.
  t.push_back(redirected(
      "v4_udp_zero_checksum_snat_stays_zero",
      lan_in().ipv4(kClient4, kServer4).udp(40000, 53, {.no_checksum = true}).payload(22).build(),
      masq_udp,
      wan_out()
          .ipv4(kGwWan4, kServer4, ttl63)
          .udp(61000, 53, {.no_checksum = true})
          .payload(22)
          .build()));
  t.push_back(redirected(
      "v4_udp_zero_checksum_forward_stays_zero",
      lan_in().ipv4(kClient4, kServer4).udp(40000, 53, {.no_checksum = true}).payload(22).build(),
      to_wan(flow(Dev::kLan, udp, kClient4, 40000, kServer4, 53)),
      wan_out()
          .ipv4(kClient4, kServer4, ttl63)
          .udp(40000, 53, {.no_checksum = true})
          .payload(22)
          .build()));

  // IPv6 UDP with a zero checksum (tunnels, RFC 6935): kept 0 as nf_nat
  // keeps it, never replaced by an incremental update of a missing sum.
  t.push_back(redirected(
      "v6_udp_zero_checksum_snat_stays_zero",
      lan_in().ipv6(kClient6, kServer6).udp(40000, 4789, {.no_checksum = true}).payload(30).build(),
      to_wan(flow(Dev::kLan, udp, kClient6, 40000, kServer6, 4789)).snat(kGwWan6, 61000),
      wan_out()
          .ipv6(kGwWan6, kServer6, hl63)
          .udp(61000, 4789, {.no_checksum = true})
          .payload(30)
          .build()));

  // A rewrite whose new checksum computes to 0: UDP sends 0xffff (on IPv4 0
  // would mean "none", on IPv6 it is invalid); TCP sends 0x0000.
  auto v4_udp_out = [&](const Bytes &pl) {
    return wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).payload(pl).build();
  };
  Bytes pl = payload_for_zero_sum(v4_udp_out, 14 + 20 + 6, 0xffff);
  t.push_back(redirected("v4_udp_checksum_computes_zero_sent_as_ffff",
                         lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(pl).build(),
                         masq_udp, v4_udp_out(pl)));
  auto v6_udp_out = [&](const Bytes &p) {
    return wan_out().ipv6(kGwWan6, kServer6, hl63).udp(61000, 53).payload(p).build();
  };
  pl = payload_for_zero_sum(v6_udp_out, 14 + 40 + 6, 0xffff);
  t.push_back(
      redirected("v6_udp_checksum_computes_zero_sent_as_ffff",
                 lan_in().ipv6(kClient6, kServer6).udp(40000, 53).payload(pl).build(),
                 to_wan(flow(Dev::kLan, udp, kClient6, 40000, kServer6, 53)).snat(kGwWan6, 61000),
                 v6_udp_out(pl)));
  auto v4_tcp_out = [&](const Bytes &p) {
    return wan_out().ipv4(kGwWan4, kServer4, ttl63).tcp(61000, 443).payload(p).build();
  };
  pl = payload_for_zero_sum(v4_tcp_out, 14 + 20 + 16, 0x0000);
  t.push_back(
      redirected("v4_tcp_checksum_computes_zero_stays_zero",
                 lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).payload(pl).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4, 61000),
                 v4_tcp_out(pl)));

  // TTL / hop limit 2 is the lowest that is forwarded; 255 the highest.
  t.push_back(redirected(
      "v4_ttl_2_forwarded_as_1",
      lan_in().ipv4(kClient4, kServer4, {.ttl = 2}).udp(40000, 53).payload(22).build(), masq_udp,
      wan_out().ipv4(kGwWan4, kServer4, {.ttl = 1}).udp(61000, 53).payload(22).build()));
  t.push_back(redirected(
      "v4_ttl_255_forwarded_as_254",
      lan_in().ipv4(kClient4, kServer4, {.ttl = 255}).udp(40000, 53).payload(22).build(), masq_udp,
      wan_out().ipv4(kGwWan4, kServer4, {.ttl = 254}).udp(61000, 53).payload(22).build()));
  t.push_back(
      redirected("v6_hop_limit_2_forwarded_as_1",
                 lan_in().ipv6(kClient6, kServer6, {.hop_limit = 2}).tcp(40000, 443).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient6, 40000, kServer6, 443)),
                 wan_out().ipv6(kClient6, kServer6, {.hop_limit = 1}).tcp(40000, 443).build()));

  // Exactly at the egress MTU is forwarded (IP length 20 + 8 + 22 = 50).
  t.push_back(redirected(
      "v4_exactly_at_mtu", lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build(),
      masq_udp.mtu(50),
      wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).payload(22).build()));
  t.push_back(redirected(
      "v6_exactly_at_mtu", lan_in().ipv6(kClient6, kServer6).tcp(40000, 443).payload(1220).build(),
      to_wan(flow(Dev::kLan, tcp, kClient6, 40000, kServer6, 443)).mtu(1280),
      wan_out().ipv6(kClient6, kServer6, hl63).tcp(40000, 443).payload(1220).build()));
  t.push_back(
      redirected("v4_full_size_1500_frame",
                 lan_in().ipv4(kClient4, kServer4).tcp(40000, 443).payload(1460).build(),
                 to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4, 61000),
                 wan_out().ipv4(kGwWan4, kServer4, ttl63).tcp(61000, 443).payload(1460).build()));

  // Short UDP datagrams (shorter than a TCP header) and padded frames: the
  // padding is carried along, untouched and outside every checksum.
  t.push_back(redirected("v4_udp_empty_payload",
                         lan_in().ipv4(kClient4, kServer4).udp(40000, 53).build(), masq_udp,
                         wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).build()));
  t.push_back(
      redirected("v6_udp_empty_payload", lan_in().ipv6(kClient6, kServer6).udp(40000, 53).build(),
                 to_wan(flow(Dev::kLan, udp, kClient6, 40000, kServer6, 53)).snat(kGwWan6, 61000),
                 wan_out().ipv6(kGwWan6, kServer6, hl63).udp(61000, 53).build()));
  // Ethernet padding is cut off as ip_rcv_core trims it (the egress device
  // pads again where it must); TC leaves such frames to the kernel.
  t.push_back(
      redirected("v4_udp_padded_to_60_bytes",
                 lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(2).pad_to(60).build(),
                 masq_udp,
                 wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).payload(2).build())
          .tc_refuses(XF_SLOW_TRAILER));

  // TCP options, ToS, and flags other than FIN/RST are carried unchanged.
  const TcpOpts with_ts{.flags = kAck | kPsh,
                        .options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}}; // NOP NOP TS
  t.push_back(redirected(
      "v4_tcp_options_tos_psh",
      lan_in().ipv4(kClient4, kServer4, {.tos = 0xb8}).tcp(40000, 443, with_ts).payload(50).build(),
      to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4, 61000),
      wan_out()
          .ipv4(kGwWan4, kServer4, {.ttl = 63, .tos = 0xb8})
          .tcp(61000, 443, with_ts)
          .payload(50)
          .build()));

  // Only FIN and RST go to conntrack: a SYN on an offloaded flow (a port
  // reused) is forwarded as nf_flow_table does.
  t.push_back(redirected(
      "v4_tcp_syn_on_hit_forwarded",
      lan_in().ipv4(kClient4, kServer4).tcp(40000, 443, {.flags = kSyn}).build(),
      to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 443)).snat(kGwWan4, 61000),
      wan_out().ipv4(kGwWan4, kServer4, ttl63).tcp(61000, 443, {.flags = kSyn}).build()));
  // Hairpin: out of the interface it came in on (DNAT to another LAN host).
  t.push_back(redirected("v4_udp_hairpin_same_interface",
                         lan_in().ipv4(kClient4, kGwWan4).udp(40000, 8053).payload(20).build(),
                         flow(Dev::kLan, udp, kClient4, 40000, kGwWan4, 8053)
                             .via(Dev::kLan, kGwLanMac, kDmzHostMac)
                             .snat(kGwWan4, 62000)
                             .dnat("198.18.0.3", 53),
                         Packet()
                             .eth(kDmzHostMac, kGwLanMac)
                             .ipv4(kGwWan4, "198.18.0.3", ttl63)
                             .udp(62000, 53)
                             .payload(20)
                             .build()));

  // The right entry among several: only the hit one advances.
  t.push_back(
      redirected("v4_hit_among_other_entries",
                 lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build(), masq_udp,
                 wan_out().ipv4(kGwWan4, kServer4, ttl63).udp(61000, 53).payload(22).build())
          .also(to_wan(flow(Dev::kLan, udp, kClient4, 40001, kServer4, 53)).snat(kGwWan4, 61001))
          .also(to_wan(flow(Dev::kLan, tcp, kClient4, 40000, kServer4, 53)))
          .also(to_lan(flow(Dev::kWan, udp, kServer4, 53, kGwWan4, 61000)).dnat(kClient4, 40000)));
  return t;
}

} // namespace

std::vector<Fixture> hit_fixtures() {
  std::vector<Fixture> t = plain_and_nat();
  append(t, corner_cases());
  return t;
}

} // namespace xdpflow::testing
