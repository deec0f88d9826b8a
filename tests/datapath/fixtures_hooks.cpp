// What differs between the hooks: XF_FLOW_TC_ONLY (XDP hands the hit to the
// kernel stack, where TC forwards it through the egress qdisc), the TC
// hook's stale-clock refusal, and its egress-device MTU check.
#include <netinet/in.h>

#include "fixtures.h"

namespace xdpflow::testing {
namespace {

Bytes udp4_in() {
  return lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build();
}
Bytes udp4_out() {
  return wan_out().ipv4(kGwWan4, kServer4, {.ttl = 63}).udp(61000, 53).payload(22).build();
}

} // namespace

std::vector<Fixture> hook_fixtures() {
  std::vector<Fixture> t;
  const FlowSpec shaped = masq4(kUdp, 53).tc_only();
  t.push_back(passed("tc_only_flow_passed_by_xdp", udp4_in(), XF_SLOW_TO_TC, {shaped})
                  .only(Hooks::kXdpOnly));
  t.push_back(redirected("tc_only_flow_forwarded_by_tc", udp4_in(), shaped, udp4_out())
                  .only(Hooks::kTcOnly));
  const FlowSpec shaped6 = masq6(kTcp, 443).tc_only();
  t.push_back(
      redirected(
          "tc_only_v6_flow_forwarded_by_tc",
          lan_in().ipv6(kClient6, kServer6).tcp(40000, 443).payload(100).build(), shaped6,
          wan_out().ipv6(kGwWan6, kServer6, {.hop_limit = 63}).tcp(61000, 443).payload(100).build())
          .only(Hooks::kTcOnly));

  // The control plane last published 3 s ago (killed): TC refuses.
  Fixture stale = passed("stale_clock_refused", udp4_in(), XF_SLOW_STALE, {masq4(kUdp, 53)})
                      .only(Hooks::kTcOnly);
  stale.stale_clock = true;
  t.push_back(stale);

  // A flow MTU above the egress device's (1500): bpf_check_mtu refuses.
  t.push_back(passed("egress_device_mtu_exceeded",
                     lan_in().ipv4(kClient4, kServer4).udp(40000, 53).payload(1573).build(),
                     XF_SLOW_MTU, {masq4(kUdp, 53).mtu(9000)})
                  .only(Hooks::kTcOnly));
  return t;
}

} // namespace xdpflow::testing
