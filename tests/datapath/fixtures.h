// The data-path fixture table: each entry is one frame through the real XDP
// program, the flow entries and devmap installed first, and everything a
// user would check afterwards: the verdict, the whole output frame (built
// independently, checksums from scratch), the global counters and the hit
// flow's packets/bytes/last-seen.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/flow_key.h"
#include "packet_builder.h"
#include "xdpflow/flow.h"

namespace xdpflow::testing {

// Devices of the test namespace (see test_netns.h), named before they exist.
enum class Dev { kLan, kWan, kDmz, kSpare };

struct FlowSpec {
  Dev ingress = Dev::kLan;
  xf_encap encap{}; // ingress encapsulation, part of the key
  FlowTuple tuple;
  Dev egress = Dev::kWan;
  xf_flow_action action{}; // egress_ifindex is filled in from `egress`
  std::uint32_t flags = 0; // xf_flow_value.flags

  FlowSpec via(Dev out, const Mac &src_mac, const Mac &dst_mac, std::uint16_t mtu = 1500) const;
  FlowSpec snat(const std::string &addr, std::uint16_t port = 0) const; // port 0: keep
  FlowSpec dnat(const std::string &addr, std::uint16_t port = 0) const;
  FlowSpec snat_port(std::uint16_t port) const;
  FlowSpec dnat_port(std::uint16_t port) const;
  FlowSpec arriving(const xf_encap &e) const; // key encapsulation
  FlowSpec leaving(const xf_encap &e) const;  // egress encapsulation
  FlowSpec mtu(std::uint16_t mtu) const;
  FlowSpec tc_only() const; // XF_FLOW_TC_ONLY: a shaped egress
};

// One direction of a connection arriving on `in`, not yet routed.
FlowSpec flow(Dev in, std::uint8_t proto, const std::string &src, std::uint16_t sport,
              const std::string &dst, std::uint16_t dport);

xf_encap untagged();
xf_encap vlan_encap(std::uint16_t vid);
xf_encap qinq_encap(std::uint16_t outer, std::uint16_t inner, bool outer_8021ad = true);
xf_encap pppoe_encap(std::uint16_t sid);
xf_encap vlan_pppoe_encap(std::uint16_t vid, std::uint16_t sid);

// Which hooks a fixture runs through.
enum class Hooks { kBoth, kXdpOnly, kTcOnly };

struct Fixture {
  std::string name; // gtest parameter name: [A-Za-z0-9_]
  Hooks hooks = Hooks::kBoth;
  Dev ingress = Dev::kLan;
  Bytes in;
  std::vector<FlowSpec> flows;
  std::vector<Dev> devmap{Dev::kLan, Dev::kWan, Dev::kDmz};
  std::uint32_t verdict = 0; // XDP_PASS or XDP_REDIRECT, never DROP/ABORTED
  Bytes out;                 // the expected frame; XDP_PASS: the input, untouched
  int slow_reason = -1;      // XDP_PASS: the reason counted
  int hit_flow = -1;         // XDP_REDIRECT: the flow (index) whose counters advance
  bool redirect_error = false;
  // The TC hook refuses what XDP does (e.g. a shorter layer-2 header): it
  // passes the frame untouched with this reason instead.
  int tc_slow_reason = -1;
  bool stale_clock = false;    // the control plane last published 3 s ago
  bool short_headroom = false; // XDP: no room to grow the head (see xdp_runner.h)

  Fixture with_devmap(std::vector<Dev> devs) const;
  Fixture tc_refuses(int reason) const;
  Fixture only(Hooks h) const;
  Fixture also(const FlowSpec &f) const; // one more (non-matching) entry installed
};

// gtest prints parameters with this: the name, not 160 raw bytes.
void PrintTo(const Fixture &f, std::ostream *os);

// A frame the flow forwards: expected output `out`, flow counters advance.
Fixture redirected(std::string name, Bytes in, const FlowSpec &f, Bytes out);
// A frame the program hands to the kernel untouched, counted under `reason`.
Fixture passed(std::string name, Bytes in, int reason, std::vector<FlowSpec> flows = {},
               Dev ingress = Dev::kLan);

// Test addresses (198.18.0.0/15, 2001:2::/48) and MACs shared by the tables.
inline const std::string kClient4 = "198.18.0.2", kGwWan4 = "198.19.0.1", kServer4 = "198.19.0.2",
                         kDmzHost4 = "198.18.1.2";
inline const std::string kClient6 = "2001:2:0:1::2", kGwWan6 = "2001:2:0:2::1",
                         kServer6 = "2001:2:0:2::2", kDmzHost6 = "2001:2:0:3::2";
inline const Mac kClientMac{0x02, 0, 0, 0, 0x01, 0x02}, kGwLanMac{0x02, 0, 0, 0, 0x01, 0x01},
    kGwWanMac{0x02, 0, 0, 0, 0x02, 0x01}, kUpstreamMac{0x02, 0, 0, 0, 0x02, 0x02},
    kGwDmzMac{0x02, 0, 0, 0, 0x03, 0x01}, kDmzHostMac{0x02, 0, 0, 0, 0x03, 0x02};

inline constexpr std::uint8_t kTcp = 6, kUdp = 17;
inline constexpr std::uint16_t kSid = 0x1234; // the WAN's PPPoE session

// Frames on the gateway's links, layer 2 only: into the gateway from a side
// (client or upstream router) or out of it towards one.
Packet lan_in();
Packet lan_out();
Packet wan_in();
Packet wan_out();
Packet dmz_out();
// Routes a flow out of a side: egress, the gateway's MAC there, the next hop's.
FlowSpec to_wan(const FlowSpec &f);
FlowSpec to_lan(const FlowSpec &f);
FlowSpec to_dmz(const FlowSpec &f);
// The masqueraded connection most fixtures use: client:40000 -> server:dport
// from the LAN, SNAT to the gateway's WAN address, port 61000; and its reply
// direction from the WAN (server:53 -> gateway:61000, DNAT back).
FlowSpec masq4(std::uint8_t proto, std::uint16_t dport = 53);
FlowSpec masq6(std::uint8_t proto, std::uint16_t dport = 53);
FlowSpec reply4(std::uint8_t proto);
FlowSpec reply6(std::uint8_t proto);

void append(std::vector<Fixture> &to, const std::vector<Fixture> &more);

// The tables, one function per theme (fixtures_*.cpp).
std::vector<Fixture> hit_fixtures();
std::vector<Fixture> encap_fixtures();
std::vector<Fixture> refusal_fixtures();
std::vector<Fixture> malformed_fixtures();
std::vector<Fixture> kernel_check_fixtures(); // ip_rcv / ipv6_rcv refusals (issue 16)
std::vector<Fixture> hook_fixtures();         // TC and XDP specifics
std::vector<Fixture> all_fixtures();

} // namespace xdpflow::testing
