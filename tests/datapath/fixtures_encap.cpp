// Layer-2 encapsulations: 802.1Q tags popped, pushed and changed, QinQ
// (802.1ad outer tag), PPPoE sessions in and out, and keys that differ only
// in their encapsulation.
#include <netinet/in.h>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

const Ipv4Opts kTtl63{.ttl = 63};
const Ipv6Opts kHl63{.hop_limit = 63};

// The IP + UDP part of the masqueraded packet before and after the gateway.
Packet udp4_in(Packet p) {
  return p.ipv4(kClient4, kServer4).udp(40000, 53).payload(22);
}
Packet udp4_out(Packet p) {
  return p.ipv4(kGwWan4, kServer4, kTtl63).udp(61000, 53).payload(22);
}
Packet tcp6_in(Packet p) {
  return p.ipv6(kClient6, kServer6).tcp(40000, 53).payload(40);
}
Packet tcp6_out(Packet p) {
  return p.ipv6(kGwWan6, kServer6, kHl63).tcp(61000, 53).payload(40);
}

std::vector<Fixture> vlan_fixtures() {
  std::vector<Fixture> t;
  t.push_back(redirected("vlan_in_popped_out", udp4_in(lan_in().vlan(10)).build(),
                         masq4(kUdp).arriving(vlan_encap(10)), udp4_out(wan_out()).build())
                  .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  t.push_back(redirected("vlan_pushed_out", udp4_in(lan_in()).build(),
                         masq4(kUdp).leaving(vlan_encap(20)),
                         udp4_out(wan_out().vlan(20)).build()));
  t.push_back(redirected("vlan_vid_changed_v6", tcp6_in(lan_in().vlan(10)).build(),
                         masq6(kTcp).arriving(vlan_encap(10)).leaving(vlan_encap(4094)),
                         tcp6_out(wan_out().vlan(4094)).build()));
  // Priority bits are not part of the key; egress tags carry PCP 0.
  t.push_back(redirected("vlan_pcp_ignored_and_cleared",
                         udp4_in(lan_in().vlan(10, kTpid8021Q, 5)).build(),
                         masq4(kUdp).arriving(vlan_encap(10)).leaving(vlan_encap(20)),
                         udp4_out(wan_out().vlan(20)).build()));
  t.push_back(passed("vlan_other_vid_misses", udp4_in(lan_in().vlan(11)).build(), XF_SLOW_NO_FLOW,
                     {masq4(kUdp).arriving(vlan_encap(10))}));
  t.push_back(passed("vlan_untagged_frame_misses_tagged_key", udp4_in(lan_in()).build(),
                     XF_SLOW_NO_FLOW, {masq4(kUdp).arriving(vlan_encap(10))}));
  t.push_back(passed("vlan_tagged_frame_misses_untagged_key", udp4_in(lan_in().vlan(10)).build(),
                     XF_SLOW_NO_FLOW, {masq4(kUdp)}));

  // QinQ: 802.1ad service tag outside, 802.1Q customer tag inside.
  t.push_back(redirected("qinq_in_popped_out",
                         udp4_in(lan_in().vlan(100, kTpid8021AD).vlan(10)).build(),
                         masq4(kUdp).arriving(qinq_encap(100, 10)), udp4_out(wan_out()).build())
                  .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  t.push_back(redirected("qinq_pushed_out", tcp6_in(lan_in()).build(),
                         masq6(kTcp).leaving(qinq_encap(200, 20)),
                         tcp6_out(wan_out().vlan(200, kTpid8021AD).vlan(20)).build()));
  t.push_back(redirected("qinq_to_single_vlan",
                         udp4_in(lan_in().vlan(100, kTpid8021AD).vlan(10)).build(),
                         masq4(kUdp).arriving(qinq_encap(100, 10)).leaving(vlan_encap(30)),
                         udp4_out(wan_out().vlan(30)).build())
                  .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  t.push_back(redirected("single_vlan_to_qinq", udp4_in(lan_in().vlan(30)).build(),
                         masq4(kUdp).arriving(vlan_encap(30)).leaving(qinq_encap(100, 10)),
                         udp4_out(wan_out().vlan(100, kTpid8021AD).vlan(10)).build()));
  t.push_back(
      redirected("double_8021q_tags", udp4_in(lan_in().vlan(100).vlan(10)).build(),
                 masq4(kUdp).arriving(qinq_encap(100, 10, false)).leaving(qinq_encap(7, 8, false)),
                 udp4_out(wan_out().vlan(7).vlan(8)).build()));
  t.push_back(redirected(
                  "single_8021ad_tag", udp4_in(lan_in().vlan(100, kTpid8021AD)).build(),
                  [] {
                    xf_encap ad = vlan_encap(100);
                    ad.flags = XF_ENCAP_OUTER_8021AD;
                    return masq4(kUdp).arriving(ad);
                  }(),
                  udp4_out(wan_out()).build())
                  .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  t.push_back(passed("qinq_outer_tpid_differs_misses", udp4_in(lan_in().vlan(100).vlan(10)).build(),
                     XF_SLOW_NO_FLOW, {masq4(kUdp).arriving(qinq_encap(100, 10))}));
  t.push_back(passed("three_vlan_tags_unparsed",
                     udp4_in(lan_in().vlan(100, kTpid8021AD).vlan(10).vlan(1)).build(),
                     XF_SLOW_UNPARSED, {masq4(kUdp).arriving(qinq_encap(100, 10))}));
  return t;
}

std::vector<Fixture> pppoe_fixtures() {
  std::vector<Fixture> t;
  // The WAN is a PPPoE session: push on the way out, pop on the way in.
  t.push_back(redirected("pppoe_v4_pushed_out", udp4_in(lan_in()).build(),
                         masq4(kUdp).leaving(pppoe_encap(kSid)),
                         udp4_out(wan_out().pppoe(kSid)).build()));
  t.push_back(
      redirected("pppoe_v4_popped_in",
                 wan_in().pppoe(kSid).ipv4(kServer4, kGwWan4).tcp(53, 61000).payload(300).build(),
                 reply4(kTcp).arriving(pppoe_encap(kSid)),
                 lan_out().ipv4(kServer4, kClient4, kTtl63).tcp(53, 40000).payload(300).build())
          .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  t.push_back(redirected("pppoe_v6_pushed_out", tcp6_in(lan_in()).build(),
                         masq6(kTcp).leaving(pppoe_encap(kSid)),
                         tcp6_out(wan_out().pppoe(kSid)).build()));
  t.push_back(
      redirected("pppoe_v6_popped_in",
                 wan_in().pppoe(kSid).ipv6(kServer6, kGwWan6).udp(53, 61000).payload(9).build(),
                 reply6(kUdp).arriving(pppoe_encap(kSid)),
                 lan_out().ipv6(kServer6, kClient6, kHl63).udp(53, 40000).payload(9).build())
          .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  // PPPoE over a VLAN, as many ISPs do it.
  t.push_back(redirected("vlan_pppoe_pushed_out", udp4_in(lan_in()).build(),
                         masq4(kUdp).leaving(vlan_pppoe_encap(7, kSid)),
                         udp4_out(wan_out().vlan(7).pppoe(kSid)).build()));
  t.push_back(
      redirected(
          "vlan_pppoe_popped_in",
          wan_in().vlan(7).pppoe(kSid).ipv4(kServer4, kGwWan4).udp(53, 61000).payload(22).build(),
          reply4(kUdp).arriving(vlan_pppoe_encap(7, kSid)),
          lan_out().ipv4(kServer4, kClient4, kTtl63).udp(53, 40000).payload(22).build())
          .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  // The PPPoE length covers the IP packet + 2, never the Ethernet padding,
  // which is cut off as ip_rcv_core trims it (TC leaves padded frames to
  // the kernel).
  t.push_back(
      redirected(
          "pppoe_length_from_ip_not_padding",
          lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(1).pad_to(60).build(),
          masq4(kUdp).leaving(pppoe_encap(kSid)),
          // 43 bytes + 17 of padding in, 8 bytes of PPPoE pushed in front.
          wan_out().pppoe(kSid).ipv4(kGwWan4, kServer4, kTtl63).udp(61000, 53).payload(1).build())
          .tc_refuses(XF_SLOW_TRAILER));
  // A padded PPPoE frame coming in: the padding goes with the encapsulation.
  t.push_back(
      redirected(
          "pppoe_padded_frame_popped",
          wan_in().pppoe(kSid).ipv4(kServer4, kGwWan4).udp(53, 61000).payload(1).pad_to(64).build(),
          reply4(kUdp).arriving(pppoe_encap(kSid)),
          lan_out().ipv4(kServer4, kClient4, kTtl63).udp(53, 40000).payload(1).build())
          .tc_refuses(XF_SLOW_TRAILER));
  t.push_back(
      redirected(
          "vlan_pppoe_v6_popped_in_to_vlan",
          wan_in().vlan(7).pppoe(kSid).ipv6(kServer6, kGwWan6).tcp(53, 61000).payload(12).build(),
          reply6(kTcp).arriving(vlan_pppoe_encap(7, kSid)).leaving(vlan_encap(10)),
          lan_out().vlan(10).ipv6(kServer6, kClient6, kHl63).tcp(53, 40000).payload(12).build())
          .tc_refuses(XF_SLOW_TC_UNSUPPORTED));
  // The egress MTU is the session's (1492 here): IP length 1493 passes.
  t.push_back(passed("pppoe_push_mtu_exceeded",
                     lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(1465).build(),
                     XF_SLOW_MTU, {masq4(kUdp).leaving(pppoe_encap(kSid)).mtu(1492)}));
  t.push_back(redirected(
      "pppoe_push_exactly_at_mtu",
      lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(1464).build(),
      masq4(kUdp).leaving(pppoe_encap(kSid)).mtu(1492),
      wan_out().pppoe(kSid).ipv4(kGwWan4, kServer4, kTtl63).udp(61000, 53).payload(1464).build()));
  t.push_back(passed("pppoe_other_session_misses",
                     wan_in().pppoe(kSid + 1).ipv4(kServer4, kGwWan4).udp(53, 61000).build(),
                     XF_SLOW_NO_FLOW, {reply4(kUdp).arriving(pppoe_encap(kSid))}, Dev::kWan));
  t.push_back(passed("pppoe_lcp_not_ip", wan_in().pppoe(kSid).ppp_proto(0xc021).payload(20).build(),
                     XF_SLOW_NOT_IP, {}, Dev::kWan));
  t.push_back(passed("pppoe_discovery_not_ip", wan_in().ethertype(0x8863).payload(40).build(),
                     XF_SLOW_NOT_IP, {}, Dev::kWan));
  // The length field must cover the IP packet: the kernel trims the frame
  // to it (and then drops the short IP packet), so we may not forward.
  t.push_back(
      passed("pppoe_length_shorter_than_ip_unparsed",
             wan_in().pppoe(kSid, 30).ipv4(kServer4, kGwWan4).udp(53, 61000).payload(22).build(),
             XF_SLOW_UNPARSED, {reply4(kUdp).arriving(pppoe_encap(kSid))}, Dev::kWan));
  t.push_back(
      passed("pppoe_length_beyond_frame_unparsed",
             wan_in().pppoe(kSid, 200).ipv4(kServer4, kGwWan4).udp(53, 61000).payload(22).build(),
             XF_SLOW_UNPARSED, {reply4(kUdp).arriving(pppoe_encap(kSid))}, Dev::kWan));
  Bytes bad_version = wan_in().pppoe(kSid).ipv4(kServer4, kGwWan4).udp(53, 61000).build();
  bad_version[14] = 0x12;
  t.push_back(passed("pppoe_bad_version_unparsed", bad_version, XF_SLOW_UNPARSED,
                     {reply4(kUdp).arriving(pppoe_encap(kSid))}, Dev::kWan));
  Bytes bad_code = wan_in().pppoe(kSid).ipv4(kServer4, kGwWan4).udp(53, 61000).build();
  bad_code[15] = 0x09; // PADI code in a session frame
  t.push_back(passed("pppoe_nonzero_code_unparsed", bad_code, XF_SLOW_UNPARSED,
                     {reply4(kUdp).arriving(pppoe_encap(kSid))}, Dev::kWan));
  return t;
}

} // namespace

std::vector<Fixture> encap_fixtures() {
  std::vector<Fixture> t = vlan_fixtures();
  append(t, pppoe_fixtures());
  return t;
}

} // namespace xdpflow::testing
