// Frames the parser must refuse although a matching entry is installed:
// truncated at every header boundary (and one byte short of it), IPv4
// options and fragments, IPv6 extension headers, lengths that lie.
#include <netinet/in.h>
#include <set>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

// Every cut of `frame` at a boundary and one byte before it. The kernel
// refuses test frames shorter than an Ethernet header (EINVAL), as a NIC
// never delivers them, so the shortest cut is 14 bytes. A cut before the end
// of the IP header (ip_end) leaves headers the parser cannot read; a later
// one an IP length past the frame (ip_rcv_core's check). The skb test run
// refuses frames with an incomplete IP header (EINVAL), so those cuts run
// through XDP only.
void add_truncations(std::vector<Fixture> &t, const std::string &name, const Bytes &frame,
                     std::vector<std::size_t> boundaries, std::size_t ip_end,
                     const FlowSpec &entry) {
  std::set<std::size_t> cuts;
  for (std::size_t b : boundaries) {
    for (std::size_t cut : {b - 1, b})
      if (cut >= 14 && cut < frame.size())
        cuts.insert(cut);
  }
  for (std::size_t cut : cuts) {
    Fixture f = passed("truncated_" + name + "_at_" + std::to_string(cut), truncated(frame, cut),
                       cut < ip_end ? XF_SLOW_UNPARSED : XF_SLOW_IP_LENGTH, {entry});
    t.push_back(cut < ip_end ? f.only(Hooks::kXdpOnly) : f);
  }
}

std::vector<Fixture> truncations() {
  std::vector<Fixture> t;
  // Boundaries: end of Ethernet, tags, PPPoE, IP header, L4 header, and the
  // last payload byte.
  Bytes v4tcp = lan_in().ipv4(kClient4, kServer4).tcp(40000, 53).payload(4).build();
  add_truncations(t, "v4_tcp", v4tcp, {14, 34, 54, v4tcp.size()}, 34, masq4(kTcp));
  Bytes v6udp = lan_in().ipv6(kClient6, kServer6).udp(40000, 53).payload(4).build();
  add_truncations(t, "v6_udp", v6udp, {14, 54, 62, v6udp.size()}, 54, masq6(kUdp));
  Bytes vlan_v4udp = lan_in().vlan(10).ipv4(kClient4, kServer4).udp(40000, 53).build();
  add_truncations(t, "vlan_v4_udp", vlan_v4udp, {14, 18, 38, vlan_v4udp.size()}, 38,
                  masq4(kUdp).arriving(vlan_encap(10)));
  Bytes qinq_v6tcp =
      lan_in().vlan(100, kTpid8021AD).vlan(10).ipv6(kClient6, kServer6).tcp(40000, 53).build();
  add_truncations(t, "qinq_v6_tcp", qinq_v6tcp, {14, 18, 22, 62, qinq_v6tcp.size()}, 62,
                  masq6(kTcp).arriving(qinq_encap(100, 10)));
  Bytes pppoe_v4udp =
      lan_in().vlan(7).pppoe(kSid).ipv4(kClient4, kServer4).udp(40000, 53).payload(2).build();
  add_truncations(t, "vlan_pppoe_v4_udp", pppoe_v4udp, {14, 18, 26, 46, 54, pppoe_v4udp.size()}, 46,
                  masq4(kUdp).arriving(vlan_pppoe_encap(7, kSid)));
  return t;
}

Bytes patched(Bytes frame, std::size_t at, std::uint8_t value) {
  frame.at(at) = value;
  return frame;
}

std::vector<Fixture> header_refusals() {
  std::vector<Fixture> t;
  const Bytes nop_options{1, 1, 1, 1}; // four NOPs: IHL 6
  t.push_back(
      passed("v4_options",
             lan_in().ipv4(kClient4, kServer4, {.options = nop_options}).udp(40000, 53).build(),
             XF_SLOW_IP_OPTIONS, {masq4(kUdp)}));
  t.push_back(
      passed("v4_fragment_first_mf",
             lan_in().ipv4(kClient4, kServer4, {.frag = 0x2000}).udp(40000, 53).payload(32).build(),
             XF_SLOW_FRAGMENT, {masq4(kUdp)}));
  t.push_back(
      passed("v4_fragment_middle_offset_and_mf",
             lan_in().ipv4(kClient4, kServer4, {.frag = 0x2000 | 185}).udp(40000, 53).build(),
             XF_SLOW_FRAGMENT, {masq4(kUdp)}));
  t.push_back(passed("v4_fragment_last_offset_only",
                     lan_in().ipv4(kClient4, kServer4, {.frag = 185}).tcp(40000, 53).build(),
                     XF_SLOW_FRAGMENT, {masq4(kTcp)}));
  // Hop-by-hop, routing, fragment, destination options.
  const Bytes six_zeros(6, 0);
  for (auto [type, name] : {std::pair<std::uint8_t, const char *>{0, "hop_by_hop"},
                            {43, "routing"},
                            {44, "fragment"},
                            {60, "destination_options"}})
    t.push_back(passed(
        std::string("v6_ext_") + name,
        lan_in().ipv6(kClient6, kServer6, {.ext = {{type, six_zeros}}}).udp(40000, 53).build(),
        XF_SLOW_IPV6_EXT, {masq6(kUdp)}));

  Bytes v4udp = lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(8).build();
  t.push_back(passed("v4_ihl_4", patched(v4udp, 14, 0x44), XF_SLOW_IP_HEADER, {masq4(kUdp)}));
  t.push_back(passed("v4_version_6_in_ipv4_ethertype", patched(v4udp, 14, 0x65), XF_SLOW_IP_HEADER,
                     {masq4(kUdp)}));
  t.push_back(
      passed("v4_tot_len_beyond_frame",
             lan_in().ipv4(kClient4, kServer4, {.tot_len = 100}).udp(40000, 53).payload(8).build(),
             XF_SLOW_IP_LENGTH, {masq4(kUdp)}));
  t.push_back(
      passed("v4_tot_len_below_header",
             lan_in().ipv4(kClient4, kServer4, {.tot_len = 19}).udp(40000, 53).payload(8).build(),
             XF_SLOW_IP_LENGTH, {masq4(kUdp)}));
  // The IP packet ends inside the TCP header; the frame goes on (padding).
  t.push_back(passed("v4_tot_len_ends_inside_tcp_header",
                     lan_in().ipv4(kClient4, kServer4, {.tot_len = 30}).tcp(40000, 53).build(),
                     XF_SLOW_L4_TRUNCATED, {masq4(kTcp)}));
  Bytes v6tcp = lan_in().ipv6(kClient6, kServer6).tcp(40000, 53).build();
  t.push_back(passed("v6_version_4_in_ipv6_ethertype", patched(v6tcp, 14, 0x40), XF_SLOW_IP_HEADER,
                     {masq6(kTcp)}));
  t.push_back(passed("v6_payload_len_beyond_frame", patched(v6tcp, 14 + 5, 21), XF_SLOW_IP_LENGTH,
                     {masq6(kTcp)}));
  t.push_back(passed("v6_payload_len_ends_inside_tcp_header", patched(v6tcp, 14 + 5, 19),
                     XF_SLOW_L4_TRUNCATED, {masq6(kTcp)}));
  // TCP data offset below the header size, or beyond the packet.
  t.push_back(passed("tcp_data_offset_4", patched(v6tcp, 14 + 40 + 12, 0x40), XF_SLOW_TCP_DOFF,
                     {masq6(kTcp)}));
  t.push_back(passed("tcp_data_offset_beyond_packet", patched(v6tcp, 14 + 40 + 12, 0xf0),
                     XF_SLOW_L4_TRUNCATED, {masq6(kTcp)}));
  return t;
}

} // namespace

std::vector<Fixture> malformed_fixtures() {
  std::vector<Fixture> t = truncations();
  append(t, header_refusals());
  return t;
}

} // namespace xdpflow::testing
