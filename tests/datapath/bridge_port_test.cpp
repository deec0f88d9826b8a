// A bridge port (core/attach_plan.h mac_of): `xdpflow attach br-lan` gives
// each port its bridge's MAC in xf_ifaces, since the hosts behind the
// bridge send to the bridge's MAC. On the port the kernel marks such a frame
// PACKET_OTHERHOST (the port's own MAC differs), so the TC hook must take
// it by that MAC, as XDP does; a frame for any other host stays on the
// kernel path in both hooks.
#include "core/flow_key.h"
#include "per_hook_test.h"

namespace xdpflow::testing {
namespace {

using BridgePortTest = PerHookTest;

const Mac kBridgeMac{0x02, 0, 0, 0, 0x0b, 0x01}; // not the LAN device's own

TEST_P(BridgePortTest, FramesForTheBridgesMacAreForwarded) {
  fp_->add_interface(dev_->lan, kBridgeMac);
  const FlowSpec f = masq4(kUdp, 53);
  xf_flow_value v{};
  v.action = f.action;
  v.action.egress_ifindex = dev_->wan;
  put_flow(fp_->flow_maps(), make_flow_key(dev_->lan, f.encap, f.tuple), v);
  fp_->publish_clock(monotonic_ns());

  const Bytes to_bridge = Packet()
                              .eth(kBridgeMac, kClientMac)
                              .ipv4(kClient4, kServer4)
                              .udp(40000, 53)
                              .payload(22)
                              .build();
  const XdpRun hit = run(to_bridge, dev_->lan);
  EXPECT_EQ(hit.verdict, redirect_verdict());
  EXPECT_EQ(hit.out,
            wan_out().ipv4(kGwWan4, kServer4, {.ttl = 63}).udp(61000, 53).payload(22).build());

  // Another host's frame seen by the (promiscuous) port: the kernel's.
  const Mac other{0x02, 0, 0, 0, 0x09, 0x09};
  const Bytes to_other =
      Packet().eth(other, kClientMac).ipv4(kClient4, kServer4).udp(40000, 53).payload(22).build();
  const XdpRun miss = run(to_other, dev_->lan);
  EXPECT_NE(miss.verdict, redirect_verdict());
  EXPECT_EQ(miss.out, to_other);
}

INSTANTIATE_TEST_SUITE_P(Hooks, BridgePortTest, ::testing::Values(XF_HOOK_XDP, XF_HOOK_TC),
                         hook_param_name);

} // namespace
} // namespace xdpflow::testing
