// A private network namespace for the calling process, with real devices the
// data-path tests can name as ingress and egress: PROG_TEST_RUN resolves
// xdp_md.ingress_ifindex and the devmap resolves its entries in the caller's
// namespace. The namespace is anonymous (unshare, never mounted), so it and
// its veths vanish with the process, even when a test crashes.
#pragma once

#include <cstdint>

namespace xdpflow::testing {

struct TestDevices {
  std::uint32_t lan = 0;   // xfdp-lan: the LAN side of the gateway
  std::uint32_t wan = 0;   // xfdp-wan: the WAN side
  std::uint32_t dmz = 0;   // xfdp-dmz: a third egress
  std::uint32_t spare = 0; // xfdp-spare: a real device never put in the devmap
};

// Moves the process into a fresh network namespace (once; later calls return
// the same devices) and creates two veth pairs there. Needs root; throws
// SysError/RuntimeError with the failing step.
const TestDevices &enter_private_netns();

} // namespace xdpflow::testing
